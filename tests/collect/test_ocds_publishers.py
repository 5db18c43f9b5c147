"""Any OCDS publisher (issue 14): real releases of five publishers in English, Spanish and Romanian
(tests/data/ocds/publishers/README.md says where each comes from and what each leaves empty).

Golden files `<input>.expected.json`; WATCHER_REGEN_GOLDEN=1 rewrites them after a deliberate change.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from pathlib import Path

import pytest

from watcher.collect import detect_stream, ocds
from watcher.errors import ParseError
from watcher.models import Code, Contact, Notice

DATA = Path(__file__).resolve().parent.parent / "data" / "ocds" / "publishers"
FILES = sorted(p.name for p in DATA.glob("*.json") if not p.name.endswith(".expected.json"))


def _json(item) -> dict:
    if isinstance(item, ParseError):
        return {"kind": "ParseError", "position": item.position, "message": item.message}
    return {"kind": type(item).__name__, **json.loads(json.dumps(dataclasses.asdict(item), default=lambda v: v.isoformat()))}


def _one(name: str) -> Notice:
    [notice] = list(ocds.parse((DATA / name).open("rb"), name))
    assert isinstance(notice, Notice), notice
    return notice


@pytest.mark.parametrize("name", FILES)
def test_golden(name: str) -> None:
    got = [_json(x) for x in ocds.parse((DATA / name).open("rb"), name)]
    expected = DATA / (name.rsplit(".", 1)[0] + ".expected.json")
    if os.environ.get("WATCHER_REGEN_GOLDEN") == "1":
        expected.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert got == json.loads(expected.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", FILES)
def test_every_release_has_what_it_states(name: str) -> None:
    """Title (never the ocid alone), buyer, currency beside any value, closing date and codes when given."""
    raw = json.loads((DATA / name).read_text(encoding="utf-8"))
    release = (raw.get("releases") or [r.get("compiledRelease") for r in raw.get("records", [])] or [raw])[0]
    n = _one(name)
    assert n.title and n.title != release["ocid"] and release["ocid"] not in n.title.split(" — ")[0]
    assert n.buyer_name and n.id == f"ocds:{release['ocid']}"
    tender = release.get("tender", {})
    if (tender.get("value") or {}).get("amount") not in (None, ""):
        assert n.estimated_value == float(tender["value"]["amount"]) and n.currency == tender["value"]["currency"]
    if (tender.get("tenderPeriod") or {}).get("endDate"):
        assert n.closing_at is not None
    if (tender.get("classification") or {}).get("id"):
        assert Code(tender["classification"]["scheme"].upper(), tender["classification"]["id"],
                    tender["classification"].get("description", "")) in n.codes
    assert n.regions and all(r not in ("QC", "CA") for r in n.regions)  # foreign publishers are outside Québec


def test_publisher_specifics() -> None:
    uk = _one("gb-contractsfinder-release.json")
    assert (uk.currency, uk.estimated_value, uk.regions) == ("GBP", 175_000_000.0, ("GB",))  # "South East", UK
    assert uk.codes == (Code("CPV", "45000000", "Construction work"),) and uk.nature == "construction"
    assert uk.contacts == (Contact("", "molly.morgan@placesforpeople.co.uk", "+4401772897200"),)
    co = _one("co-secop-release.json")  # the title is a contract number: built from the item instead
    assert (co.title, co.title_built, co.currency, co.regions) == ("Servicios de personal temporal", True, "COP", ("CO",))
    assert co.codes == ()  # its UNSPSC classification has no id
    mx = _one("mx-cdmx-release-package.json")
    assert (mx.currency, mx.estimated_value, mx.method) == ("MXN", 1471566.72, "invitation")
    assert all(b.contract_amount is None for b in mx.bidders)  # the award is in USD: not an MXN amount
    assert mx.contacts[0] == Contact("MIGUEL ANGEL VIDAL FRANCO", "mvidal@finanzas.df.gob.mx", "5134-2500")
    py, py10 = _one("py-dncp-record-package.json"), _one("py-dncp-release-package-1.0.json")
    assert py.title == py10.title == "Adquisición de Scanner" and py.contacts == py10.contacts
    assert py.currency == "PYG" and py.estimated_value is None and py.bidders[0].contract_amount == 135630400
    md = _one("md-ppa-release.json")
    assert (md.currency, md.estimated_value, md.regions) == ("", None, ("MD",))  # nothing stated, nothing invented


def test_multilingual_fields_and_titles_never_the_ocid():
    release = {"ocid": "ocds-xyz-1", "id": "1", "date": "2026-01-05T10:00:00Z", "tag": ["tender"],
               "buyer": {"name_en": "City of Ottawa", "name_fr": "Ville d'Ottawa"},
               "tender": {"id": "T-1", "title": "", "items": [{"id": "1"}]}}
    [n] = ocds.parse(io.BytesIO(json.dumps(release).encode()), "x.json")
    assert n.buyer_name == "Ville d'Ottawa" and n.title == "Ville d'Ottawa — T-1" and n.title_built
    release["tender"]["lots"] = [{"id": "L1", "title_es": "Limpieza de oficinas"}]
    [n] = ocds.parse(io.BytesIO(json.dumps(release).encode()), "x.json")
    assert n.title == "Limpieza de oficinas" and n.title_built


def test_format_found_past_a_long_publisher_block():
    """The sniffer reads on to the first release, not a fixed 4 KB window."""
    package = json.loads((DATA / "mx-cdmx-release-package.json").read_text(encoding="utf-8"))
    padded = {"uri": package["uri"], "publisher": package["publisher"],
              "extensions": [f"https://example.org/extension-{i}/extension.json" for i in range(200)],
              "releases": package["releases"]}
    data = json.dumps(padded).encode()
    assert data.index(b'"releases"') > 4096 and data.index(b'"ocid"') > 4096
    assert not ocds.sniff(data[:4096], "x.json")
    stream = io.BytesIO(b"\xef\xbb\xbf" + data)
    assert detect_stream(stream, "x.json") == "ocds" and stream.tell() == 0
    assert detect_stream(io.BytesIO(b'{"type": "FeatureCollection", "features": []}'), "x.json") is None
    assert detect_stream(io.BytesIO(data[:data.index(b'"releases"')]), "x.json") is None  # cut before any release


def test_a_real_gbp_value_is_not_judged_as_dollars():
    from watcher.match.verdict import notice_facts
    from watcher.rules.thresholds import load_thresholds

    thresholds = load_thresholds(Path(__file__).resolve().parents[2] / "rules" / "thresholds.toml")
    facts = notice_facts(_one("gb-contractsfinder-release.json"), thresholds)
    assert facts.value is None and not facts.estimated and "GBP" in facts.basis_en
