"""Measuring a child process honestly: wall time, CPU time and its own peak RSS."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measured(cmd: list[str], stdin: Path | None = None, env: dict | None = None,
             stderr: Path | None = None) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of a child process, from /usr/bin/time -v: the child's own
    high-water mark (RUSAGE_CHILDREN would report the largest child ever, parent's fork included).
    Its standard output is discarded (it is still written: `notices --json` pays for its output);
    its standard error is kept in `stderr` when given."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        with open(stdin or os.devnull, "rb") as feed:
            start = time.perf_counter()
            done = subprocess.run(["/usr/bin/time", "-v", "-o", report.name, *cmd], stdin=feed, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, check=False, cwd=ROOT, env=env)
            wall = time.perf_counter() - start
        if stderr is not None:
            stderr.write_bytes(done.stderr)
        if done.returncode not in (0, 1):  # 1: the command ran and reported a failure it found
            raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.decode()[-2000:]}")
        fields = dict(line.strip().rsplit(": ", 1) for line in report.read().splitlines() if ": " in line)
    cpu = float(fields["User time (seconds)"]) + float(fields["System time (seconds)"])
    return wall, cpu, int(fields["Maximum resident set size (kbytes)"]) / 1024


class CountingHandler:
    """aiosmtpd handler (`-c measure.CountingHandler PATH`): accepts every mail and appends one byte
    per mail to PATH, so the benchmark counts what the server accepted (its size)."""

    def __init__(self, path: str) -> None:
        self.out = open(path, "ab", buffering=0)  # noqa: SIM115 - open for the server's life

    @classmethod
    def from_cli(cls, parser, *args: str) -> "CountingHandler":
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope) -> str:
        self.out.write(b".")
        return "250 OK"


@contextmanager
def smtp_sink(count_file: Path) -> Iterator[tuple[int, Callable[[], int]]]:
    """A local aiosmtpd server in its own process, as a real one would be (in the measuring process
    it would compete for the interpreter lock): yields (port, a function giving the mails accepted)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    count_file.write_bytes(b"")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent)}
    server = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                               "-c", "measure.CountingHandler", str(count_file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port, lambda: count_file.stat().st_size
    finally:
        server.terminate()
        server.wait()
