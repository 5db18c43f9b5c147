"""Editing a profile through the console's form: the fields are written into the TOML with tomlkit,
untouched fields keep their comments and layout, and the usual check, diff and save follow."""

from __future__ import annotations

import re
from pathlib import Path

from watcher.rules.edit import apply_form, form_values

ROOT = Path(__file__).resolve().parents[2]
COOP = "coop-entretien-horizon"


def test_an_unchanged_form_leaves_the_file_byte_for_byte():
    text = (ROOT / "rules" / "enterprises" / f"{COOP}.toml").read_text()
    assert apply_form(text, form_values(text)) == text


def test_changed_fields_are_replaced_and_comments_kept():
    text = (ROOT / "rules" / "enterprises" / f"{COOP}.toml").read_text()
    values = form_values(text) | {"capacity.max_value": "300 000", "capacity.min_value": "",
                                  "match.categories": "S9\nS13"}
    out = apply_form(text, values)
    assert "max_value = 300000   # un contrat annuel" in out  # the trailing comment survives
    assert "min_value" not in out  # emptied: removed
    assert 'categories = ["S9", "S13"]' in out
    assert out.count("#") == text.count("#") - 1  # only min_value's comment went with it


def test_the_form_in_the_console_checks_shows_the_diff_and_saves(site, client, csrf):
    cfg, engine = site
    path = cfg.rules_dir / "enterprises" / f"{COOP}.toml"
    original = path.read_text()
    page = client.get(f"/console/enterprises/{COOP}/edit").text
    assert 'name="f:capacity.max_value" value="250000"' in page
    fields = form_values(original)
    data = {"csrf": csrf, "text": original, "action": "form"} | {f"f:{k}": v for k, v in fields.items()}
    r = client.post(f"/console/enterprises/{COOP}/edit", data=data | {"f:capacity.max_value": "beaucoup"})
    line = next(i for i, l in enumerate(original.splitlines(), 1) if l.startswith("max_value"))
    assert r.status_code == 422 and f"{COOP}.toml:{line}: capacity.max_value" in r.text
    r = client.post(f"/console/enterprises/{COOP}/edit", data=data | {"f:capacity.max_value": "300000",
                                                                       "f:match.regions": "06\n13\n16"})
    assert r.status_code == 200 and re.search(r"pertes : [1-9]", r.text)  # its Laurentides notices
    checked = re.search(r'name="checked" value="([0-9a-f]{64})"', r.text).group(1)
    text = re.search(r'<textarea id="text"[^>]*>(.*?)</textarea>', r.text, re.S).group(1)
    from html import unescape

    r = client.post(f"/console/enterprises/{COOP}/edit",
                    data={"csrf": csrf, "text": unescape(text), "action": "save", "checked": checked})
    assert r.status_code == 200 and "Profil enregistré" in r.text
    saved = path.read_text()
    assert "max_value = 300000   # un contrat annuel" in saved and saved.count("#") == original.count("#")
    assert 'regions = ["06", "13", "16"]' in saved
