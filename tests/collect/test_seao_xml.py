"""SEAO XML collector on real excerpts (tests/data/seao_xml, see PROVENANCE.md there).

Golden files: each `x.xml` there is compared with `x.expected.json`; run with
WATCHER_REGEN_GOLDEN=1 to rewrite them after a deliberate change (then review the diff).
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import os
import re
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from watcher.collect import PARSERS, detect_format, iter_files, open_source_file
from watcher.collect.seao_xml import parse
from watcher.errors import ParseError
from watcher.models import Expense, FinalContract, Notice

DATA = Path(__file__).resolve().parent.parent / "data" / "seao_xml"
SHARED = Path(os.environ.get("WATCHER_SEAO_XML_DIR", Path(__file__).resolve().parents[3] / "shared" / "data" / "seao-xml"))
SAMPLES = sorted(DATA.glob("*.xml"))
AVIS_2018_01 = DATA / "AvisRevisions_20180101_20180131.excerpt.xml"
MONTREAL = ZoneInfo("America/Montreal")


def _parse_bytes(data: bytes, name: str = "test.xml") -> list:
    return list(parse(io.BytesIO(data), name))


def _parse_path(path: Path) -> list:
    with open_source_file(path) as stream:
        return list(parse(stream, path.name))


def _json(item) -> dict:
    """A record as plain JSON: kind, every field, dates in ISO 8601 with their offset."""
    if isinstance(item, ParseError):
        return {"kind": "ParseError", "position": item.position, "message": item.message}
    fields = json.loads(json.dumps(dataclasses.asdict(item), default=lambda v: v.isoformat()))
    return {"kind": type(item).__name__, **fields}


def _notices(items: list) -> dict[str, Notice]:
    return {n.id: n for n in items if isinstance(n, Notice)}


def _errors(items: list) -> list[ParseError]:
    return [e for e in items if isinstance(e, ParseError)]


# --- golden files ----------------------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_golden(sample: Path) -> None:
    got = [_json(x) for x in _parse_path(sample)]
    expected = sample.with_suffix(".expected.json")
    if os.environ.get("WATCHER_REGEN_GOLDEN") == "1":
        expected.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert expected.exists(), f"{expected.name} missing: run with WATCHER_REGEN_GOLDEN=1"
    assert got == json.loads(expected.read_text(encoding="utf-8"))
    assert not any(x["kind"] == "ParseError" for x in got)


# --- what the excerpts must give (independent of the golden files) ----------------------------


def test_notice_with_several_bidders_and_one_winner() -> None:
    n = _notices(_parse_path(AVIS_2018_01))["seao:627672"]
    assert (n.source, n.reference, n.municipal) == ("seao", "8503-13-0001", False)
    assert n.notice_type == "3 - Contrat adjugé suite à un appel d'offres public"
    assert (n.method, n.nature, n.categories, n.unspsc, n.regions) == ("public", "construction", ("C02",), ("72190000",), ("06",))
    assert [(b.name, b.neq, b.winner) for b in n.bidders] == [
        ("Groupe Hexagone, s.e.c..", "3365348633", False),
        ("Routek Construction inc", "1164350945", True),
        ("Construction DJL Inc.  (Montréal)", "1147218763", False),
    ]
    assert [b.amount for b in n.bidders] == [4923610.5, 4129205.5, 4698525.5]
    assert [b.contract_amount for b in n.bidders] == [None, 4129205.5, None]  # 0.000000: not applicable
    assert n.awarded_value == 4129205.5 and n.estimated_value is None
    assert n.published_at == datetime(2013, 4, 29, 21, 58, tzinfo=MONTREAL)
    assert n.published_at.utcoffset().total_seconds() == -4 * 3600  # daylight time in April
    assert n.closing_at == datetime(2013, 5, 22, 15, 0, tzinfo=MONTREAL) and n.awarded_on == date(2013, 7, 10)
    assert n.as_of == datetime(2018, 1, 31, 23, 59, tzinfo=MONTREAL)
    assert n.url.endswith("ItemId=ad78d965-56b6-408c-b706-027794c5dc1e")


def test_gre_a_gre_with_disposition_and_quirks() -> None:
    notices = _notices(_parse_path(AVIS_2018_01))
    n = notices["seao:825640"]
    assert n.title == "Préparation à l'emploi"  # trailing spaces stripped
    assert (n.notice_type, n.method, n.nature) == ("9 - Contrat octroyé de gré à gré", "gre_a_gre", "services")
    assert n.closing_at is None and n.bidders[0].amount is None and n.bidders[0].contract_amount == 862059.0
    npo = notices["seao:1124445"]  # disposition 6: contract with a non-profit; <precision> holds free text
    assert (npo.municipal, npo.nature, npo.categories, npo.unspsc) == (True, "other", ("O1",), ())
    assert npo.bidders[0].name == "Centre du Plateau" and npo.awarded_value == 182000.0


def test_regions_are_official_codes_sorted_unique() -> None:
    notices = _notices(_parse_path(AVIS_2018_01))
    assert notices["seao:1041222"].regions == ("03", "04", "16")  # "3,16,4"
    # "17,12,9,5,8,1,11,19,14,15,13,4,6,3,16,7,2": every region but 10; 19 (outside Québec) dropped
    assert notices["seao:1109854"].regions == tuple(f"{i:02d}" for i in range(1, 18) if i != 10)
    assert notices["seao:702570"].regions == ()  # empty <regionlivraison />
    assert notices["seao:702570"].method == "public"  # type 11


def test_nature_zero_and_two_winners() -> None:
    notices = _notices(_parse_path(DATA / "AvisRevisions_20180301_20180331.excerpt.xml"))
    assert notices["seao:588300"].nature == "other"  # <nature>0</nature>
    assert notices["seao:588300"].awarded_value is None  # the winner's montantcontrat is 0.000000
    two = notices["seao:1053403"]
    assert [b.winner for b in two.bidders] == [True, True] and two.awarded_value == 55261.12
    assert notices["seao:538090"].regions == ("02", "04", "05", "17")


def test_final_contracts() -> None:
    items = _parse_path(DATA / "Contrats_20160101_20160131.excerpt.xml")
    assert all(isinstance(x, FinalContract) for x in items) and len(items) == 8
    first = items[0]
    assert (first.notice_id, first.reference, first.final_amount) == ("seao:323197", "DGA-999102714", 4973664.13)
    assert (first.end_date, first.published_on) == (date(2013, 10, 31), date(2016, 1, 29))
    assert (first.contractor_name, first.contractor_neq) == ("Société TELUS Communications", "3363451546")
    assert items[2].contractor_neq is None  # <neqcontractant />
    assert items[5].final_amount is None  # 0.000000
    empty = items[6]  # 1900-01-01, 0.000000 and no contractor
    assert (empty.end_date, empty.final_amount, empty.contractor_name, empty.contractor_neq) == (None, None, "", None)


def test_expenses_one_per_depense() -> None:
    items = _parse_path(DATA / "Depenses_20160101_20160131.excerpt.xml")
    assert all(isinstance(x, Expense) for x in items)
    assert [x.notice_id for x in items].count("seao:569836") == 3 and len(items) == 7
    cancelled = next(x for x in items if x.notice_id == "seao:727884")
    assert cancelled.amount is None and cancelled.contractor_name == "Manseau & Perron"
    undated = next(x for x in items if x.notice_id == "seao:932392")
    assert undated.spent_on is None and undated.published_on is not None  # 1900-01-01


def test_2013_layout_reads_like_the_2014_records_it_was_converted_from() -> None:
    """Same notices as the source records, less what the 2013 layout lacks (NEQ, category, link)."""
    old = _notices(_parse_path(DATA / "Avis2013-converted.xml"))
    new = _notices(_parse_path(AVIS_2018_01))
    assert set(old) == {"seao:730166", "seao:1041222", "seao:1109854"}
    assert old["seao:730166"].regions == ("14",)  # 2013 "16" is Lanaudière, official 14
    for key, n in old.items():
        want = dataclasses.replace(new[key], url=None, categories=(),
                                   bidders=tuple(dataclasses.replace(b, neq=None) for b in new[key].bidders))
        assert n == want


# --- bad input -------------------------------------------------------------------------------

BAD_FIELDS = [
    ("<numeroseao>702570</numeroseao>", "<numeroseao>70257O</numeroseao>", "seao:702570", "numeroseao"),
    ("<numeroseao>702570</numeroseao>", "<numeroseao />", "seao:702570", "numeroseao"),
    ("<montantsoumis>844000.000000</montantsoumis>", "<montantsoumis>844 000,00</montantsoumis>", "seao:702570", "montantsoumis"),
    ("<datepublication>2014-10-15 13:22</datepublication>", "<datepublication>15/10/2014</datepublication>", "seao:825640", "datepublication"),
]


@pytest.mark.parametrize("old, new, lost, field", BAD_FIELDS, ids=[b[1] for b in BAD_FIELDS])
def test_bad_record_is_reported_with_its_line_and_the_others_parse(old: str, new: str, lost: str, field: str) -> None:
    text = AVIS_2018_01.read_text(encoding="utf-8")
    assert text.count(old) == 1
    line = text[: text.index(old)].count("\n") + 1
    items = _parse_bytes(text.replace(old, new).encode(), "bad.xml")
    errors = _errors(items)
    assert len(errors) == 1
    assert (errors[0].file, errors[0].position) == ("bad.xml", f"line {line}") and field in errors[0].message
    assert str(errors[0]).startswith(f"bad.xml:line {line}: ")
    good = _notices(_parse_path(AVIS_2018_01))
    del good[lost]
    assert _notices(items) == good


def test_bad_expense_is_dropped_alone() -> None:
    text = (DATA / "Depenses_20160101_20160131.excerpt.xml").read_text(encoding="utf-8")
    items = _parse_bytes(text.replace("<montantdepense>5124.590000<", "<montantdepense>n/a<").encode())
    assert len(_errors(items)) == 1 and len(items) == 7
    assert [x.notice_id for x in items if isinstance(x, Expense)].count("seao:569836") == 2


def test_truncated_file_keeps_earlier_records_and_reports_the_position() -> None:
    data = AVIS_2018_01.read_bytes()
    cut = data[: data.index(b"<titre>Services professionnels en ing")]  # inside the 5th record
    items = _parse_bytes(cut, "cut.xml")
    full = [x for x in _parse_path(AVIS_2018_01)]
    assert items[:-1] == full[:4]
    error = items[-1]
    assert isinstance(error, ParseError) and error.file == "cut.xml"
    assert re.fullmatch(r"line \d+, column \d+", error.position)
    assert int(error.position.split()[1].rstrip(",")) == cut.count(b"\n") + 1  # where the data stops


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE export [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<export datefin="2018-01-31"><avis><numeroseao>1</numeroseao><titre>&lol9;</titre></avis></export>
"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE export [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<export><avis><numeroseao>1</numeroseao><titre>&secret;</titre></avis></export>
"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, XXE, BILLION_LAUGHS.decode().encode("utf-16")],
                         ids=["billion-laughs", "external-entity", "billion-laughs-utf16"])
def test_entity_declarations_are_refused(document: bytes) -> None:
    started = time.monotonic()
    items = _parse_bytes(document, "bomb.xml")
    assert len(items) == 1 and isinstance(items[0], ParseError)
    assert "entity declarations refused" in items[0].message and items[0].file == "bomb.xml"
    assert time.monotonic() - started < 1


def test_doctype_hidden_beyond_the_checked_head_is_refused() -> None:
    declaration, rest = BILLION_LAUGHS.split(b"\n", 1)
    padded = declaration + b"\n<!--" + b" " * 70_000 + b"-->\n" + rest
    items = _parse_bytes(padded, "padded.xml")
    assert len(items) == 1 and "no element in the first 65536 bytes" in items[0].message


def test_doctype_without_entities_is_read() -> None:
    doc = b'<?xml version="1.0"?>\n<!DOCTYPE export>\n<export><avis><numeroseao>7</numeroseao><titre>T</titre></avis></export>'
    assert [n.id for n in _parse_bytes(doc)] == ["seao:7"]


def test_non_xml_gives_one_error() -> None:
    items = _parse_bytes(b"numeroseao;titre\n1;x\n", "x.csv")
    assert len(items) == 1 and isinstance(items[0], ParseError)


# --- streams, gzip, format detection, file listing --------------------------------------------


class ReadOnly(io.RawIOBase):
    """A stream that can only be read forward (like a socket or a pipe)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._data.read(min(len(buffer), 1000))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_head_check_consumes_nothing_on_a_forward_only_stream() -> None:
    data = AVIS_2018_01.read_bytes()
    assert list(parse(ReadOnly(data), "x")) == _parse_bytes(data, "x")


def test_gzip_file_parses_the_same(tmp_path: Path) -> None:
    packed = tmp_path / "AvisRevisions_20180101_20180131.xml.gz"
    packed.write_bytes(gzip.compress(AVIS_2018_01.read_bytes()))
    with open_source_file(packed) as stream:
        assert detect_format(stream.peek(4096)[:4096], packed.name) == "seao_xml"
        assert [_json(x) for x in PARSERS["seao_xml"](stream, "x")] == [_json(x) for x in _parse_path(AVIS_2018_01)]


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_detect_format_on_samples(sample: Path) -> None:
    head = sample.read_bytes()[:4096]
    assert detect_format(head, sample.name) == "seao_xml"
    assert detect_format(b"\xef\xbb\xbf \n" + head, sample.name) == "seao_xml"


@pytest.mark.parametrize("head, expected", [
    (b"", None), (b"hello", None), (b'\xef\xbb\xbf{"uri": "x", "releases": []}', "ocds"),
    (b"numeroseao;titre\n1;x\n", None),
    (b'<?xml version="1.0"?>\n<rss version="2.0"><channel>', "feed"), (b"<html><body>export</body></html>", None),
    (b'<?xml version="1.0"?>\n<!-- <export> --><feed xmlns="http://www.w3.org/2005/Atom">', "feed"),
])
def test_detect_format_does_not_take_other_input_for_seao_xml(head: bytes, expected: str | None) -> None:
    assert detect_format(head, "x") == expected


def test_detect_format_accepts_bare_records() -> None:
    assert detect_format(b'<?xml version="1.0"?>\n<!-- SEAO -->\n<Avis>\n<NumeroSEAO>1', "x") == "seao_xml"
    assert detect_format(b"<contrat><numeroseao>1", "x") == "seao_xml"


def test_iter_files_expands_folders(tmp_path: Path) -> None:
    for name in ["b/2.xml.gz", "b/1.json", "a.xml", "c.csv.gz", "d.jsonl", "notes.txt", ".hidden.xml",
                 ".git/x.xml", "e.CSV", "f.json.gz"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    got = [p.relative_to(tmp_path).as_posix() for p in iter_files([tmp_path])]
    assert got == ["a.xml", "b/1.json", "b/2.xml.gz", "c.csv.gz", "d.jsonl", "e.CSV", "f.json.gz"]
    named = tmp_path / "notes.txt"
    assert list(iter_files([named, tmp_path / "missing.xml"])) == [named, tmp_path / "missing.xml"]


def test_open_source_file_reads_plain_files(tmp_path: Path) -> None:
    plain = tmp_path / "x.xml.gz"  # misnamed: the content decides
    plain.write_bytes(b"<export/>")
    with open_source_file(plain) as stream:
        assert stream.read() == b"<export/>"


# --- code mapping ----------------------------------------------------------------------------


def _one(fields: str) -> Notice:
    doc = f'<export datefin="2018-01-31"><avis><numeroseao>1</numeroseao>{fields}</avis></export>'
    (item,) = _parse_bytes(doc.encode())
    assert isinstance(item, Notice), item
    return item


@pytest.mark.parametrize("xml, regions", [
    ("<regionlivraison>6,13</regionlivraison>", ("06", "13")),
    ("<regionlivraison> 13, 6 ,6 </regionlivraison>", ("06", "13")),
    ("<regionlivraison>10,11,18,19</regionlivraison>", ("10", "11")),  # 18, 19: no Québec region
    ("<regionlivraison>06</regionlivraison>", ("06",)),
    ("<regionlivraison />", ()),
    ("<Region>11,18,19</Region>", ("10", "11")),  # 2013 numbering: 11 Nord-du-Québec, 18 Gaspésie
    ("<region>14,15,16</region>", ("14", "15", "16")),  # Laurentides 15, Montérégie 16, Lanaudière 14
    ("<region>16</region>", ("14",)),
    ("<region>10</region>", ()),  # no 10 in the 2013 table
])
def test_region_mapping(xml: str, regions: tuple[str, ...]) -> None:
    assert _one(xml).regions == regions


@pytest.mark.parametrize("code, notice_type, method", [
    ("3", "3 - Contrat adjugé suite à un appel d'offres public", "public"),
    ("9", "9 - Contrat octroyé de gré à gré", "gre_a_gre"),
    ("10", "10 - Contrat adjugé suite à un appel d'offres sur invitation", "invitation"),
    ("16", "16 - Contrat conclu à la suite d'un contrat à exécution sur demande", "other"),
    ("99", "99", "other"),
    ("", "", "other"),
])
def test_type_mapping(code: str, notice_type: str, method: str) -> None:
    n = _one(f"<type>{code}</type>")
    assert (n.notice_type, n.method) == (notice_type, method)


@pytest.mark.parametrize("code, nature", [("1", "goods"), ("2", "services"), ("3", "construction"),
                                          ("5", "other"), ("0", "other"), ("", "other"), ("42", "other")])
def test_nature_mapping(code: str, nature: str) -> None:
    assert _one(f"<nature>{code}</nature>").nature == nature


def test_case_insensitive_tags_placeholder_neq_and_empty_dates() -> None:
    n = _one("<TITRE> Déneigement </TITRE><Municipal>1</Municipal><DatePublication>1900-01-01 00:00</DatePublication>"
             "<fournisseurs><FOURNISSEUR><NomOrganisation>A</NomOrganisation><NEQ>1234567890</NEQ>"
             "<adjudicataire>1</adjudicataire><montantcontrat>0.000000</montantcontrat></FOURNISSEUR>"
             "<fournisseur><nomorganisation>B</nomorganisation><neq>9046 4660</neq></fournisseur></fournisseurs>")
    assert (n.title, n.municipal, n.published_at) == ("Déneigement", True, None)
    assert [(b.name, b.neq, b.winner, b.contract_amount) for b in n.bidders] == [("A", None, True, None), ("B", None, False, None)]
    assert n.as_of == datetime(2018, 1, 31, 23, 59, tzinfo=MONTREAL)


# --- provenance and the whole real data set ---------------------------------------------------


@pytest.mark.parametrize("sample", [p for p in SAMPLES if ".excerpt." in p.name], ids=lambda p: p.name)
def test_excerpts_are_verbatim_copies(sample: Path) -> None:
    source = SHARED / sample.name.replace(".excerpt", "")
    if not source.exists():
        pytest.skip(f"{source} absent: the shared SEAO XML files are not here")
    original = source.read_text(encoding="utf-8")
    text = sample.read_text(encoding="utf-8")
    records = re.findall(r"  <(?:avis|contrat)>\n.*?</(?:avis|contrat)>\n", text, re.S)
    assert records and all(r in original for r in records)
    assert text.splitlines()[:2] == original.splitlines()[:2]  # XML declaration and <export> root


def test_all_24_avis_revisions_files() -> None:
    files = sorted(SHARED.glob("AvisRevisions_*.xml"))
    if len(files) != 24:
        pytest.skip(f"the 24 AvisRevisions files of shared/data/seao-xml are not at {SHARED} (found {len(files)})")
    ids: set[str] = set()
    raw: set[bytes] = set()
    for path in files:
        items = _parse_path(path)
        text = path.read_bytes()
        assert _errors(items) == []
        notices = [n for n in items if isinstance(n, Notice)]
        assert len(notices) == len(items) == text.count(b"<avis>"), path.name
        assert sum(len(n.bidders) for n in notices) == text.count(b"<fournisseur>"), path.name
        ids |= {n.id for n in notices}
        raw |= set(re.findall(rb"<numeroseao>\s*(\d+)\s*</numeroseao>", text))
    assert ids == {f"seao:{n.decode()}" for n in raw}
    assert len(ids) == 5979  # 6,613 records: notices revised in several months appear once per month


def test_2013_notices_without_title_get_a_built_title_and_a_warning(tmp_path, store_url) -> None:
    from watcher import app
    from watcher.store import open_store

    built = _notices(_parse_path(DATA / "Avis2013-no-title.xml"))
    titled = _notices(_parse_path(DATA / "Avis2013-converted.xml"))
    assert set(built) == set(titled)
    assert all(n.title_built and n.title for n in built.values()) and not any(n.title_built for n in titled.values())
    assert built["seao:730166"].title == "Services de nature technique — UNSPSC 76121500 — Ville de Terrebonne"
    engine = open_store(store_url)
    report = app.import_paths(engine, [DATA / "Avis2013-no-title.xml"])
    engine.dispose()
    assert report.titles_built == 3 and report.as_json()["warnings"] == {"titles_built": 3} and not report.errors
