"""Collecting declared sources end to end: a real local HTTP server (pytest-httpserver) serves the
recorded files of tests/data, the store is real (SQLite and PostgreSQL). Each fault leaves the
other source collected and the failure recorded."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from werkzeug import Request, Response

from watcher.collect.fetch import Fetcher
from watcher.collect.runner import collect_all, collect_source, failing_alerts
from watcher.sources import Source
from watcher.store import open_store
from watcher.store.runs import statuses
from watcher.store.schema import notices, source_runs

DATA = Path(__file__).resolve().parent.parent / "data"
OCDS = DATA / "ocds" / "hebdo_20260914_20260920_excerpt.json"
CSV = DATA / "canadabuys" / "openTenderNotice-excerpt.csv"
RSS = DATA / "feed" / "buyandsell-excerpt.rss"
PAGE1, PAGE2 = DATA / "html" / "appels-offres-page1.html", DATA / "html" / "appels-offres-page2.html"
XML = DATA / "seao_xml" / "AvisRevisions_20180301_20180331.excerpt.xml"
CKAN = DATA / "ckan" / "package_show-seao-subset.json"
UA = "watcher-tests/0.1 (+mailto:tests@example.org)"
HTML_OPTIONS = {
    "item": "table.appels-offres tbody tr.avis", "title": "td.titre a, td.titre", "reference": "td.numero",
    "buyer": "td.service", "published": "td.publication", "closing": "td.fermeture",
    "date_format": "%d %B %Y à %H h %M|%d %B %Y", "next": "a[rel=next]", "regions": ["16"], "method": "invitation",
}


@pytest.fixture
def engine(store_url):
    return open_store(store_url)


def fetcher(**kw) -> Fetcher:
    waits: list[float] = []
    opts = dict(min_interval=0.0, respect_robots=False, retries=2, backoff=0.01, timeout=2.0, sleep=waits.append)
    return Fetcher(UA, **{**opts, **kw})


def serve_file(server: HTTPServer, path: str, body: bytes, etag: str = '"v1"', content_type: str = "application/octet-stream"):
    """Serve `body` with an ETag, answering 304 to a matching If-None-Match like a real server."""
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(body, headers={"ETag": etag, "Content-Type": content_type})
    server.expect_request(path).respond_with_handler(handler)


def source(server: HTTPServer, name: str, kind: str, path: str, **options) -> Source:
    url = server.url_for(path)
    if kind in ("ocds", "seao_xml"):
        options.setdefault("urls", [url])
    if kind == "html":
        options.setdefault("base_url", url)
    return Source(name=name, kind=kind, url=url, schedule="0 6 * * *", options=options)


def count(engine, table=notices, **where) -> int:
    query = select(func.count()).select_from(table)
    for key, value in where.items():
        query = query.where(table.c[key] == value)
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def test_every_kind_full_fetch_then_unchanged_costs_no_writes(server, engine):
    serve_file(server, "/hebdo.json", OCDS.read_bytes(), content_type="application/json")
    serve_file(server, "/tenders.csv", CSV.read_bytes(), content_type="text/csv")
    serve_file(server, "/feed.rss", RSS.read_bytes(), content_type="application/rss+xml")
    serve_file(server, "/avis.xml", XML.read_bytes(), content_type="application/xml")
    page2 = PAGE2.read_bytes()
    page1 = PAGE1.read_bytes()
    serve_file(server, "/appels/", page1, content_type="text/html")
    server.expect_request("/appels/", query_string="page=2").respond_with_data(page2, content_type="text/html")
    sources = [source(server, "ocds", "ocds", "/hebdo.json"), source(server, "cb", "canadabuys", "/tenders.csv"),
               source(server, "rss", "feed", "/feed.rss", id_prefix="buyandsell", id_from="link"),
               source(server, "xml", "seao_xml", "/avis.xml"), source(server, "ville", "html", "/appels/", **HTML_OPTIONS)]
    with fetcher() as f:
        first = collect_all(engine, sources, f)
    assert [r.error for r in first] == [None] * 5
    assert all(r.new > 0 for r in first), [(r.source, r.new) for r in first]
    assert first[-1].resources == 2  # the HTML source followed its "next" link
    stored = count(engine)
    assert stored == sum(r.new for r in first)
    with fetcher() as f:
        again = collect_all(engine, sources[:4], f)
    assert [(r.unchanged, r.new, r.updated, r.bytes) for r in again] == [(1, 0, 0, 0)] * 4  # 304: no body, no write
    assert count(engine) == stored
    with engine.connect() as conn:
        assert [s.consecutive_failures for s in statuses(conn)] == [0] * 5


def test_amended_notice_is_updated_once(server, engine):
    doc = json.loads(OCDS.read_text(encoding="utf-8-sig"))
    serve_file(server, "/hebdo.json", json.dumps(doc).encode(), etag='"v1"')
    src = source(server, "ocds", "ocds", "/hebdo.json")
    with fetcher() as f:
        first = collect_source(engine, src, f)
    assert first.ok and first.new > 0
    doc["releases"][0]["tender"]["title"] = "Titre modifié par un addenda"
    server.clear()
    serve_file(server, "/hebdo.json", json.dumps(doc).encode(), etag='"v2"')
    with fetcher() as f:
        second = collect_source(engine, src, f)
    assert (second.ok, second.new, second.updated) == (True, 0, 1)


def test_ckan_resources_are_fetched_once_by_id(server, engine):
    package = json.loads(CKAN.read_text(encoding="utf-8"))
    body = OCDS.read_bytes()
    for res in package["result"]["resources"]:
        res["url"] = server.url_for(f"/download/{res['id']}.json")
        server.expect_request(f"/download/{res['id']}.json").respond_with_data(body, content_type="application/json")
    server.expect_request("/api/3/action/package_show").respond_with_json(package)
    src = Source("seao-ocds", "seao_ocds", server.url_for("/"), "15 6 * * *",
                 options={"package": package["result"]["id"], "prefixes": ["hebdo_"]})
    with fetcher() as f:
        first = collect_source(engine, src, f)
    hebdo = [r for r in package["result"]["resources"] if r["name"].startswith("hebdo_")]
    assert first.ok and first.resources + first.unchanged == len(hebdo) and first.new > 0
    downloads = len([1 for req, _ in server.log if req.path.startswith("/download/")])
    assert downloads == len(hebdo)  # each resource once, the CKAN listing is one more request
    with fetcher() as f:
        second = collect_source(engine, src, f)
    # same bytes again (this server sends no validators): recognised by their hash, not parsed nor stored
    assert second.ok and second.new == 0 and second.resources == 0 and second.unchanged == len(hebdo)


def _good(server: HTTPServer) -> Source:
    serve_file(server, "/good.csv", CSV.read_bytes(), content_type="text/csv")
    return source(server, "good", "canadabuys", "/good.csv")


def _entity_bomb() -> bytes:
    lol = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    return (f'<?xml version="1.0"?><!DOCTYPE export [<!ENTITY l0 "lol">{lol}]>'
            "<export><avis><numeroseao>1</numeroseao><titre>&l9;</titre></avis></export>").encode()


def _slow(request: Request) -> Response:
    time.sleep(3)
    return Response(b"late")


FAULTS = {
    "timeout": lambda s: s.expect_request("/bad").respond_with_handler(_slow),
    "server_error": lambda s: s.expect_request("/bad").respond_with_data("boom", status=500),
    "truncated_json": lambda s: s.expect_request("/bad").respond_with_data(OCDS.read_bytes()[:5000]),
    "malformed_xml": lambda s: s.expect_request("/bad").respond_with_data(XML.read_bytes()[:3000] + b"<<<</export>"),
    # declared UTF-8, sent as Latin-1: the accents are invalid UTF-8 bytes
    "wrong_encoding": lambda s: s.expect_request("/bad").respond_with_data(XML.read_text(encoding="utf-8").encode("latin-1")),
    "oversize": lambda s: s.expect_request("/bad").respond_with_data(b"x" * 300_000),
    "entity_bomb": lambda s: s.expect_request("/bad").respond_with_data(_entity_bomb()),
    "robots_disallow": lambda s: (s.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /bad\n"),
                                  s.expect_request("/bad").respond_with_data(XML.read_bytes())),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_broken_source_is_reported_and_the_other_is_collected(server, engine, fault):
    FAULTS[fault](server)
    kind = "ocds" if fault == "truncated_json" else "seao_xml"
    bad = source(server, "bad", kind, "/bad")
    good = _good(server)
    with fetcher(max_bytes=200_000, timeout=1.0, respect_robots=fault == "robots_disallow") as f:
        reports = collect_all(engine, [bad, good], f)
    assert reports[0].error, f"{fault} must fail the source"
    assert reports[1].ok and reports[1].new > 0
    assert count(engine, source="seao") == 0  # nothing of the broken file was stored
    with engine.connect() as conn:
        by_name = {s.source: s for s in statuses(conn)}
    assert by_name["bad"].consecutive_failures == 1 and by_name["bad"].last_error == reports[0].error
    assert by_name["good"].consecutive_failures == 0


def test_500_then_success_and_429_with_retry_after_are_retried(server, engine):
    body = CSV.read_bytes()
    answers = {"/a.csv": [Response("boom", status=500), Response(body)],
               "/b.csv": [Response("slow down", status=429, headers={"Retry-After": "1"}), Response(body)]}
    for path, queue in answers.items():
        server.expect_request(path).respond_with_handler(lambda request, q=queue: q.pop(0) if len(q) > 1 else q[0])
    waits: list[float] = []
    with fetcher(sleep=waits.append) as f:
        reports = collect_all(engine, [source(server, "a", "canadabuys", "/a.csv"), source(server, "b", "canadabuys", "/b.csv")], f)
    assert [r.ok for r in reports] == [True, True], [r.error for r in reports]
    assert reports[0].requests == 2 and reports[1].requests == 2
    assert 1.0 in waits  # Retry-After honoured


def test_truncated_download_is_fetched_again_once(server, engine):
    whole = OCDS.read_bytes()
    answers = [Response(whole[:4000]), Response(whole)]
    server.expect_request("/hebdo.json").respond_with_handler(lambda request: answers.pop(0) if len(answers) > 1 else answers[0])
    with fetcher() as f:
        report = collect_source(engine, source(server, "ocds", "ocds", "/hebdo.json"), f)
    assert report.ok and report.new > 0 and report.requests == 2


def test_bom_and_gzip_bodies_are_read(server, engine):
    text = CSV.read_bytes()
    body = text if text.startswith(b"\xef\xbb\xbf") else b"\xef\xbb\xbf" + text
    server.expect_request("/bom.csv").respond_with_data(body)
    server.expect_request("/gz.json").respond_with_data(gzip.compress(OCDS.read_bytes()))
    with fetcher() as f:
        reports = collect_all(engine, [source(server, "bom", "canadabuys", "/bom.csv"), source(server, "gz", "ocds", "/gz.json")], f)
    assert all(r.ok and r.new > 0 for r in reports), [r.error for r in reports]


def test_coordinator_is_alerted_once_per_failure_streak(server, engine):
    server.expect_request("/bad").respond_with_data("gone", status=404)
    bad = source(server, "bad", "seao_xml", "/bad")
    sent = []
    for _ in range(5):
        with fetcher() as f:
            collect_source(engine, bad, f)
        sent += failing_alerts(engine, 3, "veille@example.org", "coord@example.org")
    assert len(sent) == 1 and "bad" in sent[0]["Subject"] and sent[0]["To"] == "coord@example.org"
    assert "404" in sent[0].get_content()
    assert count(engine, source_runs, source="bad") == 5
