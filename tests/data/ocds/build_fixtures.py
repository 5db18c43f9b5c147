"""Rebuild the derived OCDS fixtures from the real SEAO excerpt (see PROVENANCE.md).

Run from the repository root: python tests/data/ocds/build_fixtures.py
Every derived file is built from releases of hebdo_20260914_20260920_excerpt.json; what is
changed is listed here and in PROVENANCE.md.
"""

import copy
import json
from pathlib import Path

HERE = Path(__file__).parent
SOURCE = HERE / "hebdo_20260914_20260920_excerpt.json"


def dump(path: str, obj) -> None:
    (HERE / path).write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    raw = SOURCE.read_bytes()
    package = json.loads(raw.decode("utf-8-sig"))
    meta = {k: v for k, v in package.items() if k != "releases"}
    by_ocid = {r["ocid"]: r for r in package["releases"]}
    cancelled = by_ocid["ocds-ec9k95-20169373"]  # the real tenderCancellation
    update = by_ocid["ocds-ec9k95-20169353"]  # a real tenderUpdate
    contract = by_ocid["ocds-ec9k95-20007385"]  # a real contract with a supplier NEQ
    group = by_ocid["ocds-ec9k95-20170025"]  # a group purchase, one winner, two tenderers

    # 1. The same notice twice in one release package (SEAO republishes): an earlier version of
    # the real cancellation (built: tag tender, status active, release id = its publication time),
    # placed AFTER the real one in the file, so that order of reading is not what decides.
    earlier = copy.deepcopy(cancelled)
    earlier.update(id="20260904181617", tag=["tender"])
    earlier["tender"]["status"] = "active"
    earlier["tender"]["tenderPeriod"]["endDate"] = "2026-09-25T13:30:00-04:00"
    dump("package-republished.json", {**meta, "releases": [cancelled, update, earlier]})

    # 2. A record package: one record with a compiledRelease (the real contract release used as
    # its own compiled release), one record with two embedded releases (the two versions above).
    compiled = copy.deepcopy(contract)
    compiled.update(id=f"{contract['ocid']}-{contract['date']}", tag=["compiled"])
    dump("record-package.json", {**meta, "records": [
        {"ocid": contract["ocid"], "releases": [{"url": SOURCE.name + "#" + contract["id"], "date": contract["date"],
                                                  "tag": contract["tag"]}], "compiledRelease": compiled},
        {"ocid": cancelled["ocid"], "releases": [earlier, cancelled]},
    ]})

    # 3. JSON lines: the first 5 real releases, one a line, unchanged.
    lines = [json.dumps(r, ensure_ascii=False) for r in package["releases"][:5]]
    (HERE / "releases.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    # 4. A truncated download: the real file cut in the middle of its 21st release.
    cut = raw.index(b'"ocid": "' + package["releases"][20]["ocid"].encode()) + 400
    (HERE / "truncated.json").write_bytes(raw[:cut])

    # 5. OCDS 1.0 shape from another publisher: the real group-purchase release, reshaped by hand
    # as a 1.0 release: `tag` a string, no `parties` (1.0 had none; names and NEQ move into
    # `buyer` and supplier `identifier`s), ocid prefix replaced by an illustrative non-SEAO one.
    old = copy.deepcopy(group)
    old["ocid"] = "ocds-0example-" + group["ocid"].rsplit("-", 1)[1]
    old["tag"] = "award"
    parties = {p["id"]: p for p in old.pop("parties")}
    old["buyer"] = {"name": old["buyer"]["name"], "identifier": {"scheme": "SEAO-OP", "id": old["buyer"]["id"]}}
    for award in old["awards"]:
        award["suppliers"] = [{"name": s["name"], "identifier": {"scheme": "CA-QC-NEQ", "id": parties[s["id"]]["details"]["neq"]}}
                              for s in award["suppliers"]]
    old["tender"].pop("procurementMethodDetails")
    old["tender"].pop("mainProcurementCategory")
    old["tender"]["tenderers"] = [{"name": t["name"], "identifier": {"scheme": "CA-QC-NEQ", "id": parties[t["id"]]["details"]["neq"]}}
                                  for t in old["tender"]["tenderers"]]
    dump("ocds10-tag-string.json", {"uri": "https://example.invalid/ocds10", "version": "1.0",
                                    "publishedDate": meta["publishedDate"], "publisher": {"name": "Illustrative 1.0 publisher"},
                                    "releases": [old]})


if __name__ == "__main__":
    main()
