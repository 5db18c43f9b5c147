"""Rebuild openTenderNotice-excerpt.csv from the shared 40-row sample (see PROVENANCE.md).

Run from the repository root: python tests/data/canadabuys/build_excerpt.py
The selected records are copied byte for byte (header line included); a UTF-8 BOM is put in
front, as the published CanadaBuys files have one and the sample has lost it.
"""

import csv
import io
from pathlib import Path

SOURCE = Path("/work/shared/data/canadabuys/openTenderNotice-sample-40rows.csv")
OUT = Path(__file__).with_name("openTenderNotice-excerpt.csv")
# Sample rows (0-based, header excluded) chosen for their quirks: 13 "Competitive - Traditional"
# with a notice URL; 19 two categories (*SRV, *GD); 26 *SRVTGD; 30 delivery "Quebec (except NCR)";
# 34 22 UNSPSC codes in one cell; 35 advance contract award notice; 36 delivery "Montréal",
# "Edmonton"; 37 "Competitive - Selective tendering".
ROWS = (13, 19, 26, 30, 34, 35, 36, 37)


def main() -> None:
    raw = SOURCE.read_bytes()
    lines = raw.decode("utf-8").split("\n")
    reader = csv.reader(io.StringIO(raw.decode("utf-8"), newline=""))
    next(reader)
    spans, start = [], reader.line_num
    for _ in reader:
        spans.append((start, reader.line_num))  # physical lines [start, end) of each record
        start = reader.line_num
    kept = [lines[0]] + [line for i in ROWS for line in lines[spans[i][0]:spans[i][1]]]
    OUT.write_bytes(b"\xef\xbb\xbf" + "\n".join(kept).encode("utf-8") + b"\n")


if __name__ == "__main__":
    main()
