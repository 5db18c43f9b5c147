"""Import files into a fresh store and dump every table, to check that a change to the import
path stores exactly the same values (run before and after, then `diff` the two dumps).

    python benchmarks/import_dump.py out.txt [--pg] PATH...

The run's clock is fixed (first_seen, updated_at, recorded_at), so two runs compare equal. The
files are imported twice: the second pass goes through the unchanged / stale / updated paths.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402

from watcher import app  # noqa: E402
from watcher.store import open_store, repo  # noqa: E402
from watcher.store.schema import metadata  # noqa: E402

PG = os.environ.get("WATCHER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FIXED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


class _Clock(datetime):
    """datetime with a fixed now(): the run's time stamps compare equal between runs."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return FIXED if tz is not None else FIXED.replace(tzinfo=None)


def dump(url: str, paths: list[str], out) -> None:
    repo.datetime = _Clock  # type: ignore[misc, assignment]
    engine = open_store(url)
    for run in (1, 2):
        report = app.import_paths(engine, paths)
        out.write(f"# run {run}: {report!r}\n")
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = conn.execute(select(table)).all()
            out.write(f"## {table.name}: {len(rows)} rows\n")
            for r in sorted(rows, key=repr):
                out.write(repr(tuple(r)) + "\n")
    engine.dispose()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--pg", action="store_true", help="PostgreSQL (schema import_dump, dropped after)")
    p.add_argument("paths", nargs="+")
    args = p.parse_args()
    with open(args.out, "w", encoding="utf-8") as out:
        if args.pg:
            engine = create_engine(PG)
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS import_dump CASCADE"))
                conn.execute(text("CREATE SCHEMA import_dump"))
            try:
                dump(f"{PG}?options=-csearch_path%3Dimport_dump", args.paths, out)
            finally:
                with engine.begin() as conn:
                    conn.execute(text("DROP SCHEMA IF EXISTS import_dump CASCADE"))
                engine.dispose()
        else:
            db = Path(args.out).with_suffix(".db")
            db.unlink(missing_ok=True)
            dump(f"sqlite:///{db}", args.paths, out)
            db.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
