"""Score the requirement extractor against the hand-labelled SEAO notices and the labelled sentences.

Usage: python benchmarks/requirements_score.py [NOTICES_DIR] [--sentences JSONL] [--rules RULES_TOML]

NOTICES_DIR holds seao-notices-fr-2025-01.jsonl and seao-notices-fr-2025-01.labels.jsonl (one label
per notice, same order; see LABELS.md there). By default ../shared/data/notices beside the
repository; RULES_TOML defaults to the repository's rules/requirements.toml.
The second set, tests/data/requirements/sentences.jsonl (see the README there), holds one sentence
per line with `expect`: every field that differs from its empty value. It was written while the
extractor was extended, so its score is a regression check, not a held-out measure.

How each field is scored, notice by notice (gold = the hand label, pred = the extractor):
- status fields (bid_bond, performance_bond): a "positive" is any value but not_stated, i.e.
  required or none. TP: pred positive and equal to gold. FP: pred positive and not equal to gold.
  FN: gold positive and pred not equal to gold. A wrong positive (none where gold says required)
  is therefore one FP and one FN.
- numeric fields (percents, amounts, validity days): positive = a number; values must be equal
  exactly. Same TP/FP/FN rule.
- bid_bond_forms: each accepted form is one item: TP = forms in both, FP = forms predicted only,
  FN = forms in gold only.
- booleans (rbq_licence, amp_authorisation, revenu_quebec_attestation): positive = true.
- applies_from (sentences only): each (requirement, threshold) pair is one item, like the forms.
Precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = their harmonic mean; "-" when undefined (no
positive on either side). "agree" counts notices whose predicted value equals gold exactly,
negatives included. The micro line sums TP, FP and FN over all fields.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from watcher.match.requirements import LABEL_KEYS, extract
from watcher.rules.requirements import load_requirement_rules

REPO = Path(__file__).resolve().parent.parent
DEFAULT_NOTICES = REPO / ".." / "shared" / "data" / "notices"
DEFAULT_RULES = REPO / "rules" / "requirements.toml"
STEM = "seao-notices-fr-2025-01"
DEFAULT_SENTENCES = REPO / "tests" / "data" / "requirements" / "sentences.jsonl"
SENTENCE_KEYS = (*LABEL_KEYS, "performance_bond_amount", "site_visit_required", "applies_from")
EMPTY: dict[str, Any] = {k: None for k in SENTENCE_KEYS} | {
    "bid_bond": "not_stated", "performance_bond": "not_stated", "bid_bond_forms": [], "rbq_licence": False,
    "amp_authorisation": False, "revenu_quebec_attestation": False, "site_visit_required": False, "applies_from": {}}


def load(folder: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(notice, label) pairs; the two files must have the same length and references."""
    for name in (f"{STEM}.jsonl", f"{STEM}.labels.jsonl"):
        if not (folder / name).is_file():
            sys.exit(f"{folder / name}: not found (give the folder of the labelled notices as argument)")
    notices = [json.loads(line) for line in (folder / f"{STEM}.jsonl").read_text("utf-8").splitlines() if line.strip()]
    labels = [json.loads(line) for line in (folder / f"{STEM}.labels.jsonl").read_text("utf-8").splitlines() if line.strip()]
    if len(notices) != len(labels):
        sys.exit(f"{folder}: {len(notices)} notices but {len(labels)} labels")
    for n, lab in zip(notices, labels):
        if n["seao_reference"] != lab["seao_reference"]:
            sys.exit(f"{folder}: label {lab['seao_reference']} is not on the line of notice {n['seao_reference']}")
    return [({"id": n["seao_reference"], "text": n["text"]}, lab) for n, lab in zip(notices, labels)]


def load_sentences(path: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(case, label) pairs: the label is the empty value of every field, overridden by `expect`."""
    if not path.is_file():
        sys.exit(f"{path}: not found")
    cases = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    for number, case in enumerate(cases, start=1):
        unknown = set(case["expect"]) - set(EMPTY)
        if unknown:
            sys.exit(f"{path}:{number}: unknown field(s) {sorted(unknown)} (allowed: {', '.join(EMPTY)})")
    return [({"id": c["name"], "text": c["text"]}, EMPTY | c["expect"]) for c in cases]


def counts(key: str, gold: Any, pred: Any) -> tuple[int, int, int]:
    """(TP, FP, FN) of one field of one notice, under the rules of the module docstring."""
    if key in ("bid_bond_forms", "applies_from"):
        g, p = (set((gold or {}).items()), set((pred or {}).items())) if key == "applies_from" else (set(gold or []), set(pred or []))
        return len(g & p), len(p - g), len(g - p)
    negative = "not_stated" if key in ("bid_bond", "performance_bond") else (False if isinstance(gold, bool) else None)
    gold_pos, pred_pos, same = gold != negative, pred != negative, gold == pred
    return int(pred_pos and same), int(pred_pos and not same), int(gold_pos and not same)


def ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def prf(tp: int, fp: int, fn: int) -> tuple[float | None, float | None, float | None]:
    p, r = ratio(tp, tp + fp), ratio(tp, tp + fn)
    f1 = None if p is None or r is None else (0.0 if p + r == 0 else 2 * p * r / (p + r))
    if f1 is None and tp + fp + fn:
        f1 = 0.0
    return p, r, f1


def same(key: str, gold: Any, pred: Any) -> bool:
    return sorted(gold) == sorted(pred) if key == "bid_bond_forms" else gold == pred


def score(pairs: list[tuple[dict, dict]], rules_path: Path,
          keys: tuple[str, ...] = LABEL_KEYS) -> tuple[dict[str, list[int]], list[str]]:
    """Per field [TP, FP, FN, agree], and one line per disagreement."""
    rules = load_requirement_rules(rules_path)
    table = {key: [0, 0, 0, 0] for key in keys}
    mismatches = []
    for number, (notice, label) in enumerate(pairs, start=1):
        found = extract(notice["text"], rules).to_json()
        for key in keys:
            found.setdefault(key, EMPTY.get(key))  # an older extractor without the field
            tp, fp, fn = counts(key, label[key], found[key])
            row = table[key]
            row[0] += tp
            row[1] += fp
            row[2] += fn
            if same(key, label[key], found[key]):
                row[3] += 1
            else:
                said = found["evidence"].get(key) or label.get("evidence", {}).get(key) or ""
                mismatches.append(f"#{number:<2} {notice['id']} {key}: gold {label[key]!r}, got "
                                  f"{found[key]!r}" + (f" — « {' '.join(said.split())[:100]} »" if said else ""))
    return table, mismatches


def show(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def report(title: str, pairs: list[tuple[dict, dict]], table: dict[str, list[int]], mismatches: list[str]) -> None:
    print(title)
    print(f"{'field':<32}{'TP':>4}{'FP':>4}{'FN':>4}{'precision':>11}{'recall':>8}{'F1':>7}{'agree':>8}")
    total = [0, 0, 0]
    for key, (tp, fp, fn, agree) in table.items():
        p, r, f1 = prf(tp, fp, fn)
        total = [total[0] + tp, total[1] + fp, total[2] + fn]
        print(f"{key:<32}{tp:>4}{fp:>4}{fn:>4}{show(p):>11}{show(r):>8}{show(f1):>7}{f'{agree}/{len(pairs)}':>8}")
    p, r, f1 = prf(*total)
    print(f"{'micro (all fields)':<32}{total[0]:>4}{total[1]:>4}{total[2]:>4}{show(p):>11}{show(r):>8}{show(f1):>7}")
    print(f"\nMismatches: {len(mismatches)}")
    for line in mismatches:
        print("  " + line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notices", nargs="?", type=Path, default=DEFAULT_NOTICES, help="folder of the labelled notices")
    parser.add_argument("--sentences", type=Path, default=DEFAULT_SENTENCES, help="labelled sentences (JSON lines)")
    parser.add_argument("--rules", type=Path, default=DEFAULT_RULES, help="requirement rule file")
    args = parser.parse_args(argv)
    pairs = load(args.notices.resolve())
    report(f"Set 1: {len(pairs)} notices from {args.notices.resolve()}, rules {args.rules}", pairs,
           *score(pairs, args.rules))
    sentences = load_sentences(args.sentences.resolve())
    print()
    report(f"Set 2: {len(sentences)} sentences from {args.sentences.resolve()} (written with the rules: not held out)",
           sentences, *score(sentences, args.rules, SENTENCE_KEYS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
