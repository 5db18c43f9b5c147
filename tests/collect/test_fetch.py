"""Fetcher against a real local HTTP server (pytest-httpserver): no mock of httpx."""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import time
from email.utils import formatdate
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from watcher.collect.fetch import Fetcher, FetchResult, Resource, ckan_resources
from watcher.config import FetchConfig
from watcher.errors import FetchError, WatcherError

UA = "watcher/0.1 (+mailto:veille@example.org)"
CKAN = Path(__file__).resolve().parent.parent / "data" / "ckan" / "package_show-seao-subset.json"
SEAO = "d23b2e02-085d-43e5-9e6e-e1d558ebfdd5"


class Sleeps(list):
    """Injected sleep: records the waits instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def fetcher(sleeps: Sleeps, **kw) -> Fetcher:
    opts = dict(min_interval=0.0, respect_robots=False, retries=3, backoff=1.0, timeout=5.0)
    return Fetcher(UA, sleep=sleeps, **{**opts, **kw})


def paths(server: HTTPServer) -> list[str]:
    return [req.path for req, _ in server.log]


def test_full_fetch(server, sleeps):
    server.expect_request("/notices.json").respond_with_data(
        b'{"releases": []}', content_type="application/json",
        headers={"ETag": '"v1"', "Last-Modified": "Mon, 16 Feb 2026 06:18:03 GMT"})
    with fetcher(sleeps) as f:
        r = f.get(server.url_for("/notices.json"))
    assert isinstance(r, FetchResult)
    assert (r.status, r.body, r.etag, r.last_modified) == (200, b'{"releases": []}', '"v1"',
                                                           "Mon, 16 Feb 2026 06:18:03 GMT")
    assert r.content_type == "application/json"
    assert r.bytes == 16 and r.sha256 == hashlib.sha256(b'{"releases": []}').hexdigest()
    assert r.attempts == 1 and r.elapsed >= 0 and not r.not_modified
    assert r.url == server.url_for("/notices.json")
    req = server.log[0][0]
    assert req.headers["User-Agent"] == UA
    assert "If-None-Match" not in req.headers and "If-Modified-Since" not in req.headers
    assert sleeps == []


def test_etag_gives_304_without_body(server, sleeps):
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response(b"payload", headers={"ETag": '"v1"'})

    server.expect_request("/feed").respond_with_handler(handler)
    f = fetcher(sleeps)
    first = f.get(server.url_for("/feed"))
    second = f.get(server.url_for("/feed"), etag=first.etag)
    assert first.body == b"payload"
    assert second.status == 304 and second.body is None and second.not_modified
    assert second.etag == '"v1"' and second.bytes == 0 and second.sha256 is None
    assert second.attempts == 1
    assert server.log[1][0].headers["If-None-Match"] == '"v1"'
    assert len(server.log) == 2


def test_last_modified_gives_304_and_keeps_validator(server, sleeps):
    stamp = "Mon, 16 Feb 2026 06:18:03 GMT"

    def handler(request: Request) -> Response:
        if request.headers.get("If-Modified-Since") == stamp:
            return Response(status=304)  # no validators repeated: the Fetcher keeps ours
        return Response(b"payload", headers={"Last-Modified": stamp})

    server.expect_request("/feed").respond_with_handler(handler)
    f = fetcher(sleeps)
    first = f.get(server.url_for("/feed"))
    second = f.get(server.url_for("/feed"), last_modified=first.last_modified)
    assert first.last_modified == stamp
    assert second.status == 304 and second.body is None and second.last_modified == stamp
    assert server.log[1][0].headers["If-Modified-Since"] == stamp


def test_500_then_200_is_retried(server, sleeps):
    server.expect_ordered_request("/x").respond_with_data("oops", status=500)
    server.expect_ordered_request("/x").respond_with_data("ok")
    r = fetcher(sleeps).get(server.url_for("/x"))
    assert r.body == b"ok" and r.attempts == 2
    assert sleeps == [1.0]


def test_503_until_retries_exhausted(server, sleeps):
    server.expect_request("/x").respond_with_data("down for maintenance", status=503)
    with pytest.raises(FetchError, match=r"HTTP 503 Service Unavailable after 3 attempts: down for") as ei:
        fetcher(sleeps, retries=2).get(server.url_for("/x"))
    assert sleeps == [1.0, 2.0]  # exponential backoff
    assert len(server.log) == 3
    assert ei.value.status == 503 and ei.value.transient and server.url_for("/x") in str(ei.value)


def test_last_429_reports_when_to_come_back(server, sleeps):
    server.expect_request("/x").respond_with_data("", status=429, headers={"Retry-After": "120"})
    with pytest.raises(FetchError, match=r"HTTP 429 Too Many Requests \(come back after .* UTC\)") as ei:
        fetcher(sleeps, retries=0).get(server.url_for("/x"))
    assert ei.value.retry_at is not None and sleeps == []


def test_429_honours_retry_after_seconds(server, sleeps):
    server.expect_ordered_request("/x").respond_with_data("slow down", status=429, headers={"Retry-After": "2"})
    server.expect_ordered_request("/x").respond_with_data("ok")
    r = fetcher(sleeps).get(server.url_for("/x"))
    assert r.body == b"ok" and r.attempts == 2
    assert sleeps == [2.0]


def test_retry_after_http_date(server, sleeps):
    later = formatdate(time.time() + 5, usegmt=True)
    server.expect_ordered_request("/x").respond_with_data("", status=503, headers={"Retry-After": later})
    server.expect_ordered_request("/x").respond_with_data("ok")
    assert fetcher(sleeps).get(server.url_for("/x")).body == b"ok"
    assert len(sleeps) == 1 and sleeps[0] == pytest.approx(5, abs=1.1)


def test_retry_after_too_long_gives_up(server, sleeps):
    server.expect_request("/x").respond_with_data("", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(FetchError, match=r"wait 3600 s .*come back after") as ei:
        fetcher(sleeps, max_retry_after=300).get(server.url_for("/x"))
    assert ei.value.retry_at is not None and ei.value.status == 429
    assert "retry after" in ei.value.hint
    assert sleeps == [] and len(server.log) == 1


def test_other_4xx_not_retried(server, sleeps):
    server.expect_request("/gone").respond_with_data("no such file", status=404)
    with pytest.raises(FetchError, match=r"/gone: HTTP 404 Not Found: no such file") as ei:
        fetcher(sleeps).get(server.url_for("/gone"))
    assert isinstance(ei.value, WatcherError) and not ei.value.transient and ei.value.hint
    assert len(server.log) == 1 and sleeps == []


def test_timeout_is_retried_then_fails(server, sleeps):
    hits, release = [], threading.Event()

    def slow(request: Request) -> Response:
        hits.append(time.monotonic())
        release.wait(5)  # longer than the 0.2 s client timeout
        return Response("late")

    server.expect_request("/slow").respond_with_handler(slow)
    with pytest.raises(FetchError, match=r"/slow: timed out: ReadTimeout.*gave up after 2 attempts"):
        fetcher(sleeps, timeout=0.2, retries=1).get(server.url_for("/slow"))
    assert len(hits) == 2 and sleeps == [1.0]
    release.set()  # let the handlers finish before the next test reuses the server
    deadline = time.monotonic() + 5
    while len(server.log) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)


def test_connection_refused_is_a_fetch_error(sleeps):
    with pytest.raises(FetchError, match=r"connection failed: ConnectError.*gave up after 2 attempts"):
        fetcher(sleeps, retries=1).get("http://127.0.0.1:9/x")  # discard port: nothing listens


def test_truncated_download_is_retried(server, sleeps):
    calls = []

    def handler(request: Request) -> Response:
        calls.append(1)
        if len(calls) == 1:  # announces 1000 bytes, sends 10, closes: a cut download
            return Response(iter([b"x" * 10]), headers={"Content-Length": "1000", "Connection": "close"})
        return Response(b"x" * 1000)

    server.expect_request("/big").respond_with_handler(handler)
    r = fetcher(sleeps, timeout=1.0).get(server.url_for("/big"))
    assert r.bytes == 1000 and r.attempts == 2


def test_oversize_by_content_length(server, sleeps):
    server.expect_request("/big").respond_with_data(b"x" * 2000)
    with pytest.raises(FetchError, match=r"announces 2000 bytes \(Content-Length\), more than the 1000") as ei:
        fetcher(sleeps, max_bytes=1000).get(server.url_for("/big"))
    assert "max_bytes" in ei.value.hint and len(server.log) == 1  # not retried


def test_oversize_chunked_stops_reading(server, sleeps):
    def handler(request: Request) -> Response:
        return Response((b"y" * 500 for _ in range(100)))  # no Content-Length

    server.expect_request("/stream").respond_with_handler(handler)
    with pytest.raises(FetchError, match=r"body exceeds 1000 bytes; download stopped"):
        fetcher(sleeps, max_bytes=1000).get(server.url_for("/stream"))
    assert "content-length" not in {k.lower() for k in server.log[0][1].headers.keys()}


def test_gzip_is_decompressed_and_cap_applies_to_decompressed(server, sleeps):
    plain = b"0" * 100_000
    packed = gzip.compress(plain)
    assert len(packed) < 1000
    server.expect_request("/z").respond_with_data(packed, headers={"Content-Encoding": "gzip"})
    assert fetcher(sleeps).get(server.url_for("/z")).body == plain
    with pytest.raises(FetchError, match="download stopped"):
        fetcher(sleeps, max_bytes=10_000).get(server.url_for("/z"))


def test_robots_disallow_never_requests_the_url(server, sleeps):
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /private/\n")
    server.expect_request("/public").respond_with_data("ok")
    f = fetcher(sleeps, respect_robots=True)
    with pytest.raises(FetchError, match=r"/private/a: robots.txt disallows it for user agent 'watcher'") as ei:
        f.get(server.url_for("/private/a"))
    assert not ei.value.transient
    assert f.get(server.url_for("/public")).body == b"ok"
    assert paths(server) == ["/robots.txt", "/public"]  # robots.txt read once, /private never asked


def test_robots_group_naming_our_agent(server, sleeps):
    server.expect_request("/robots.txt").respond_with_data(
        "User-agent: watcher\nDisallow: /\n\nUser-agent: *\nDisallow:\n")
    with pytest.raises(FetchError, match="robots.txt disallows"):
        fetcher(sleeps, respect_robots=True).get(server.url_for("/anything"))
    assert paths(server) == ["/robots.txt"]


def test_robots_crawl_delay_paces_requests(server, sleeps):
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nCrawl-delay: 3\n")
    server.expect_request("/a").respond_with_data("a")
    server.expect_request("/b").respond_with_data("b")
    f = fetcher(sleeps, respect_robots=True, min_interval=0.5)
    f.get(server.url_for("/a"))
    f.get(server.url_for("/b"))
    assert sleeps == [pytest.approx(3, abs=0.2), pytest.approx(3, abs=0.2)]  # robots→a, a→b


def test_robots_404_means_allowed(server, sleeps):
    server.expect_request("/robots.txt").respond_with_data("not here", status=404)
    server.expect_request("/page").respond_with_data("ok")
    assert fetcher(sleeps, respect_robots=True).get(server.url_for("/page")).body == b"ok"
    assert paths(server) == ["/robots.txt", "/page"]


def test_robots_5xx_means_do_not_fetch(server, sleeps):
    server.expect_request("/robots.txt").respond_with_data("", status=503)
    f = fetcher(sleeps, respect_robots=True, retries=1)
    with pytest.raises(FetchError, match=r"/page: not fetched: robots.txt answered HTTP 503") as ei:
        f.get(server.url_for("/page"))
    assert "RFC 9309" in ei.value.hint
    with pytest.raises(FetchError):
        f.get(server.url_for("/other"))  # the verdict is cached for the Fetcher's life
    assert paths(server) == ["/robots.txt", "/robots.txt"]  # one fetch, one retry, no page


def test_rate_limit_per_host(server, sleeps):
    server.expect_request("/x").respond_with_data("ok")
    f = fetcher(sleeps, min_interval=0.5)
    f.get(server.url_for("/x"))
    f.get(server.url_for("/x"))
    assert sleeps == [pytest.approx(0.5, abs=0.1)]
    other = server.url_for("/x").replace("localhost", "127.0.0.1")  # another host: no wait
    f.get(other)
    assert len(sleeps) == 1


def test_redirect_followed_and_final_url_reported(server, sleeps):
    server.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new"})
    server.expect_request("/new").respond_with_data("moved here")
    r = fetcher(sleeps).get(server.url_for("/old"))
    assert r.url == server.url_for("/new") and r.body == b"moved here" and r.attempts == 2


def test_redirect_into_disallowed_path_is_refused(server, sleeps):
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /private/\n")
    server.expect_request("/old").respond_with_data("", status=302, headers={"Location": "/private/x"})
    with pytest.raises(FetchError, match=r"/private/x: robots.txt disallows"):
        fetcher(sleeps, respect_robots=True).get(server.url_for("/old"))
    assert paths(server) == ["/robots.txt", "/old"]


def test_not_http_url(sleeps):
    with pytest.raises(FetchError, match="not an http"):
        fetcher(sleeps).get("ftp://example.org/file")


def test_get_json_and_bad_json(server, sleeps):
    server.expect_request("/ok").respond_with_data(b"\xef\xbb\xbf" + b'{"a": "\xc3\xa9"}')  # BOM, as SEAO files
    server.expect_request("/bad").respond_with_data("<html>maintenance</html>")
    f = fetcher(sleeps)
    assert f.get_json(server.url_for("/ok")) == {"a": "é"}
    with pytest.raises(FetchError, match=r"/bad: response is not valid JSON"):
        f.get_json(server.url_for("/bad"))


def test_ckan_resources_lists_prefixed_files_with_republications(server, sleeps):
    server.expect_request("/api/3/action/package_show", query_string={"id": SEAO}).respond_with_data(
        CKAN.read_bytes(), content_type="application/json")
    res = ckan_resources(fetcher(sleeps), server.url_for("/"), SEAO)
    assert len(res) == 10 and all(isinstance(r, Resource) for r in res)
    assert not any(r.name.startswith("Guide") for r in res)  # the non-matching resource is dropped
    assert [r.last_modified for r in res] == sorted(r.last_modified for r in res)
    same = [r for r in res if r.name == "hebdo_20250324_20250330.json"]
    assert [r.id for r in same] == ["87665244-3903-4641-9d8a-01e67ee16693",
                                    "80354e32-b968-486d-ae91-5130c51ed63f",
                                    "af4dc523-5b74-435a-b0f7-89bd7570f2b8"]  # every version, oldest first
    first = same[0]
    assert first.format == "JSON" and first.size == 23032967
    assert first.last_modified == "2025-03-31T05:19:24.622461"
    assert first.url.endswith("/resource/87665244-3903-4641-9d8a-01e67ee16693/download/hebdo_20250324_20250330.json")
    weekly = ckan_resources(fetcher(sleeps), server.url_for("/"), SEAO, name_prefixes=("hebdo_",))
    assert len(weekly) == 7 and all(r.name.startswith("hebdo_") for r in weekly)


def test_ckan_error_is_reported(server, sleeps):
    error = {"success": False, "error": {"message": "Not found", "__type": "Not Found Error"}}
    server.expect_request("/api/3/action/package_show").respond_with_data(
        json.dumps(error), status=404, content_type="application/json")
    with pytest.raises(FetchError, match=r"package_show\?id=nope: HTTP 404 Not Found: .*Not Found Error"):
        ckan_resources(fetcher(sleeps), server.url_for("/"), "nope")


def test_ckan_success_false_is_reported(server, sleeps):
    server.expect_request("/api/3/action/package_show").respond_with_json(
        {"success": False, "error": {"message": "Access denied"}})
    with pytest.raises(FetchError, match=r"CKAN package_show failed: .*Access denied"):
        ckan_resources(fetcher(sleeps), server.url_for("/"), SEAO)


def test_from_config():
    cfg = FetchConfig(user_agent=UA, timeout=12.0, max_bytes=1234, min_interval=3.0, retries=1,
                      respect_robots=False)
    f = Fetcher.from_config(cfg, retries=5)
    assert (f.user_agent, f.timeout, f.max_bytes, f.min_interval, f.retries, f.respect_robots) == (
        UA, 12.0, 1234, 3.0, 5, False)
    assert f.backoff == 1.0 and f.max_retry_after == 300.0
    f.close()
