"""CanadaBuys tender notice CSV on 8 real rows (tests/data/canadabuys/PROVENANCE.md).

Golden file `<input>.expected.json`: WATCHER_REGEN_GOLDEN=1 rewrites it after a deliberate change.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from watcher.collect import canadabuys
from watcher.errors import ParseError
from watcher.models import Code, Contact, Notice

DATA = Path(__file__).resolve().parent.parent / "data" / "canadabuys"
EXCERPT = DATA / "openTenderNotice-excerpt.csv"
EASTERN = ZoneInfo("America/Toronto")


def _json(item) -> dict:
    if isinstance(item, ParseError):
        return {"kind": "ParseError", "position": item.position, "message": item.message}
    return {"kind": type(item).__name__, **json.loads(json.dumps(dataclasses.asdict(item), default=lambda v: v.isoformat()))}


def _notices(options: dict | None = None, data: bytes | None = None) -> dict[str, Notice]:
    items = list(canadabuys.parse(io.BytesIO(data if data is not None else EXCERPT.read_bytes()), "x.csv", options))
    assert not [x for x in items if isinstance(x, ParseError)]
    return {n.id: n for n in items}


def test_golden() -> None:
    got = [_json(x) for x in canadabuys.parse(EXCERPT.open("rb"), EXCERPT.name)]
    expected = DATA / "openTenderNotice-excerpt.expected.json"
    if os.environ.get("WATCHER_REGEN_GOLDEN") == "1":
        expected.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert expected.exists(), f"{expected.name} missing: run with WATCHER_REGEN_GOLDEN=1"
    assert got == json.loads(expected.read_text(encoding="utf-8"))


def test_bom_header_and_all_rows() -> None:
    raw = EXCERPT.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    notices = _notices()
    assert len(notices) == 8 and all(n.source == "canadabuys" for n in notices.values())
    assert _notices(data=raw[3:]) == notices  # with or without the BOM


def test_star_codes_and_multi_value_cells() -> None:
    notices = _notices()
    many = notices["canadabuys:cb-858-67519617"]  # 22 UNSPSC codes in one cell, "*"-prefixed
    assert len(many.unspsc) == 22 and all(c.isdigit() and len(c) == 8 for c in many.unspsc)
    assert many.unspsc[:2] == ("13100000", "24101700")
    assert notices["canadabuys:MX-444099575427"].nature == "services"  # "*SRV\n*GD": the first one
    assert notices["canadabuys:SSC-25-00031252:T"].nature == "services"  # *SRVTGD
    assert notices["canadabuys:cb-6-70690140"].regions == ("06", "CA-AB")  # "*Montréal\n*Edmonton"
    assert notices["canadabuys:SSC-26-00034375:T"].regions == ("QC",)  # "*Quebec (except NCR)"


def test_methods() -> None:
    methods = {i: n.method for i, n in _notices().items()}
    assert methods["canadabuys:MX-443728062417"] == "public"  # Competitive - Traditional
    assert methods["canadabuys:cb-902-90074001"] == "gre_a_gre"  # Advance contract award notice
    assert methods["canadabuys:cb-156-17992488"] == "invitation"  # Competitive - Selective tendering
    assert sorted(methods.values()).count("public") == 6


def test_languages_dates_urls() -> None:
    fr, en = _notices(), _notices({"language": "en"})
    n, e = fr["canadabuys:SSC-26-00034375:T"], en["canadabuys:SSC-26-00034375:T"]
    assert n.title == "Achat de bandes LTO9 (BAFE) – 720 – Bibliothèque et Archives Canada"
    assert e.title == "Purchase of LTO9 BAFE TAPE - 720 - Library and Archives Canada (LAC)"
    assert (n.buyer_name, e.buyer_name) == ("Services partagés Canada", "Shared Services Canada")
    assert n.description.startswith("Biens\n") and "\n\nGoods\n" in n.description  # both languages kept
    assert e.description.startswith("Goods\n")
    assert n.closing_at == datetime(2026, 8, 6, 14, 0, tzinfo=EASTERN)
    assert n.closing_at.utcoffset().total_seconds() == -4 * 3600
    assert n.published_at == datetime(2026, 7, 27, tzinfo=EASTERN) and n.url is None  # noticeURL empty: no url built
    m = "canadabuys:MX-444099575427"  # noticeURL in both languages
    assert fr[m].url == "https://www.merx.com/public/solicitations/4030755137/abstract?language=FR"
    assert en[m].url == "https://www.merx.com/public/solicitations/4030755137/abstract?language=EN"
    assert "&eacute;" not in "".join(x.description for x in fr.values())  # entities decoded


def test_bad_rows_are_reported_and_parsing_goes_on() -> None:
    lines = EXCERPT.read_bytes().split(b"\n")
    header, rest = lines[0], b"\n".join(lines[1:])
    data = header + b'\n"only","three","cells"\n' + rest
    items = list(canadabuys.parse(io.BytesIO(data), "bad.csv"))
    assert isinstance(items[0], ParseError) and items[0].position == 2 and "3 colonnes" in items[0].message
    assert sum(isinstance(x, Notice) for x in items) == 8
    [error] = canadabuys.parse(io.BytesIO(b"a,b,c\n1,2,3\n"), "other.csv")
    assert isinstance(error, ParseError) and "not a CanadaBuys" in error.message
    [error] = canadabuys.parse(io.BytesIO(EXCERPT.read_bytes()), "x.csv", {"language": "de"})
    assert error.position == "options"


def test_stream_left_open_and_sniff() -> None:
    stream = io.BytesIO(EXCERPT.read_bytes())
    assert len(list(canadabuys.parse(stream, "x.csv"))) == 8
    assert not stream.closed
    assert canadabuys.sniff(EXCERPT.read_bytes()[:4096], "x.csv")
    assert not canadabuys.sniff(b'{"releases": []}', "x.json")


def test_contacts_codes_and_details() -> None:
    notices = _notices()
    n = notices["canadabuys:SSC-26-00034375:T"]
    assert n.contacts == (Contact("Eleanor,Cesare", "", "613 219-8366"),)  # no e-mail published
    assert Code("GSIN", "N7050", "Composants, traitement automatique de l'information") in n.codes
    assert Code("CanadaBuys category", "GD") in n.codes and n.currency == "CAD"
    assert n.trade_agreements == ("Accord de libre-échange canadien (ALEC)",)
    m = notices["canadabuys:cb-858-67519617"]
    assert [c.code for c in m.codes if c.scheme == "UNSPSC"] == list(m.unspsc)  # every UNSPSC code kept with its scheme
    assert m.contacts[0].email == "davide.gallobamford@forces.gc.ca"
    en = _notices({"language": "en"})["canadabuys:SSC-26-00034375:T"]
    assert Code("GSIN", "N7050", "ADP Components") in en.codes
    dated = [x for x in notices.values() if x.contract_start]
    assert dated and all(x.contract_end >= x.contract_start for x in dated)
