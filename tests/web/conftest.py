"""A console on real data: the February 2018 SEAO notices, a copy of the example profiles (the
console writes them), a real SMTP server for digests, and one coordinator account."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from watcher import app
from watcher.config import load_config
from watcher.store import feedback as fb
from watcher.store import open_store
from watcher.web.security import hash_password

ROOT = Path(__file__).resolve().parents[2]
FEB_2018 = ROOT / "demo" / "seao" / "AvisRevisions_20180201_20180228.xml.gz"
SECRET = "test-secret-0123456789-abcdefghijklmnop"
PASSWORD = "correct horse battery"


@pytest.fixture
def site(tmp_path, store_url, smtp_server):
    """(cfg, engine) with the web console configured and user "coord" created."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{store_url}"\n[paths]\nrules = "{rules}"\ntemplates = "{ROOT / "templates"}"\n'
        f'[delivery]\nbackend = "smtp"\nsender = "Veille <veille@example.org>"\n'
        f'[delivery.smtp]\nhost = "{smtp_server.host}"\nport = {smtp_server.port}\n'
        f'[web]\nenabled = true\nsecret = "{SECRET}"\nbase_url = "https://veille.example.org"\n', encoding="utf-8")
    cfg = load_config(path)
    engine = open_store(cfg.database_url)
    assert not app.import_paths(engine, [FEB_2018]).errors
    with engine.begin() as conn:
        fb.add_user(conn, "coord", hash_password(PASSWORD))
    yield cfg, engine
    engine.dispose()


@pytest.fixture
def client(site):
    from starlette.testclient import TestClient

    from watcher.web import create_app

    cfg, engine = site
    with TestClient(create_app(cfg, engine), base_url="https://veille.example.org") as c:
        yield c


@pytest.fixture
def csrf(client) -> str:
    """Log in as coord; the session's CSRF token (read from a console form)."""
    import re

    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"csrf": token, "username": "coord", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/console").text).group(1)


@pytest.fixture
def password() -> str:
    """coord's password, for tests that log in through a browser."""
    return PASSWORD
