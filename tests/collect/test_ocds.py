"""OCDS parser on the real SEAO JSON excerpt and fixtures built from it (tests/data/ocds/PROVENANCE.md).

Golden files `<input>.expected.json` are compared; WATCHER_REGEN_GOLDEN=1 rewrites them after a
deliberate change (then review the diff).
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from watcher.collect import ocds
from watcher.errors import ParseError
from watcher.models import Bidder, Notice

DATA = Path(__file__).resolve().parent.parent / "data" / "ocds"
EXCERPT = DATA / "hebdo_20260914_20260920_excerpt.json"
FIXTURES = ["hebdo_20260914_20260920_excerpt.json", "package-republished.json", "record-package.json",
            "releases.jsonl", "truncated.json", "ocds10-tag-string.json"]


def _json(item) -> dict:
    if isinstance(item, ParseError):
        return {"kind": "ParseError", "position": item.position, "message": item.message}
    return {"kind": type(item).__name__, **json.loads(json.dumps(dataclasses.asdict(item), default=lambda v: v.isoformat()))}


def _parse(data: bytes, name: str = "test.json") -> list:
    return list(ocds.parse(io.BytesIO(data), name))


def _notices(items: list) -> dict[str, Notice]:
    return {n.id: n for n in items if isinstance(n, Notice)}


def _releases() -> tuple[dict, list[dict]]:
    package = json.loads(EXCERPT.read_text(encoding="utf-8"))
    return {k: v for k, v in package.items() if k != "releases"}, package["releases"]


@pytest.mark.parametrize("name", FIXTURES)
def test_golden(name: str) -> None:
    path = DATA / name
    got = [_json(x) for x in ocds.parse(path.open("rb"), name)]
    expected = DATA / (path.name.rsplit(".", 1)[0] + ".expected.json")
    if os.environ.get("WATCHER_REGEN_GOLDEN") == "1":
        expected.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert expected.exists(), f"{expected.name} missing: run with WATCHER_REGEN_GOLDEN=1"
    assert got == json.loads(expected.read_text(encoding="utf-8"))


def test_real_weekly_excerpt_with_bom() -> None:
    data = EXCERPT.read_bytes()
    items = _parse(ocds.BOM + data)
    assert items == _parse(data)  # the BOM of the published files changes nothing
    notices = _notices(items)
    assert len(items) == len(notices) == 54 and all(i.startswith("seao:") for i in notices)
    cancelled = [n for n in notices.values() if "annulé / cancelled" in n.notice_type]
    assert len(cancelled) == 4
    n = notices["seao:20169373"]
    assert n.notice_type == "tenderCancellation - annulé / cancelled - Avis d’appel d’offres régionalisé"
    assert (n.method, n.nature, n.categories, n.unspsc) == ("public", "goods", ("G8",), ("43231518", "43000000"))
    # SEAO's release date is the first publication; the release id is when it was cancelled (UTC).
    assert n.published_at == datetime.fromisoformat("2026-09-04T14:16:17-04:00")
    assert n.as_of == datetime(2026, 9, 15, 17, 32, 51, tzinfo=timezone.utc)


def test_contract_with_supplier_neq() -> None:
    n = _notices(_parse(EXCERPT.read_bytes()))["seao:20007385"]
    assert (n.buyer_name, n.buyer_id, n.municipal, n.reference) == ("Sûreté du Québec", "OP-81316", False, "AP-2026-2351-024-GG")
    assert (n.method, n.notice_type, n.awarded_on.isoformat()) == ("gre_a_gre", "contract - Contrat de gré à gré", "2026-08-17")
    assert n.bidders == (Bidder("FRANÇOIS GOUPIL DEVELOPPEMENT DE MARCHÉS INC.", "1166326976", None, True, 689237.1),)
    assert n.awarded_value == 689237.1
    assert n.url and n.url.startswith("https://seao.gouv.qc.ca/")


def test_bids_plain_array_tenderers_and_methods() -> None:
    notices = _notices(_parse(EXCERPT.read_bytes()))
    termination = notices["seao:20044797"]  # invitation, bids as a plain array, municipal buyer
    assert (termination.method, termination.municipal) == ("invitation", True)
    assert termination.bidders == (Bidder("Scellant d'asphalte Dolbeau-Mistassini", "1146462750", 36860.99, True, 36860.99),)
    group = notices["seao:20170025"]  # group purchase: one winner, one other tenderer
    assert group.method == "other"
    assert [(b.name, b.neq, b.winner) for b in group.bidders] == [
        ("RECYC-MATELAS INC.", "1164413685", True), ("Matt Canada", "1167224527", False)]
    assert notices["seao:20169579"].estimated_value == 99999.0  # the one release with tender.value
    assert {n.method for n in notices.values()} == {"public", "gre_a_gre", "invitation", "other"}
    # SEAO JSON publishes no delivery region: a town buys for its territory, read from the town's
    # address or name; any other buyer's delivery place stays unknown (never the buyer's seat).
    assert all(n.regions == () for n in notices.values() if not n.municipal)
    assert notices["seao:20170291"].regions == ("14",)  # « Ville de Mascouche. », no address: its name
    assert notices["seao:20170025"].regions == ("06",)  # Ville de Montréal, 255 boul. Crémazie E, H2M 1L5
    assert sum(bool(n.regions) for n in notices.values() if n.municipal) >= 18


def test_republished_notice_merged_latest_wins() -> None:
    items = list(ocds.parse((DATA / "package-republished.json").open("rb"), "p.json"))
    notices = _notices(items)
    assert len(items) == len(notices) == 2
    n = notices["seao:20169373"]  # the earlier version comes last in the file: it must not win
    assert "annulé / cancelled" in n.notice_type
    assert n.closing_at == datetime.fromisoformat("2026-09-15T13:32:51-04:00")


def test_merge_keeps_fields_only_an_earlier_release_has() -> None:
    meta, releases = _releases()
    later = copy.deepcopy(next(r for r in releases if r["ocid"] == "ocds-ec9k95-20169579"))
    earlier = copy.deepcopy(later)
    earlier["id"] = "20260908182243"
    del later["tender"]["value"]  # the update repeats no estimate: the merged state keeps it
    later["tender"]["title"] = "Titre modifié"
    data = json.dumps({**meta, "releases": [later, earlier]}).encode()
    [n] = _parse(data)
    stated = datetime.strptime(later["id"], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    assert (n.title, n.estimated_value, n.as_of) == ("Titre modifié", 99999.0, stated)


def test_record_package() -> None:
    notices = _notices(ocds.parse((DATA / "record-package.json").open("rb"), "r.json"))
    assert set(notices) == {"seao:20007385", "seao:20169373"}
    assert notices["seao:20007385"].bidders[0].neq == "1166326976"
    assert notices["seao:20007385"].notice_type == "Contrat de gré à gré"  # a compiled release has no stage tag
    assert "annulé / cancelled" in notices["seao:20169373"].notice_type  # embedded releases merged


def test_json_lines_single_release_and_array() -> None:
    _, releases = _releases()
    lines = list(ocds.parse((DATA / "releases.jsonl").open("rb"), "r.jsonl"))
    assert [n.id for n in lines] == [f"seao:{r['ocid'].rsplit('-', 1)[1]}" for r in releases[:5]]
    whole = _notices(_parse(EXCERPT.read_bytes()))
    assert all(n == whole[n.id] for n in lines)
    assert _parse(json.dumps(releases[7]).encode()) == [whole[f"seao:{releases[7]['ocid'].rsplit('-', 1)[1]}"]]
    assert [n.id for n in _parse(json.dumps(releases[:3]).encode())] == [n.id for n in lines[:3]]


def test_truncated_file_gives_notices_then_byte_position() -> None:
    path = DATA / "truncated.json"
    items = list(ocds.parse(path.open("rb"), "truncated.json"))
    assert len(_notices(items)) == 20 and all(isinstance(x, Notice) for x in items[:-1])
    error = items[-1]
    assert isinstance(error, ParseError) and error.position == path.stat().st_size == 48530
    assert "premature EOF" in error.message


def test_ocds_1_0_tag_string_other_publisher() -> None:
    [n] = list(ocds.parse((DATA / "ocds10-tag-string.json").open("rb"), "o.json"))
    assert (n.id, n.source, n.notice_type, n.buyer_id) == ("ocds:ocds-0example-20170025", "ocds", "award", "OP-36384")
    assert n.categories == () and n.nature == "other" and n.method == "public"  # no SEAO codes outside SEAO
    assert [(b.neq, b.winner, b.contract_amount) for b in n.bidders] == [("1164413685", True, 734690.25), ("1167224527", False, None)]


def test_bad_release_is_reported_and_parsing_goes_on() -> None:
    meta, releases = _releases()
    data = json.dumps({**meta, "releases": [{"id": "x", "tender": {}}, releases[0]]}).encode()
    items = _parse(data, "bad.json")
    assert isinstance(items[0], ParseError) and items[0].position == "release #1"
    assert isinstance(items[1], Notice)
    [empty] = _parse(b"", "empty.json")
    assert isinstance(empty, ParseError) and empty.position == 0


def test_release_id_that_is_no_real_time_is_reported_and_parsing_goes_on() -> None:
    """A SEAO release id is a UTC timestamp; one that is not a real time (hour 25) makes its notice
    a reported error, and the rest of the file is read (it used to stop the whole file)."""
    meta, releases = _releases()
    bad = copy.deepcopy(releases[0])
    bad["id"] = "20260915250000"
    good = next(r for r in releases if r["ocid"] != bad["ocid"])
    data = json.dumps({**meta, "releases": [bad, good]}).encode()
    items = _parse(data, "bad-stamp.json")
    errors = [i for i in items if isinstance(i, ParseError)]
    assert len(errors) == 1 and bad["ocid"] in errors[0].message and "hour" in errors[0].message
    assert len(_notices(items)) == 1 and _notices(_parse(json.dumps({**meta, "releases": [good]}).encode())) == _notices(items)


def test_unseekable_stream() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            chunk = self.inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    data = (DATA / "package-republished.json").read_bytes()
    assert list(ocds.parse(io.BufferedReader(Pipe(data)), "p.json")) == _parse(data, "p.json")


def test_sniff_and_regions() -> None:
    assert ocds.sniff(ocds.BOM + EXCERPT.read_bytes()[:2048], "hebdo.json")
    assert ocds.sniff((DATA / "releases.jsonl").read_bytes()[:2048], "x.jsonl")
    assert not ocds.sniff(b'"title-titre-eng","title-titre-fra"', "x.csv")
    assert not ocds.sniff(b"<?xml version='1.0'?><export>", "x.xml")
    cases = {"06": "06", "6": "06", "06 - Montréal": "06", "Montérégie (16)": "16", "Saguenay–Lac-Saint-Jean": "02",
             "gaspésie - îles-de-la-madeleine": "11", "QC": None, "Québec": None, "19": None, "": None}
    assert {k: ocds.region_code(k) for k in cases} == cases


def test_delivery_regions_when_published() -> None:
    meta, releases = _releases()
    release = copy.deepcopy(releases[4])
    release["tender"]["items"][0]["deliveryAddresses"] = [{"region": "Montérégie"}, {"region": "QC"}]
    release["tender"]["items"][0]["deliveryLocation"] = {"description": "13 - Laval"}
    [n] = _parse(json.dumps({**meta, "releases": [release]}).encode())
    assert n.regions == ("13", "16")


def test_contract_period_from_contracts_awards_or_tender() -> None:
    from datetime import date

    from watcher.collect.ocds_fields import contract_period

    # The real contractTermination of the excerpt: the contract's period says when it really ended.
    [termination] = [r for r in _releases()[1] if r["ocid"] == "ocds-ec9k95-20044797"]
    assert contract_period(termination) == (None, date(2026, 9, 9))
    # The standard's other places, in order: contracts, then awards' contractPeriod, then the tender's.
    award = {"status": "active", "contractPeriod": {"startDate": "2025-01-01T00:00:00-05:00", "endDate": "2027-12-31"}}
    tender = {"contractPeriod": {"startDate": "2024-04-01", "durationInDays": 365}}
    assert contract_period({"awards": [award], "tender": tender}) == (date(2025, 1, 1), date(2027, 12, 31))
    assert contract_period({"tender": tender}) == (date(2024, 4, 1), date(2025, 4, 1))
    cancelled = {"status": "cancelled", "period": {"endDate": "2030-01-01"}}
    assert contract_period({"contracts": [cancelled], "awards": [award]})[1] == date(2027, 12, 31)
    # Nothing usable: nothing invented.
    assert contract_period({"tender": {"contractPeriod": {"endDate": "soon", "durationInDays": True}}}) == (None, None)
    assert contract_period({}) == (None, None)


def test_municipality_region_from_address_or_name() -> None:
    from watcher.collect.places import municipality_region

    assert municipality_region("Ville de Mascouche.", {}) == "14"
    assert municipality_region("Ville de Montréal", {"locality": "Montréal", "postalCode": "H2M1L5", "countryName": "CAN"}) == "06"
    # An address in Québec that tells no single region, and a name that is no known town: unknown.
    assert municipality_region("Municipalité de Saint-Denis-de-Brompton .",
                               {"locality": "Saint-Denis-de-Brompton", "postalCode": "J0B2P0"}) is None
    assert municipality_region("Régie intermunicipale de l'Est", {}) is None
    assert municipality_region("Ville de Québec", {}) == "03"  # the city, not the province
