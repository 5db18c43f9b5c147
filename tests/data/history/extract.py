"""Rebuild the excerpts of this folder from the SEAO XML files (see PROVENANCE.md).

Usage: python tests/data/history/extract.py [SEAO_XML_DIR]   (default ../shared/data/seao-xml)

Each <avis> record is copied byte for byte (no re-serialisation) into a file named after its
source file, under that file's own <export> root, so the period (datefin) a parser reads is kept.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Cleaning purchases of four buyers (Kamouraska school board, Saguenay, Rimouski, Pays-des-Bleuets
# school board), the other bids of Chaîne de Travail Adapté CTA Inc. and of Coop de travail SEMPI.
CHOSEN = """
1164404 1164437 1164457 1164489 1164511 1164525 1164563 1164578 1164604 1164612 1164622 1164637 1164642 1268954
1045262 1045265 1054505 1069539 1069544 1069547 1069550 1069588 1164496
744865 1048170 1060453 1214130 1216090 1250655 1252614
1102672 1116924
""".split()
CONTRAST = 25  # other notices, drawn with a fixed seed, for the "whole history" of keyword statistics
AVIS = re.compile(r"  <avis>\r?\n.*?</avis>\r?\n", re.S)


def main(folder: Path) -> None:
    files = sorted(folder.glob("AvisRevisions_201[89]*.xml"))
    records: dict[Path, list[tuple[str, str]]] = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        records[path] = [(re.search(r"<numeroseao>(\d+)</numeroseao>", m.group(0)).group(1), m.group(0))
                         for m in AVIS.finditer(text)]
    others = sorted({i for recs in records.values() for i, r in recs
                     if i not in CHOSEN and "entretien" not in r.lower() and "<fournisseur>" in r})
    picked = set(CHOSEN) | set(random.Random(2018).sample(others, CONTRAST))
    for old in HERE.glob("AvisRevisions_*.xml"):
        old.unlink()
    for path, recs in records.items():
        keep = [r for i, r in recs if i in picked]
        if keep:
            text = path.read_text(encoding="utf-8")
            head = text[: text.index("<avis>")].rstrip(" ")
            (HERE / path.name).write_text(head + "".join(keep) + "</export>\n", encoding="utf-8")
            print(path.name, len(keep))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / ".." / "shared" / "data" / "seao-xml")
