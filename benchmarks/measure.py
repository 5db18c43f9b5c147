"""Measuring a child process honestly: wall time, CPU time and its own peak RSS."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measured(cmd: list[str], stdin: Path | None = None, env: dict | None = None) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of a child process, from /usr/bin/time -v: the child's own
    high-water mark (RUSAGE_CHILDREN would report the largest child ever, parent's fork included).
    Its standard output is discarded (it is still written: `notices --json` pays for its output)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        with open(stdin or os.devnull, "rb") as feed:
            start = time.perf_counter()
            done = subprocess.run(["/usr/bin/time", "-v", "-o", report.name, *cmd], stdin=feed, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, check=False, cwd=ROOT, env=env)
            wall = time.perf_counter() - start
        if done.returncode not in (0, 1):  # 1: the command ran and reported a failure it found
            raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.decode()[-2000:]}")
        fields = dict(line.strip().rsplit(": ", 1) for line in report.read().splitlines() if ": " in line)
    cpu = float(fields["User time (seconds)"]) + float(fields["System time (seconds)"])
    return wall, cpu, int(fields["Maximum resident set size (kbytes)"]) / 1024
