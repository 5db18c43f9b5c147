"""Build a long SEAO XML history from the real files: copies under new ids, real text (synthetic, says so).

The 24 real monthly files of demo/seao (5,979 notices, 2018-2019) are copied `factor` times.
Copy k keeps every record byte for byte except: `<numeroseao>` + k × 10,000,000 (a new notice
id, `seao:<n>`), and every date (and the file's `datedebut`/`datefin`) moved back 4 × (k mod 5)
years (multiples of 4 keep 29 February valid; `1900-01-01`, SEAO's empty date, is left alone).
So the history spans 2002-2019 with each month 1/5 of `factor` times as dense as the real one;
buyers, bidders (NEQs), amounts, titles, categories and regions are the real ones.

    python benchmarks/make_history.py /tmp/history-60k --factor 10     # 59,790 notices
    python benchmarks/make_history.py /tmp/history-600k --factor 100   # 597,900 notices
"""

from __future__ import annotations

import argparse
import gzip
import re
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "demo" / "seao"
ID_STEP = 10_000_000
_ID = re.compile(rb"<numeroseao>(\d+)</numeroseao>")
_DATE = re.compile(rb"(?<![0-9])((?:19|20)[0-9][0-9])(-[0-9][0-9]-[0-9][0-9])")
_NAME = re.compile(r"(\d{4})(\d{4})_(\d{4})(\d{4})")


def copy_bytes(raw: bytes, k: int) -> bytes:
    """One real file as copy k: new ids, dates moved back 4 × (k mod 5) years."""
    years = 4 * (k % 5)
    raw = _ID.sub(lambda m: b"<numeroseao>%d</numeroseao>" % (int(m[1]) + k * ID_STEP), raw)
    if years:
        raw = _DATE.sub(lambda m: m[0] if m[0] == b"1900-01-01" else b"%d%s" % (int(m[1]) - years, m[2]), raw)
    return raw


def make_history(folder: str | Path, factor: int, source: Path = DEMO) -> list[Path]:
    """Write the copies as .xml.gz files (the importer reads them as they come); returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    originals = sorted(source.glob("AvisRevisions_*.xml*"))
    written = []
    for path in originals:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as stream:
            raw = stream.read()
        for k in range(factor):
            years = 4 * (k % 5)
            name = _NAME.sub(lambda m: f"{int(m[1]) - years}{m[2]}_{int(m[3]) - years}{m[4]}", path.name.split(".")[0])
            out = folder / f"{name}-copy{k:03d}.xml.gz"
            with gzip.open(out, "wb", compresslevel=1) as dest:
                dest.write(copy_bytes(raw, k))
            written.append(out)
    return written


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder")
    p.add_argument("--factor", type=int, default=10, help="copies of the 2018-2019 files (10: ~60k notices)")
    args = p.parse_args()
    paths = make_history(args.folder, args.factor)
    size = sum(p.stat().st_size for p in paths) / 1024 / 1024
    print(f"{args.folder}: {len(paths)} files, {size:.0f} MB gzipped (synthetic: the real 2018-2019 files copied "
          f"{args.factor} times under new ids, dates moved back 0-16 years)")


if __name__ == "__main__":
    main()
