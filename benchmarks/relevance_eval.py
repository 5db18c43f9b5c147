"""Score the matcher against the hand relevance labels of ../shared/data/relevance (RELEVANCE.md).

Usage: python benchmarks/relevance_eval.py [--rules RULES_DIR] [--data SHARED_DATA] [--keep DIR] [--pairs]

It does what a coordinator would: a scratch store, `watcher import` of the 24 SEAO AvisRevisions
files of 2018-2019 and of the 40 CanadaBuys rows, then `watcher match --json --all` (judged as
published), and compares what was printed with the labels:
- trade: a pair printed with a `capability` reason that is ok, against `trade: true`;
- digest: a pair with any verdict other than `no`, against `digest: true`.
Only the notices the labels cover are scored (SEAO notices published in 2018-2019 and the 40
CanadaBuys rows); an unlisted pair of those notices counts as `trade: false` (RELEVANCE.md).

Why a subprocess of the real CLI and not a function call: the figures must be those of the command
a coordinator runs. The profiles' word lists were written on these same notices, so the figures are
an upper bound of what unseen notices and profiles give; the held-out set is the real measure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _watcher(config: Path, *args: str) -> str:
    cmd = [sys.executable, "-m", "watcher.cli", "--config", str(config), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def _labels(data: Path) -> dict[tuple[str, str], dict]:
    out: dict[tuple[str, str], dict] = {}
    for name in ("seao-2018-2019.labels.jsonl", "canadabuys-sample.labels.jsonl"):
        for line in (data / "relevance" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out[(row["notice"], row["enterprise"])] = row
    return out


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def score(pairs: list[dict], labels: dict[tuple[str, str], dict], scope: set[str]) -> dict:
    """Per enterprise and overall: trade and digest counts (tp, fp, fn) and the wrong pairs."""
    flagged: dict[str, set] = {"trade": set(), "digest": set()}
    for row in pairs:
        key = (row["notice"], row["enterprise"])
        if row["notice"] not in scope:
            continue
        if any(r["criterion"] == "capability" and r["ok"] for r in row["reasons"]):
            flagged["trade"].add(key)
        if row["verdict"] != "no":
            flagged["digest"].add(key)
    gold = {kind: {k for k, v in labels.items() if v[kind]} for kind in ("trade", "digest")}
    result: dict = {}
    for kind in ("trade", "digest"):
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for key in flagged[kind] | gold[kind]:
            ent = key[1]
            src = key[0].split(":", 1)[0]
            hit, want = key in flagged[kind], key in gold[kind]
            for bucket in (ent, src, "all"):
                per[bucket][0 if hit and want else 1 if hit else 2] += 1
        result[kind] = dict(per)
        result[kind + "_fp"] = sorted(flagged[kind] - gold[kind])
        result[kind + "_fn"] = sorted(gold[kind] - flagged[kind])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, default=REPO / "rules")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--keep", type=Path, help="keep the scratch store in this folder (reused if present)")
    parser.add_argument("--pairs", action="store_true", help="print the wrong pairs with their titles")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    data = args.data.resolve()
    if not (data / "relevance").is_dir():
        raise SystemExit(f"no labels at {data / 'relevance'}: give --data")
    work = args.keep or Path(tempfile.mkdtemp(prefix="relevance-"))
    work.mkdir(parents=True, exist_ok=True)
    config = work / "config.toml"
    db = work / "watcher.db"
    fresh = not db.exists()
    config.write_text(f'[database]\nurl = "sqlite:///{db}"\n[paths]\nrules = "{args.rules.resolve()}"\n'
                      f'sources = "{REPO / "sources"}"\ntemplates = "{REPO / "templates"}"\n', encoding="utf-8")
    if fresh:
        files = sorted((data / "seao-xml").glob("AvisRevisions_201[89]*.xml"))
        files.append(data / "canadabuys" / "openTenderNotice-sample-40rows.csv")
        _watcher(config, "import", "--json", *map(str, files))
    notices = {}
    for line in _watcher(config, "notices", "--json").splitlines():
        if line.strip():
            n = json.loads(line)
            notices[n["id"]] = n
    scope = {nid for nid, n in notices.items()
             if nid.startswith("canadabuys:") or (n.get("published_at") or "")[:4] in ("2018", "2019")}
    pairs = [json.loads(line) for line in _watcher(config, "match", "--json", "--all").splitlines() if line.strip()]
    labels = _labels(data)
    result = score(pairs, labels, scope)
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if not k.endswith(("_fp", "_fn"))}, indent=1))
        return 0
    print(f"{len(scope)} notices in scope, {len(pairs)} pairs printed by `match --json --all`\n")
    print(f"{'':28} {'trade P':>8} {'R':>6} {'F1':>6} {'(tp/fp/fn)':>12}   {'digest P':>8} {'R':>6} {'(tp/fp/fn)':>12}")
    buckets = sorted(k for k in result["trade"].keys() | result["digest"].keys() if k not in ("all", "seao", "canadabuys"))
    for bucket in [*buckets, "seao", "canadabuys", "all"]:
        t = result["trade"].get(bucket, [0, 0, 0])
        d = result["digest"].get(bucket, [0, 0, 0])
        tp, tr, tf = _prf(*t)
        dp, dr, _ = _prf(*d)
        print(f"{bucket:28} {tp:8.2f} {tr:6.2f} {tf:6.2f} {'/'.join(map(str, t)):>12}   {dp:8.2f} {dr:6.2f} {'/'.join(map(str, d)):>12}")
    if args.pairs:
        for kind in ("trade_fp", "trade_fn", "digest_fp", "digest_fn"):
            print(f"\n{kind} ({len(result[kind])}):")
            for nid, ent in result[kind]:
                n = notices.get(nid, {})
                print(f"  {nid:32} {ent:24} [{(n.get('notice_type') or '')[:2]}] {(n.get('title') or '')[:90]}")
    print(f"\nstore: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
