"""`watcher init --system`: lay out what deploy/watcher.service needs, following the file-system
conventions (config and rule files under /etc/watcher, state under /var/lib/watcher, which
systemd's StateDirectory= also creates, logs to the journal).

    /etc/watcher/config.toml         root:watcher 0640 (it may hold a password)
    /etc/watcher/rules/, sources/, templates/   the defaults, to edit (never overwritten)
    /var/lib/watcher/                watcher 0750: watcher.db, outbox/
    /usr/local/share/doc/watcher/README.md      Documentation= of the unit
    /etc/systemd/system/watcher.service

`root` lets a test (or an image build) lay it out under another folder; every path written into
config.toml is then under that root, so the unit's own command lines run against it.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .errors import WatcherError

CONFIG_TEMPLATE = """\
# watcher configuration, written by `watcher init --system`; every key: config.example.toml.
# Relative paths are relative to this folder ({etc}).

[database]
# PostgreSQL in production: url = "postgresql+psycopg://watcher@localhost/watcher", and the password in
# {etc}/database_password (LoadCredential= in the unit) or password_file, never here.
url = "sqlite:///{state}/watcher.db"

[paths]
sources = "sources"
rules = "rules"
templates = "templates"

[delivery]
backend = "outbox"                 # "smtp" in production, with [delivery.smtp]
outbox = "{state}/outbox"
# [delivery.smtp]
# host = "smtp.example.org"
# port = 587
# starttls = true
# user = "veille@example.org"
# password: {etc}/smtp_password (LoadCredential=smtp_password:... in the unit) or password_file

[daemon]
log_format = "text"                # "json" for log shippers; the journal keeps either

# [metrics]
# port = 9464                      # Prometheus endpoint while `watcher run` runs
# textfile = "/var/lib/prometheus/node-exporter/watcher.prom"
"""


@dataclass
class Layout:
    root: Path
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    @property
    def etc(self) -> Path:
        return self.root / "etc" / "watcher"

    @property
    def state(self) -> Path:
        return self.root / "var" / "lib" / "watcher"


def init_system(root: Path, tree: Path, user: str = "watcher") -> Layout:
    """Create the layout under `root` from the source tree `tree` (a checkout: rules/, sources/,
    templates/, README.md, deploy/watcher.service). Existing files are kept, never overwritten."""
    root, tree = Path(root).resolve(), Path(tree).resolve()
    missing = [name for name in ("rules", "sources", "templates", "README.md", "deploy/watcher.service") if not (tree / name).exists()]
    if missing:
        raise WatcherError(f"{tree}: pas une copie du projet / not a checkout of watcher (missing: {', '.join(missing)})",
                           hint="pass the checkout the package was installed from: watcher init --system --from PATH")
    out = Layout(root)
    owner = _ids(user)
    try:
        out.etc.mkdir(parents=True, exist_ok=True)
        for name in ("rules", "sources", "templates"):
            _copy_tree(tree / name, out.etc / name, out)
        config = out.etc / "config.toml"
        if config.exists():
            out.kept.append(str(config))
        else:
            config.write_text(CONFIG_TEMPLATE.format(etc=out.etc, state=out.state), encoding="utf-8")
            config.chmod(0o640)
            if owner:
                os.chown(config, 0, owner[1])
            out.created.append(str(config))
        for folder in (out.state, out.state / "outbox"):
            if not folder.exists():
                folder.mkdir(parents=True, mode=0o750)
                out.created.append(str(folder))
            if owner:
                os.chown(folder, *owner)
        _copy_file(tree / "README.md", root / "usr" / "local" / "share" / "doc" / "watcher" / "README.md", out)
        _copy_file(tree / "deploy" / "watcher.service", root / "etc" / "systemd" / "system" / "watcher.service", out)
    except OSError as exc:
        raise WatcherError(f"{exc.filename or root}: {exc.strerror or exc}",
                           hint="run as root (sudo watcher init --system), or give --root DIR to lay it out elsewhere") from exc
    return out


def _ids(user: str) -> tuple[int, int] | None:
    """(uid, gid) of the service user when it exists and we may chown (root); else None."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None
    try:
        gid = grp.getgrnam(user).gr_gid
    except KeyError:
        gid = entry.pw_gid
    return entry.pw_uid, gid


def _copy_tree(src: Path, dst: Path, out: Layout) -> None:
    for path in sorted(src.rglob("*")):
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(src).parts):
            _copy_file(path, dst / path.relative_to(src), out)


def _copy_file(src: Path, dst: Path, out: Layout) -> None:
    if dst.exists():
        out.kept.append(str(dst))
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)
    out.created.append(str(dst))
