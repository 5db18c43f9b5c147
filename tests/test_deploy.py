"""Deployment as written: `watcher init --system` lays out a temporary root as the README says,
`systemd-analyze verify` accepts the unit installed there, and the unit's own ExecStartPre /
ExecStart / ExecReload command lines run against that root (paths rewritten under it), writing
state only under StateDirectory= and nothing under the read-only /etc/watcher."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "watcher.service"


def unit_entries(path: Path) -> dict[str, list[str]]:
    """Key -> values of a systemd unit (keys may repeat), comments and sections dropped."""
    out: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        out.setdefault(key.strip(), []).append(value.strip())
    return out


def _under(root: Path, command: str) -> list[str]:
    """The unit's command line with its absolute paths moved under `root`; a leading "-" (failure
    ignored) dropped."""
    words = shlex.split(command.lstrip("-"))
    moved = []
    for word in words:
        for prefix in ("/opt/watcher", "/etc/watcher", "/var/lib/watcher"):
            if word.startswith(prefix):
                word = str(root) + word
        moved.append(word)
    return moved


def _snapshot(folder: Path) -> dict[str, tuple[int, float]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime) for p in folder.rglob("*")}


@pytest.fixture
def system_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    done = subprocess.run([sys.executable, "-m", "watcher.cli", "init", "--system", "--root", str(root), "--from", str(ROOT)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # the venv of the README's install steps: /opt/watcher/bin/watcher
    exe = root / "opt" / "watcher" / "bin" / "watcher"
    exe.parent.mkdir(parents=True)
    exe.write_text(f'#!/bin/sh\nexec {sys.executable} -m watcher.cli "$@"\n', encoding="utf-8")
    exe.chmod(0o755)
    return root


def test_init_system_lays_out_what_the_readme_and_the_unit_say(system_root: Path):
    etc, state = system_root / "etc" / "watcher", system_root / "var" / "lib" / "watcher"
    assert (etc / "config.toml").stat().st_mode & 0o777 == 0o640  # it may hold a password
    assert sorted(p.name for p in (etc / "rules" / "enterprises").glob("*.toml")) == \
        sorted(p.name for p in (ROOT / "rules" / "enterprises").glob("*.toml"))
    assert (etc / "sources").is_dir() and (etc / "templates" / "digest.html.j2").is_file() and state.is_dir()
    entries = unit_entries(system_root / "etc" / "systemd" / "system" / "watcher.service")
    doc = entries["Documentation"][0]
    assert doc.startswith("file://") and (system_root / doc[len("file:///"):]).is_file()
    assert entries["StateDirectory"] == ["watcher"] and entries["WorkingDirectory"] == ["/var/lib/watcher"]
    assert entries["ReadOnlyPaths"] == ["/etc/watcher"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "watcher init --system" in readme and "/var/lib/watcher" in readme and "/etc/watcher/config.toml" in readme
    # a second run keeps what the operator edited
    (etc / "config.toml").write_text((etc / "config.toml").read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    again = subprocess.run([sys.executable, "-m", "watcher.cli", "init", "--system", "--root", str(system_root), "--from", str(ROOT)],
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and (etc / "config.toml").read_text(encoding="utf-8").endswith("# edited\n")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed (Debian: systemd)")
def test_systemd_analyze_verify_accepts_the_unit_as_installed(system_root: Path):
    # verify resolves the unit's dependencies (sysinit.target...) and ExecStart= inside --root
    shutil.copytree("/usr/lib/systemd/system", system_root / "usr" / "lib" / "systemd" / "system", symlinks=True)
    (system_root / "bin").mkdir()
    shutil.copy2("/bin/kill", system_root / "bin" / "kill")  # ExecReload=, as on any system
    unit = system_root / "etc" / "systemd" / "system" / "watcher.service"
    done = subprocess.run(["systemd-analyze", "verify", f"--root={system_root}", str(unit)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "watcher.service" not in done.stderr, done.stderr
    (system_root / "opt" / "watcher" / "bin" / "watcher").unlink()  # the check is real: no ExecStart binary, refused
    missing = subprocess.run(["systemd-analyze", "verify", f"--root={system_root}", str(unit)], capture_output=True,
                             text=True, timeout=60)
    assert missing.returncode != 0 and "/opt/watcher/bin/watcher" in missing.stderr


def test_the_units_own_command_lines_run_against_the_laid_out_root(system_root: Path):
    entries = unit_entries(UNIT)
    etc, state = system_root / "etc" / "watcher", system_root / "var" / "lib" / "watcher"
    before = _snapshot(etc)
    [pre] = entries["ExecStartPre"]
    checked = subprocess.run(_under(system_root, pre), capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr
    assert "ok:" in checked.stdout and str(etc / "rules") in checked.stdout
    [start] = entries["ExecStart"]
    cwd = _under(system_root, entries["WorkingDirectory"][0])[0]
    daemon = subprocess.Popen(_under(system_root, start), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 60
        while not (state / "watcher.db").exists() or "daemon started" not in _peek(daemon):
            assert daemon.poll() is None, daemon.stdout.read()
            assert time.monotonic() < deadline, "the daemon did not start within 60 s"
            time.sleep(0.3)
        [reload] = entries["ExecReload"]
        assert reload == "/bin/kill -HUP $MAINPID"
        subprocess.run(["/bin/kill", "-HUP", str(daemon.pid)], check=True)
        deadline = time.monotonic() + 30
        while "reloaded (SIGHUP)" not in _peek(daemon):
            assert time.monotonic() < deadline and daemon.poll() is None, "no reload on SIGHUP"
            time.sleep(0.3)
        daemon.send_signal(signal.SIGTERM)  # KillSignal=
        daemon.wait(timeout=int(entries["TimeoutStopSec"][0]))
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, _peek(daemon)
    assert (state / "watcher.db").is_file() and (state / "outbox").is_dir()
    assert _snapshot(etc) == before  # ReadOnlyPaths=/etc/watcher: nothing written there


_seen: dict[int, str] = {}


def _peek(proc: subprocess.Popen) -> str:
    """What the process printed so far, without blocking (its stdout made non-blocking once)."""
    import fcntl

    fd = proc.stdout.fileno()
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
    try:
        chunk = os.read(fd, 1 << 16)
    except BlockingIOError:
        chunk = b""
    _seen[proc.pid] = _seen.get(proc.pid, "") + chunk.decode("utf-8", "replace")
    return _seen[proc.pid]
