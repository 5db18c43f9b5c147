"""Hostile servers met by `watcher collect`, on SQLite and PostgreSQL: a body dripping one byte at a
time ends at the total deadline, a gzip bomb stops at the size cap counted inflated, SIGTERM ends
a download in hand within a second; each failure is recorded for its source and the next source
is collected."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from watcher.collect.fetch import Fetcher
from watcher.collect.runner import collect_all
from watcher.sources import Source
from watcher.store import repo
from watcher.store.schema import source_runs

UA = "watcher-tests/1.0 (+mailto:tests@example.org)"


@pytest.fixture
def drip() -> Iterator[str]:
    """A server that answers 200 and then sends its body one byte every 0.3 s, for a minute."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            client.recv(65536)
            try:
                client.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n")
                for _ in range(200):
                    if done.wait(0.3):
                        break
                    client.sendall(b" ")
            except OSError:
                pass  # the client gave up: what we want
            finally:
                client.close()
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/slow.json"
    done.set()
    thread.join(5)
    listener.close()


def _ocds(ocds, n: int) -> bytes:
    return ocds.package(ocds.release(n))


def _good(httpserver: HTTPServer, ocds) -> Source:
    httpserver.expect_request("/good.json").respond_with_data(_ocds(ocds, 1), content_type="application/json")
    url = httpserver.url_for("/good.json")
    return Source(name="good", kind="ocds", url=url, schedule="0 6 * * *", options={"urls": [url]})


def _runs(engine) -> dict[str, tuple[bool, str | None]]:
    with engine.connect() as conn:
        return {r.source: (r.ok, r.error) for r in conn.execute(select(source_runs.c.source, source_runs.c.ok, source_runs.c.error))}


def test_slow_body_ends_at_the_total_deadline_and_the_next_source_runs(engine, drip, httpserver, ocds):
    slow = Source(name="slow", kind="ocds", url=drip, schedule="0 6 * * *", options={"urls": [drip]})
    started = time.monotonic()
    with Fetcher(UA, min_interval=0, respect_robots=False, retries=0, timeout=5, deadline=2.0) as fetcher:
        reports = collect_all(engine, [slow, _good(httpserver, ocds)], fetcher)
    took = time.monotonic() - started
    assert took < 6, took  # the per-read timeout (5 s) never fires: only the deadline can end it
    assert not reports[0].ok and "more than 2 s in all" in reports[0].error
    runs = _runs(engine)
    assert runs["slow"][0] is False and "more than 2 s in all" in runs["slow"][1]
    assert runs["good"] == (True, None)
    with engine.connect() as conn:
        assert [n.id for n in repo.load_notices(conn)] == ["ocds:ocds-test-1"]


def test_sigterm_ends_a_slow_download_within_a_second(engine, drip):
    stop = threading.Event()
    slow = Source(name="slow", kind="ocds", url=drip, schedule="0 6 * * *", options={"urls": [drip]})
    threading.Timer(1.0, stop.set).start()
    started = time.monotonic()
    with Fetcher(UA, min_interval=0, respect_robots=False, retries=3, timeout=30, deadline=900, stop=stop) as fetcher:
        [report] = collect_all(engine, [slow], fetcher, stop)
    assert time.monotonic() - started < 2.5
    assert not report.ok and "stopped during the download" in report.error
    assert _runs(engine)["slow"][0] is False  # the run is recorded as ended, not left open


def test_gzip_bomb_stops_at_the_size_cap_counted_inflated(engine, httpserver, ocds):
    bomb = gzip.compress(b'{"releases": [' + b" " * (64 * 1024 * 1024) + b"]}", compresslevel=9)
    assert len(bomb) < 100_000
    httpserver.expect_request("/bomb.json.gz").respond_with_data(bomb, content_type="application/gzip")
    url = httpserver.url_for("/bomb.json.gz")
    rss_bomb = gzip.compress(b"<rss version='2.0'><channel>" + b" " * (64 * 1024 * 1024), compresslevel=9)
    httpserver.expect_request("/feed.rss.gz").respond_with_data(rss_bomb, content_type="application/gzip")
    feed_url = httpserver.url_for("/feed.rss.gz")
    sources = [Source(name="bomb", kind="ocds", url=url, schedule="0 6 * * *", options={"urls": [url]}),
               Source(name="feedbomb", kind="feed", url=feed_url, schedule="0 6 * * *"), _good(httpserver, ocds)]
    with Fetcher(UA, min_interval=0, respect_robots=False, retries=0, max_bytes=4 * 1024 * 1024) as fetcher:
        reports = collect_all(engine, sources, fetcher)
    for report in reports[:2]:
        assert not report.ok and "more than 4194304 bytes once decompressed" in report.error, report.error
    assert reports[2].ok and reports[2].new == 1


def test_content_encoding_bomb_stops_at_the_size_cap(engine, httpserver, ocds):
    bomb = gzip.compress(b" " * (64 * 1024 * 1024), compresslevel=9)
    httpserver.expect_request("/enc.json").respond_with_data(bomb, headers={"Content-Encoding": "gzip"},
                                                            content_type="application/json")
    url = httpserver.url_for("/enc.json")
    sources = [Source(name="enc", kind="ocds", url=url, schedule="0 6 * * *", options={"urls": [url]}), _good(httpserver, ocds)]
    with Fetcher(UA, min_interval=0, respect_robots=False, retries=0, max_bytes=4 * 1024 * 1024) as fetcher:
        reports = collect_all(engine, sources, fetcher)
    assert not reports[0].ok and "body exceeds 4194304 bytes" in reports[0].error
    assert reports[1].ok and reports[1].new == 1
