"""Every command on a long history: 10× (60k notices) or 100× (600k) the real 2018-2019 set.

    python benchmarks/scale.py --factor 10 --store sqlite        # or postgresql, or both (default)

The history comes from make_history.py (the real files copied under new ids, dates moved back).
Each command runs as a child process, as a user runs it, with the repository's rules (5 real
profiles): its wall time, CPU time and own peak RSS (/usr/bin/time -v) are printed. `match` is
run twice: the second run, with nothing new, must judge 0 pairs (counted in-process after it).
`digest --preview --at published` replays the whole history (every match ever, buyer leads).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from make_history import make_history  # noqa: E402
from measure import ROOT, measured  # noqa: E402

PG = os.environ.get("WATCHER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
COMMANDS = (("import", ["import", "{history}"]), ("match (first run)", ["match", "--json"]),
            ("match (nothing new)", ["match", "--json"]),
            ("digest --preview --at published", ["digest", "--preview", "{preview}", "--at", "published"]),
            ("notices --json", ["notices", "--json"]))


def run_scale(factor: int, store: str, tmp: Path, history: Path | None = None,
              report=print) -> dict[str, tuple[float, float, float]]:
    """Figures per command: {name: (wall s, CPU s, peak MB)}; `report(name, figure)` is called for each."""
    from sqlalchemy import create_engine, text

    from watcher import app
    from watcher.config import load_config
    from watcher.store import open_store

    if history is None:
        history = tmp / f"history-{factor}x"
        if not history.exists():
            make_history(history, factor)
    schema = f"bench_scale_{factor}"
    if store == "sqlite":
        url = f"sqlite:///{tmp / f'scale-{factor}.db'}"
        Path(url[len("sqlite:///"):]).unlink(missing_ok=True)
    else:
        admin = create_engine(PG)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = f"{PG}?options=-csearch_path%3D{schema}"
    config = tmp / f"scale-{store}.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[paths]\nrules = "{ROOT / "rules"}"\ntemplates = "{ROOT / "templates"}"\n'
                      f'sources = "{ROOT / "sources"}"\n', encoding="utf-8")
    figures = {}
    for name, args in COMMANDS:
        args = [a.format(history=history, preview=tmp / f"preview-{store}-{factor}") for a in args]
        figures[name] = measured([sys.executable, "-m", "watcher.cli", "--config", str(config), *args])
        wall, cpu, peak = figures[name]
        extra = ""
        if name == "match (nothing new)":
            cfg = load_config(config)
            engine = open_store(cfg.database_url)
            extra = f"; then judged again: {app.refresh_verdicts(engine, app.load_rulebook(cfg))} pairs"
            engine.dispose()
        report(name, f"{wall:.1f} s, CPU {cpu:.1f} s, peak RSS {peak:.0f} MB{extra}")
    if store != "sqlite":
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()
    return figures


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--factor", type=int, default=10)
    p.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--history", type=Path, help="an existing make_history.py folder (else made in a temp folder)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for store in ("sqlite", "postgresql") if args.store == "both" else (args.store,):
            started = time.perf_counter()
            print(f"{store}, {args.factor}x the 2018-2019 set ({args.factor * 5979:,} notices):", flush=True)
            run_scale(args.factor, store, Path(folder), args.history,
                      report=lambda name, figure: print(f"  {name}: {figure}", flush=True))
            print(f"  ({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
