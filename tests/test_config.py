"""config.toml: the example validates; each mistake names file:line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from watcher.config import load_config
from watcher.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_example_config_validates_and_resolves_paths():
    cfg = load_config(ROOT / "config.example.toml")
    assert cfg.database_url == f"sqlite:///{ROOT / 'watcher.db'}"
    assert cfg.rules_dir == ROOT / "rules"
    assert cfg.delivery.backend == "outbox" and cfg.delivery.smtp.port == 25


def test_embedded_defaults_need_no_file(tmp_path):
    cfg = load_config(None, base=tmp_path)
    assert cfg.database_url == f"sqlite:///{tmp_path / 'watcher.db'}"
    assert cfg.digest.language == "fr"


@pytest.mark.parametrize(
    "text, where, message",
    [
        ('[database]\nurl = "sqlite:///x.db"\n[delivery]\nbackend = "outbox"\nsendr = "a@b.c"\n', "5: delivery.sendr", "unknown key"),
        ('[databse]\nurl = "x"\n', "1: databse", "unknown table"),
        ('[delivery.smtp]\nhost = "mail"\nport = "587"\n', "3: delivery.smtp.port", "must be int"),
        ('[delivery.smtp]\nport = 70000\n', "2: delivery.smtp.port", "between 1 and 65535"),
        ('[delivery]\nbackend = "pigeon"\n', "2: delivery.backend", "allowed: outbox, smtp"),
        ('[digest]\nlanguage = "es"\n', "2: digest.language", "allowed: fr, en"),
        ('[delivery.smtp]\nstarttls = true\nssl = true\n', "3: delivery.smtp.ssl", "exclude each other"),
        ('[database]\nurl = "watcher.db"\n', "2: database.url", "not a database URL"),
        ('[digest]\nmax_items = true\n', "2: digest.max_items", "must be int"),
        ('[fetch]\nuser_agent = "veille des marchés"\n', "2: fetch.user_agent", "ASCII only"),
    ],
    ids=["unknown-key", "unknown-table", "wrong-type", "port-range", "bad-backend", "bad-language", "tls-both", "bad-url",
         "bool-is-not-int", "non-ascii-user-agent"],
)
def test_config_errors_name_file_line_and_key(tmp_path, text, where, message):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f"{path}:{where}" in str(err.value)
    assert message in str(err.value)
    assert err.value.hint


def test_invalid_toml_is_a_config_error(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[database\nurl=", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(path)
