"""Prometheus metrics for the operator's monitoring (prometheus_client), read from the database at
each scrape, so a standby daemon, a restart or `watcher collect` run from cron all report the same
truth: per-source fetch outcomes, notices stored, digests sent/refused/failed, pending retries,
broken rule files, and the age of each source's last successful collect.

Served on `[metrics] port` while `watcher run` runs, and/or written to `[metrics] textfile` (for
the node exporter's textfile collector) after each job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from prometheus_client import CollectorRegistry, start_http_server, write_to_textfile
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from .store import oplog

log = logging.getLogger("watcher.metrics")


class StoreCollector(Collector):
    """Turns the store's bookkeeping into metric families at scrape time."""

    def __init__(self, engine: Engine, broken_files: Callable[[], int] = lambda: 0, retry_hours: float = 48.0) -> None:
        self.engine, self.broken_files, self.retry_hours = engine, broken_files, retry_hours

    def collect(self) -> Iterator:
        now = datetime.now(timezone.utc)
        with self.engine.connect() as conn:
            figures = oplog.collect_figures(conn)
            totals = oplog.digest_totals(conn)
            pending = oplog.pending_retries(conn, now, timedelta(hours=self.retry_hours))
        runs = CounterMetricFamily("watcher_source_runs", "Source runs by outcome", labels=["source", "outcome"])
        for source, ok, count in sorted(figures["runs"]):
            runs.add_metric([source, "ok" if ok else "failed"], count)
        yield runs
        age = GaugeMetricFamily("watcher_source_last_success_age_seconds",
                                "Seconds since the source's last successful collect", labels=["source"])
        stamp = GaugeMetricFamily("watcher_source_last_success_timestamp_seconds",
                                  "Unix time of the source's last successful collect", labels=["source"])
        for source, when in sorted(figures["last_success"].items()):
            age.add_metric([source], (now - when).total_seconds())
            stamp.add_metric([source], when.timestamp())
        yield age
        yield stamp
        yield GaugeMetricFamily("watcher_notices", "Notices stored", value=figures["notices"])
        digests = CounterMetricFamily("watcher_digests", "Digest mails by outcome (every run)", labels=["outcome"])
        for outcome in ("sent", "refused", "failed"):
            digests.add_metric([outcome], totals[outcome])
        yield digests
        yield CounterMetricFamily("watcher_digest_runs", "Digest runs (weekly and retries)", value=totals["runs"])
        yield GaugeMetricFamily("watcher_digest_pending_retries", "Enterprises whose digest waits for a retry",
                                value=len(pending))
        yield GaugeMetricFamily("watcher_rule_files_broken", "Rule and source files that fail validation",
                                value=self.broken_files())


def registry_for(engine: Engine, broken_files: Callable[[], int] = lambda: 0, retry_hours: float = 48.0) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(engine, broken_files, retry_hours))
    return registry


def serve(registry: CollectorRegistry, port: int, address: str = "127.0.0.1"):
    """Start the /metrics endpoint in a daemon thread; returns (server, thread) to shut it down."""
    server, thread = start_http_server(port, addr=address, registry=registry)
    log.info("metrics on http://%s:%d/metrics", address, port)
    return server, thread


def write_textfile(registry: CollectorRegistry, path: Path) -> None:
    """Write atomically (prometheus_client writes a temp file then renames), for the node exporter."""
    started = time.monotonic()
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        write_to_textfile(str(path), registry)
    except OSError as exc:
        log.warning("metrics textfile %s: %s", path, exc.strerror or exc)
        return
    log.debug("metrics textfile %s written in %.2f s", path, time.monotonic() - started)
