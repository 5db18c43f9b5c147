"""Build a SEAO-shaped JSON weekly file of a given size from the real excerpt (synthetic, says so).

SEAO's weekly `hebdo_*.json` files reach 40 MB; the excerpt we keep (../shared/data/seao-ocds,
copied to tests/data/ocds) holds 54 real releases. This repeats those releases with new ocids
(and matching ids inside), in a seeded random order, inside the real package header, UTF-8 with
a BOM like the published files, until the target size is reached.

    python benchmarks/make_ocds_weekly.py /tmp/hebdo-40mb.json --mb 40
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

EXCERPT = Path(__file__).resolve().parent.parent / "tests" / "data" / "ocds" / "hebdo_20260914_20260920_excerpt.json"


def make_weekly(path: str | Path, target_bytes: int, seed: int = 0) -> int:
    """Write the file; returns the number of releases written."""
    package = json.loads(EXCERPT.read_text(encoding="utf-8-sig"))
    releases = package.pop("releases")
    rng = random.Random(seed)
    head = json.dumps(package, ensure_ascii=False)[:-1] + ', "releases": [\n'
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write("\ufeff" + head)
        size = len(head.encode())
        copy = 0
        while size < target_bytes:
            copy += 1
            for release in rng.sample(releases, len(releases)):
                text = json.dumps(release, ensure_ascii=False)
                ocid = release["ocid"]
                text = text.replace(ocid, f"{ocid}-synth{copy:05d}")  # new ocid, and ids derived from it
                sep = ",\n" if written else ""
                out.write(sep + text)
                size += len((sep + text).encode())
                written += 1
                if size >= target_bytes:
                    break
        out.write("\n]}\n")
    return written


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("path")
    p.add_argument("--mb", type=float, default=40.0)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    n = make_weekly(args.path, int(args.mb * 1024 * 1024), args.seed)
    print(f"{args.path}: {n} releases (synthetic: the 54 real releases of the excerpt repeated with new ocids), "
          f"{Path(args.path).stat().st_size / 1024 / 1024:.1f} MB")


if __name__ == "__main__":
    main()
