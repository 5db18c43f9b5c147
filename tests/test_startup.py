"""A command loads only what it uses (issue 16): `watcher --help` imports no database, parser or
merge library, `watcher status` no Alembic, lxml or bs4. Times are measured by
benchmarks/run_all.py (--only startup); this checks the imports that make them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("sqlalchemy", "alembic", "lxml", "bs4", "ocdsmerge", "feedparser", "jinja2", "ijson")


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint('LOADED', *(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    err = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stderr
    return err.split("LOADED", 1)[1].split()


def test_help_imports_nothing_heavy():
    assert _loaded_after("from watcher.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass") == []


def test_status_on_a_current_store_imports_only_sqlalchemy(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "w.db"}"\n', encoding="utf-8")
    subprocess.run([sys.executable, "-m", "watcher.cli", "--config", str(config), "init"], check=True, capture_output=True)
    code = f"from watcher.cli import main\nmain(['--config', {str(config)!r}, 'status'])"
    assert _loaded_after(code) == ["sqlalchemy"]


def test_status_loads_neither_the_matcher_nor_the_lexicon(tmp_path):
    """status reads the store and checks rule files: the matcher and simplemma's French lexicon (0.3-0.6 s)
    are for commands that judge."""
    root = Path(__file__).resolve().parent.parent
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "w.db"}"\n[paths]\nrules = "{root / "rules"}"\n'
                      f'sources = "{root / "sources"}"\n', encoding="utf-8")
    subprocess.run([sys.executable, "-m", "watcher.cli", "--config", str(config), "init"], check=True, capture_output=True)
    code = (f"import sys\nfrom watcher.cli import main\nmain(['--config', {str(config)!r}, 'status'])\n"
            "print('LOADED', *(m for m in ('watcher.match', 'simplemma') if m in sys.modules), file=sys.stderr)")
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False).stderr
    assert err.split("LOADED", 1)[1].split() == []
