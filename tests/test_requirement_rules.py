"""rules/requirements.toml: the shipped file loads clean; each mistake is one located, bilingual error."""

from __future__ import annotations

from pathlib import Path

import pytest

from watcher.errors import RuleErrors
from watcher.rules.requirements import (ANCHORS, FLAGS, STATUSES, RequirementRules, check_requirement_rules,
                                        compile_pattern, load_requirement_rules)

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "rules" / "requirements.toml"


def variant(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    """The shipped file with one unique piece of text replaced, written to tmp_path."""
    text = SHIPPED.read_text("utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / "requirements.toml"
    text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path, text


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def only_error(path: Path):
    errors = check_requirement_rules(path)
    assert len(errors) == 1, "\n".join(map(str, errors))
    assert " / " in errors[0].message  # French / English
    return errors[0]


def test_shipped_rules_load_clean() -> None:
    assert check_requirement_rules(SHIPPED) == []
    rules = load_requirement_rules(SHIPPED)
    assert isinstance(rules, RequirementRules)
    assert set(rules.groups) == {*STATUSES, *ANCHORS, *FLAGS}
    assert all(rules.groups[name].required for name in FLAGS)
    assert [form for form, patterns in rules.forms if patterns] == [form for form, _ in rules.forms]


def test_bad_regex_names_python_reason_at_its_line(tmp_path: Path) -> None:
    rbq = '  "licen[cs]es? (?:issued by|from) the (?:régie du bâtiment|rbq)",\n'
    path, text = variant(tmp_path, rbq, rbq + '  "licence (rbq",\n')
    error = only_error(path)
    assert (error.file, error.line, error.field) == (str(path), line_of(text, '"licence (rbq"'), "rbq_licence.patterns")
    assert "invalid regular expression" in error.message and "missing ), unterminated subpattern" in error.message
    assert str(error).startswith(f"{path}:{error.line}: rbq_licence.patterns: ")


def test_regex_matching_empty_text_is_refused(tmp_path: Path) -> None:
    path, text = variant(tmp_path, 'cash = [', 'cash = ["(?:comptant)?", ')
    error = only_error(path)
    assert (error.line, error.field) == (line_of(text, "cash = ["), "bid_bond.forms.cash")
    assert "matches empty text" in error.message


def test_unknown_key(tmp_path: Path) -> None:
    path, text = variant(tmp_path, "[settings]\n", '[settings]\ncolour = "green"\n')
    error = only_error(path)
    assert (error.line, error.field) == (line_of(text, "colour ="), "settings.colour")
    assert 'unknown key "colour" (allowed: sentence_end, window, none_words)' in error.message


def test_unknown_table(tmp_path: Path) -> None:
    path, text = variant(tmp_path, "[bid_bond.forms]\n", "[bid_bond.shapes]\nbond = []\n[bid_bond.forms]\n")
    error = only_error(path)
    assert (error.line, error.field) == (line_of(text, "[bid_bond.shapes]"), "bid_bond.shapes")
    assert "unknown table [bid_bond.shapes]" in error.message and "[bid_bond.forms]" in error.message


@pytest.mark.parametrize("old, new, field, message", [
    ("window = 200", 'window = "200"', "settings.window", "must be a whole number, not a string"),
    ('mention = ["expériences?", "experience"]', 'mention = "expérience"', "min_experience.mention",
     'must be a list of strings ["…"], not a string'),
    ('unless = ["sans pondération"]', 'unless = ["sans pondération", 3]', "quality_price_weighting.unless",
     "a list of strings"),
    ("window = 200", "window = 5", "settings.window", "out of range (5)"),
])
def test_wrong_type_or_value(tmp_path: Path, old: str, new: str, field: str, message: str) -> None:
    path, text = variant(tmp_path, old, new)
    error = only_error(path)
    assert (error.line, error.field) == (line_of(text, new), field)
    assert message in error.message


def test_missing_key_points_at_its_table(tmp_path: Path) -> None:
    path, text = variant(tmp_path, 'mention = ["expériences?", "experience"]\n', "")
    error = only_error(path)
    assert (error.line, error.field) == (line_of(text, "[min_experience]"), "min_experience.mention")
    assert "required key is missing" in error.message


def test_toml_syntax_error_has_its_line(tmp_path: Path) -> None:
    path, text = variant(tmp_path, "window = 200", "window = ")
    error = only_error(path)
    assert error.line == line_of(text, "window = ") and "invalid TOML syntax" in error.message


def test_all_problems_reported_at_once_and_load_refuses(tmp_path: Path) -> None:
    path, _ = variant(tmp_path, "window = 200", 'window = "x"\ncolour = 1')
    path.write_text(path.read_text("utf-8").replace('cash = [', 'cash = ["[", '), encoding="utf-8")
    errors = check_requirement_rules(path)
    assert [e.field for e in errors] == ["settings.window", "settings.colour", "bid_bond.forms.cash"]
    with pytest.raises(RuleErrors) as caught:
        load_requirement_rules(path)
    assert len(caught.value.errors) == 3


def test_patterns_fold_accents_and_spaces() -> None:
    pattern = compile_pattern("dépôt de garantie")
    assert pattern.search("depot de\ngarantie") and pattern.search("DEPOT DE GARANTIE")
    assert compile_pattern(r"\D+ ans").fullmatch("cinq ans")  # \D keeps its meaning (not folded to \d)
