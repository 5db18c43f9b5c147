"""The container image: its entrypoint and volume layout, tested two ways.

1. Always: the Containerfile read as data (ENTRYPOINT, CMD, VOLUME, USER, the `init --system` RUN
   line), and that entrypoint run against a root laid out by the same `init --system`.
2. With a built image (WATCHER_TEST_IMAGE, e.g. localhost/watcher:dev, built as README
   "Container" says) and buildah: the image's recorded entrypoint run inside it as its user, with a
   host folder as the volume: the database lands on the volume. Containers cannot be *started*
   here (crun: "cgroups in hybrid mode not supported", setrlimit denied), so the entrypoint runs
   with `buildah run --isolation chroot`, the same mechanism the build's RUN steps use."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IMAGE = os.environ.get("WATCHER_TEST_IMAGE")


def containerfile() -> dict[str, list[str]]:
    """Instruction -> arguments (continuation lines joined), comments dropped."""
    out: dict[str, list[str]] = {}
    text = (ROOT / "Containerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.setdefault(word.upper(), []).append(rest.strip())
    return out


def test_containerfile_entrypoint_and_volume_follow_the_init_system_layout(tmp_path: Path):
    spec = containerfile()
    entrypoint = json.loads(spec["ENTRYPOINT"][0])
    assert entrypoint == ["watcher", "--config", "/etc/watcher/config.toml"] and json.loads(spec["CMD"][0]) == ["run"]
    assert json.loads(spec["VOLUME"][0]) == ["/var/lib/watcher"] and spec["USER"] == ["watcher"]
    assert any("watcher init --system --from /src" in run for run in spec["RUN"])
    health = json.loads(spec["HEALTHCHECK"][0].split("CMD", 1)[1])
    assert health[:3] == entrypoint and health[3:] == ["status"]
    # the image's RUN line, under a temporary root; then the entrypoint against it
    root = tmp_path / "root"
    done = subprocess.run([sys.executable, "-m", "watcher.cli", "init", "--system", "--root", str(root), "--from", str(ROOT)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    argv = [sys.executable, "-m", "watcher.cli", "--config", str(root) + entrypoint[2]]
    volume = root / "var" / "lib" / "watcher"
    checked = subprocess.run([*argv, "rules", "check"], capture_output=True, text=True, timeout=60, cwd=volume)
    status = subprocess.run([*argv, "status"], capture_output=True, text=True, timeout=60, cwd=volume)
    assert checked.returncode == 0 and status.returncode == 0, (checked.stderr, status.stderr)
    assert sorted(p.name for p in volume.iterdir()) == ["outbox", "watcher.db"]  # state only on the volume


@pytest.mark.skipif(not IMAGE or shutil.which("buildah") is None,
                    reason="set WATCHER_TEST_IMAGE to a built image (README, Container) and install buildah")
def test_built_image_runs_its_entrypoint_as_its_user_with_state_on_the_volume(tmp_path: Path):
    buildah = ["buildah", "--storage-driver", os.environ.get("WATCHER_TEST_STORAGE_DRIVER", "vfs")]
    info = json.loads(subprocess.run([*buildah, "inspect", "--type", "image", IMAGE], capture_output=True, text=True,
                                     check=True, timeout=60).stdout)
    config = info["OCIv1"]["config"]
    assert config["User"] == "watcher" and "/var/lib/watcher" in config["Volumes"]
    container = subprocess.run([*buildah, "from", IMAGE], capture_output=True, text=True, check=True, timeout=120).stdout.strip()
    volume = tmp_path / "volume"
    volume.mkdir()
    os.chown(volume, 10001, 0)  # the image's watcher user (useradd --uid 10001)
    try:
        def run(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([*buildah, "run", "--isolation", "chroot", "--user", config["User"], "--workingdir",
                                   config["WorkingDir"], "-v", f"{volume}:/var/lib/watcher", container, "--",
                                   *config["Entrypoint"], *args], capture_output=True, text=True, timeout=300)

        checked, status = run("rules", "check"), run("status", "--json")
        assert checked.returncode == 0, checked.stderr
        assert status.returncode == 0 and json.loads(status.stdout)["rule_files"]["broken"] == [], status.stderr
        assert (volume / "watcher.db").stat().st_uid == 10001  # written by the image's user, on the volume
        helped = run("--help")
        assert helped.returncode == 0 and "status" in helped.stdout
    finally:
        subprocess.run([*buildah, "rm", container], capture_output=True, timeout=60)
    assert shlex.join(config["Entrypoint"]) == "watcher --config /etc/watcher/config.toml"
