"""Hostile and broken files given to `watcher import`, on SQLite and PostgreSQL: each one is refused
or neutralised with a clear message, and the good records beside it and the next files are imported.
Every hostile file is generated here (nothing large is committed) and refused early, so each
case stays cheap."""

from __future__ import annotations

import csv
import gzip
import json
import time
from pathlib import Path

import pytest

from watcher import app, limits
from watcher.store import repo


def stored(engine) -> dict:
    with engine.connect() as conn:
        return {n.id: n for n in repo.load_notices(conn)}


def test_control_characters_are_removed_and_the_neighbours_imported(ocds, engine, tmp_path: Path):
    hostile = "Nettoyage\x00 des\x1b[2J\x1b]0;pwned\x07 bureaux \u202eTXT.exe\u202c\r\nsuite\x9b31m"
    (tmp_path / "a.json").write_bytes(ocds.package(ocds.release(1), ocds.release(2, hostile, description="ligne 1\r\nligne\x00 2"),
                                              ocds.release(3)))
    (tmp_path / "b.json").write_bytes(ocds.package(ocds.release(4)))
    report = app.import_paths(engine, [tmp_path])
    assert report.errors == [] and report.notices_new == 4
    notices = stored(engine)
    title = notices["ocds:ocds-test-2"].title
    assert title == "Nettoyage des[2J]0;pwned bureaux TXT.exe suite31m"  # NUL, ESC, BEL, CSI, RLO gone; one line
    assert notices["ocds:ocds-test-2"].description == "ligne 1\nligne 2"
    assert {"ocds:ocds-test-1", "ocds:ocds-test-3", "ocds:ocds-test-4"} <= set(notices)


@pytest.mark.parametrize("url", ["https://seao.example/a\r\nX-Injected: 1", "javascript:alert(1)", "http:///no-host",
                                 "data:text/html,<script>x</script>", "https://a.example/" + "x" * 3000])
def test_unsafe_urls_are_dropped_safe_ones_kept(ocds, engine, tmp_path: Path, url: str):
    (tmp_path / "a.json").write_bytes(ocds.package(ocds.release(1, url=url), ocds.release(2, url="https://seao.example/avis?id=2")))
    report = app.import_paths(engine, [tmp_path])
    assert report.errors == [] and report.notices_new == 2
    notices = stored(engine)
    assert notices["ocds:ocds-test-1"].url is None
    assert notices["ocds:ocds-test-2"].url == "https://seao.example/avis?id=2"


def test_huge_title_and_description_are_cut_fast(ocds, engine, tmp_path: Path):
    (tmp_path / "a.json").write_bytes(ocds.package(ocds.release(1, "entretien " * 1_000_000, description="cautionnement " * 500_000),
                                              ocds.release(2)))
    started = time.monotonic()
    report = app.import_paths(engine, [tmp_path])
    assert report.errors == [] and report.notices_new == 2
    notice = stored(engine)["ocds:ocds-test-1"]
    assert len(notice.title) == limits.MAX_TITLE and notice.title.endswith(limits.ELLIPSIS)
    assert len(notice.description) == limits.MAX_TEXT
    assert time.monotonic() - started < 30  # 10 MB of title: seconds, not minutes


def test_deep_nesting_is_refused_early_and_the_next_file_imported(ocds, engine, tmp_path: Path):
    depth = 40_000
    body = (b'{"releases": [' + json.dumps(ocds.release(1)).encode() + b', {"ocid": "ocds-test-2", "tender": '
            + b'{"a": [' * depth + b"1" + b"]}" * depth + b"}]}")
    (tmp_path / "a.json").write_bytes(body)
    (tmp_path / "b.json").write_bytes(ocds.package(ocds.release(3)))
    report = app.import_paths(engine, [tmp_path])
    assert any("a.json" in e and f"deeper than {limits.MAX_JSON_DEPTH} levels" in e for e in report.errors), report.errors
    assert set(stored(engine)) == {"ocds:ocds-test-1", "ocds:ocds-test-3"}  # the release before it, the next file


def test_gzip_bomb_is_refused_at_the_limit_and_the_next_file_imported(ocds, engine, tmp_path: Path, monkeypatch):
    monkeypatch.setattr("watcher.collect.MAX_INFLATED", 1024 * 1024)
    bomb = b'{"releases": [' + json.dumps(ocds.release(1)).encode() + b"," + b" " * (50 * 1024 * 1024) + b"]}"
    (tmp_path / "a.json.gz").write_bytes(gzip.compress(bomb, compresslevel=1))
    (tmp_path / "b.json").write_bytes(ocds.package(ocds.release(2)))
    report = app.import_paths(engine, [tmp_path])
    assert any("a.json.gz" in e and "more than 1048576 bytes once decompressed" in e for e in report.errors), report.errors
    assert "ocds:ocds-test-2" in stored(engine)


def test_a_bad_file_first_in_a_folder_does_not_stop_the_folder(ocds, engine, tmp_path: Path):
    (tmp_path / "0-garbage.json").write_bytes(b'{"releases": [{"ocid": \xff\xfe broken')
    (tmp_path / "1-binary.csv").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "2-good.json").write_bytes(ocds.package(ocds.release(1)))
    report = app.import_paths(engine, [tmp_path])
    assert report.files == 3 and len(report.errors) == 2, report.errors
    assert any("0-garbage.json" in e for e in report.errors) and any("1-binary.csv" in e for e in report.errors)
    assert set(stored(engine)) == {"ocds:ocds-test-1"}


CSV_HEADER = ["title-titre-eng", "title-titre-fra", "referenceNumber-numeroReference", "solicitationNumber-numeroSollicitation",
              "tenderClosingDate-appelOffresDateCloture", "tenderDescription-descriptionAppelOffres-eng"]


def test_csv_field_over_the_limit_loses_that_record_only(ocds, engine, tmp_path: Path, monkeypatch):
    def row(n: int, description: str = "Cleaning") -> list[str]:
        return [f"Cleaning {n}", f"Nettoyage {n}", f"PW-{n}", f"S-{n}", "2026-12-01T14:00:00", description]
    path = tmp_path / "tenders.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerows([CSV_HEADER, row(1), row(2, "x" * 200_000), row(3), row(4)])
    limit = csv.field_size_limit()
    csv.field_size_limit(100_000)
    try:
        report = app.import_paths(engine, [path])
    finally:
        csv.field_size_limit(limit)
    assert len(report.errors) == 1 and "field too long, record skipped" in report.errors[0], report.errors
    assert sorted(stored(engine)) == ["canadabuys:PW-1", "canadabuys:PW-3", "canadabuys:PW-4"]


def test_rss_entity_declarations_are_refused_not_stored_as_junk(ocds, engine, tmp_path: Path):
    lol = ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
           '<!ENTITY lol9 "&lol2;&lol2;">]><rss version="2.0"><channel><title>t</title>'
           '<item><title>&lol9;</title><link>https://example.org/1</link></item></channel></rss>')
    (tmp_path / "a.rss.xml").write_text(lol, encoding="utf-8")
    (tmp_path / "b.json").write_bytes(ocds.package(ocds.release(1)))
    report = app.import_paths(engine, [tmp_path])
    assert any("a.rss.xml" in e and "entity declarations refused" in e for e in report.errors), report.errors
    assert set(stored(engine)) == {"ocds:ocds-test-1"}


def test_seao_xml_entity_bomb_is_refused(ocds, engine, tmp_path: Path):
    (tmp_path / "a.xml").write_text('<?xml version="1.0"?><!DOCTYPE export [<!ENTITY a "aaaa">]><export><avis>&a;</avis>'
                                    "</export>", encoding="utf-8")
    (tmp_path / "b.json").write_bytes(ocds.package(ocds.release(1)))
    report = app.import_paths(engine, [tmp_path])
    # refused before parsing: the sniffer does not take a DOCTYPE prolog (the parser would refuse its entities)
    assert len(report.errors) == 1 and "a.xml" in report.errors[0], report.errors
    assert set(stored(engine)) == {"ocds:ocds-test-1"}


def test_overlong_notice_id_is_kept_unique(ocds, engine, tmp_path: Path):
    long_a, long_b = dict(ocds.release(1), ocid="ocds-" + "a" * 200), dict(ocds.release(2), ocid="ocds-" + "a" * 199 + "b")
    (tmp_path / "a.json").write_bytes(ocds.package(long_a, long_b, ocds.release(3)))
    report = app.import_paths(engine, [tmp_path])
    assert report.errors == [] and report.notices_new == 3
    ids = set(stored(engine))
    assert len(ids) == 3 and all(len(i) <= 80 for i in ids)


def _avis(number: str, title: str, url: str = "https://www.seao.ca/avis?id=1") -> str:
    return (f"<avis><numeroseao>{number}</numeroseao><organisme>Ville</organisme><titre>{title}</titre><type>3</type>"
            f"<nature>3</nature><datepublication>2019-01-10 10:00</datepublication><hyperlienseao>{url}</hyperlienseao>"
            "<fournisseurs><fournisseur><nomorganisation>A inc.</nomorganisation><adjudicataire>1</adjudicataire>"
            "<montantcontrat>10.50</montantcontrat></fournisseur></fournisseurs></avis>")


def test_a_bad_record_in_a_batch_loses_itself_only(engine, tmp_path: Path):
    """The bulk write path takes a batch at once: the unreadable record is reported with its line,
    the dirty ones are cleaned, and every other notice of the batch (and the next batch) is stored."""
    records = [_avis(str(1000 + i), f"Avis {i}") for i in range(1, 1200)]
    records[10] = _avis("pas-un-nombre", "Illisible")
    records[20] = _avis("1021", "Titre\u202e rouge\tbis", url="javascript:alert(1)")  # a bidi override, a tab
    records[700] = _avis("1701", "Autre", url="https://seao.ca/x y")
    (tmp_path / "AvisRevisions_20190101_20190131.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><export datedebut="2019-01-01" datefin="2019-01-31">'
        + "\n".join(records) + "</export>", encoding="utf-8")
    report = app.import_paths(engine, [tmp_path])
    assert len(report.errors) == 1 and "line 11" in report.errors[0] and "numeroseao" in report.errors[0], report.errors
    notices = stored(engine)
    assert len(notices) == 1198 and "seao:1011" not in notices
    assert notices["seao:1021"].title == "Titre rouge bis" and notices["seao:1021"].url is None
    assert notices["seao:1701"].url is None and notices["seao:1001"].url == "https://www.seao.ca/avis?id=1"
    assert all(n.bidders[0].contract_amount == 10.5 for n in notices.values())
