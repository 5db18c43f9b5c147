"""Enterprise rule files: every check reports one located error; the shipped examples are clean."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from watcher.errors import RuleErrors
from watcher.models import Enterprise
from watcher.rules import check_rules, load_enterprise, load_enterprises

ROOT = Path(__file__).resolve().parent.parent
CASES = tomllib.loads((Path(__file__).parent / "data" / "rules" / "cases.toml").read_text("utf-8"))["case"]

GOOD = """\
id = "coop-a"
name = "Coop A"
emails = ["a@example.org"]
[match]
keywords = ["entretien ménager"]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / "enterprises" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_file_reports_exactly_one_located_error(tmp_path: Path, case: dict) -> None:
    path = write(tmp_path, "x.toml", case["text"])
    errors = check_rules(tmp_path)
    assert len(errors) == 1, "\n".join(map(str, errors))
    error = errors[0]
    assert (error.file, error.line, error.field) == (str(path), case.get("line"), case.get("field"))
    assert case["message"] in error.message
    where = f"{path}:{case['line']}: " if "line" in case else f"{path}: "
    assert str(error).startswith(where)
    assert " / " in error.message  # French / English


def test_duplicate_id_names_both_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a.toml", GOOD)
    second = write(tmp_path, "b.toml", GOOD.replace('name = "Coop A"', 'name = "Coop A bis"'))
    errors = check_rules(tmp_path)
    assert len(errors) == 1, errors
    assert (errors[0].file, errors[0].line, errors[0].field) == (str(second), 1, "id")
    assert f"{first}:1" in errors[0].message and 'id "coop-a" already used' in errors[0].message


def test_all_problems_of_all_files_are_collected(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", GOOD.replace('"a@example.org"', '"nobody"') + 'regions = ["18", "6"]\n')
    write(tmp_path, "b.toml", "id = \n")
    write(tmp_path, "c.toml", GOOD.replace("coop-a", "coop-c"))
    errors = check_rules(tmp_path)
    located = [(Path(e.file).name, e.line, e.field) for e in errors]
    assert located == [
        ("a.toml", 3, "emails"),
        ("a.toml", 6, "match.regions"),
        ("a.toml", 6, "match.regions"),
        ("b.toml", 1, None),
    ]
    with pytest.raises(RuleErrors) as raised:
        load_enterprises(tmp_path)
    assert [str(e) for e in raised.value.errors] == [str(e) for e in errors]
    assert str(raised.value).count("\n") == 3


def test_load_enterprise_normalises_to_tuples_and_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "a.toml", GOOD + '[capacity]\nmin_value = 5000\nmax_value = 250000.5\n')
    e = load_enterprise(path)
    assert e == Enterprise(
        id="coop-a", name="Coop A", emails=("a@example.org",), keywords=("entretien ménager",),
        min_value=5000.0, max_value=250000.5, source_file=str(path),
    )
    assert e.language == "fr" and e.regions == ("*",) and e.methods == ("gre_a_gre", "invitation", "public")
    assert isinstance(e.min_value, float)


def test_load_enterprise_raises_all_problems_of_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "a.toml", 'id = "A"\nname = ""\nemails = []\n')
    with pytest.raises(RuleErrors) as raised:
        load_enterprise(path)
    assert [e.field for e in raised.value.errors] == ["match", "id", "name", "emails"]


def test_missing_folder_is_an_error_and_empty_folder_is_not(tmp_path: Path) -> None:
    errors = check_rules(tmp_path)
    assert len(errors) == 1 and "folder not found" in errors[0].message
    (tmp_path / "enterprises").mkdir()
    assert check_rules(tmp_path) == [] and load_enterprises(tmp_path) == []


def test_file_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, "a.toml", "")
    path.write_bytes(GOOD.replace("ménager", "m\xe9nager").encode("latin-1"))
    errors = check_rules(tmp_path)
    assert len(errors) == 1 and errors[0].line is None and "cannot read" in errors[0].message


def test_shipped_examples_are_clean_and_load() -> None:
    folder = ROOT / "rules"
    assert check_rules(folder) == []
    enterprises = load_enterprises(folder)
    assert len(enterprises) == 5
    assert all(isinstance(e, Enterprise) for e in enterprises)
    assert [e.id for e in enterprises] == sorted(e.id for e in enterprises)  # files are named <id>.toml
    assert {e.language for e in enterprises} == {"fr", "en"}
    assert any(e.regions == ("*",) for e in enterprises)
    for e in enterprises:
        assert Path(e.source_file).stem == e.id
        assert all(m.endswith("@example.org") for m in e.emails)
        assert e.keywords and isinstance(e.keywords, tuple)
        assert e.min_value is not None and e.max_value is not None and 0 < e.min_value < e.max_value
