"""Every stage's speed, measured against its target, in one command.

    python benchmarks/run_all.py            # the full run (a few minutes)
    python benchmarks/run_all.py --quick    # smaller samples, extrapolated where said

Prints one table: benchmark, figure, target, met. Real data: the 24 SEAO XML files of demo/seao
(5,979 notices, 2018-2019). Synthetic data, generated with fixed seeds and said so: the 40 MB
SEAO-shaped JSON weekly file (benchmarks/make_ocds_weekly.py), 10,000 profiles drawn from the
real notices' words and codes, notices replicated from the real ones under new ids.
PostgreSQL figures need the server of WATCHER_TEST_PG_URL (default postgres@127.0.0.1/test).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from sqlalchemy import create_engine, text  # noqa: E402

from make_ocds_weekly import make_weekly  # noqa: E402
from measure import measured, smtp_sink  # noqa: E402
from watcher import app  # noqa: E402
from watcher.collect import PARSERS, detect_format, iter_files, open_source_file  # noqa: E402
from watcher.config import DeliveryConfig, SmtpConfig, load_config  # noqa: E402
from watcher.digest.build import build_digest  # noqa: E402
from watcher.digest.deliver import deliver  # noqa: E402
from watcher.digest.render import Renderer  # noqa: E402
from watcher.match import capability_level, notice_text  # noqa: E402
from watcher.match.engine import Judge, Rulebook  # noqa: E402
from watcher.match.verdict import judge as judge_pair  # noqa: E402
from watcher.models import Enterprise, Notice  # noqa: E402
from watcher.store import open_store, repo  # noqa: E402

DEMO = ROOT / "demo" / "seao"
RECORD_TAGS = ("avis", "contrat", "Avis", "Contrat")
PG = os.environ.get("WATCHER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ROWS: list[tuple[str, str, str, str]] = []
# this run's own schema: two worktrees benchmarking at once must not drop each other's tables
IMPORT_SCHEMA = f"bench_import_{os.getpid()}"


def row(name: str, figure: str, target: str, met: bool | None) -> None:
    ROWS.append((name, figure, target, "-" if met is None else "yes" if met else "NO"))
    print(f"  {name}: {figure}  (target {target})", flush=True)


def bare_parse(paths: list[Path]) -> int:
    """The project's own parser, records built, nothing stored (for information: not a limit)."""
    return sum(1 for _ in parsed_notices(paths))


def parsed_notices(paths: list[Path]) -> Iterator[Notice]:
    for path in paths:
        with open_source_file(path) as stream:
            kind = detect_format(stream.peek(4096)[:4096], path.name)
            yield from (item for item in PARSERS[kind](stream, str(path), None) if isinstance(item, Notice))


def lxml_limit(paths: list[Path]) -> int:
    """The limit for SEAO XML: plain lxml iterparse stopping at each record (the tag filter works
    in C) and reading the text of every element in it, the record then freed; no Notice built.
    A reader of every field cannot do less."""
    from lxml import etree

    count = 0
    for path in paths:
        with open_source_file(path) as stream:
            for _, record in etree.iterparse(stream, events=("end",), tag=RECORD_TAGS, resolve_entities=False,
                                             no_network=True, load_dtd=False):
                for element in record.iter():
                    element.text  # noqa: B018 - touch every element, as a reader of every field must
                count += 1
                record.clear()
                parent = record.getparent()
                while record.getprevious() is not None:
                    del parent[0]
    return count


def ijson_limit(paths: list[Path]) -> int:
    """The limit for OCDS JSON: ijson's C backend building each release as Python objects."""
    import ijson

    count = 0
    for path in paths:
        with open_source_file(path) as stream:
            if stream.peek(3)[:3] == b"\xef\xbb\xbf":  # the published files start with a BOM
                stream.read(3)
            count += sum(1 for _ in ijson.items(stream, "releases.item"))
    return count


def peer_schema(path: Path) -> Path:
    """A release schema carrying exactly the merge rules our importer gives ocdsmerge (ocdskit would
    download the full OCDS schema, and this machine has no network): both tools merge alike."""
    import json

    from watcher.collect.ocds import _RULES

    root: dict = {"type": "object", "properties": {}}
    for rule_path, rule in _RULES.items():
        node = root
        for key in rule_path[:-1]:
            if key in ("items", "awards", "contracts", "parties"):  # arrays of objects merged by id
                node = node["properties"].setdefault(key, {"type": "array", "items": {
                    "type": "object", "properties": {"id": {"type": "string"}}}})["items"]
            else:
                node = node["properties"].setdefault(key, {"type": "object", "properties": {}})
        node["properties"][rule_path[-1]] = {"type": "array", rule: True}
    path.write_text(json.dumps(root), encoding="utf-8")
    return path


def peer_venv() -> Path | None:
    """ocdskit in the benchmark's own environment (benchmarks/.venv-peer), never a project dependency."""
    venv = ROOT / "benchmarks" / ".venv-peer"
    exe = venv / "bin" / "ocdskit"
    if not exe.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "ocdskit"], check=True, capture_output=True)
        except (subprocess.CalledProcessError, OSError) as exc:
            print(f"  ocdskit could not be installed ({exc}): the peer figure is skipped")
            return None
    return exe


def pg_schema(name: str) -> str | None:
    try:
        engine = create_engine(PG)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {name}"))
        engine.dispose()
        return f"{PG}?options=-csearch_path%3D{name}"
    except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not stop
        print(f"  PostgreSQL unavailable ({type(exc).__name__}): its figures are skipped")
        return None


def drop_schema(name: str) -> None:
    engine = create_engine(PG)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
    engine.dispose()


def timed_import(url: str, paths: list[Path]) -> tuple[float, int]:
    engine = open_store(url)
    start = time.perf_counter()
    report = app.import_paths(engine, paths)
    elapsed = time.perf_counter() - start
    engine.dispose()
    assert not report.errors, report.errors[:3]
    return elapsed, report.notices_new + report.notices_updated + report.notices_unchanged


def median(runs: int, measure: Callable[[int], float]) -> float:
    """The median of `runs` timings (`measure(i)` returns one): this machine's noise moves a single
    one-second import by a third either way."""
    return statistics.median(measure(i) for i in range(runs))


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def store_floor(paths: list[Path], tmp: Path) -> tuple[float, float]:
    """What any importer into our schema pays beyond the bare parse, with no Python of its own:
    (SQLite inserting the final notice and bidder rows, built beforehand, through sqlite3's
    executemany, 500 a transaction like the import; the per-notice steps the store cannot skip:
    cleaning hostile text (limits.clean_notice) and the content hash that detects changes).
    Bare parse + both is the ceiling of an importer whose parser and store cost nothing more."""
    import sqlite3

    from watcher.limits import clean_notice
    from watcher.store.bulk import _processors, driver_rows
    from watcher.store.schema import bidders, notices

    parsed = list(parsed_notices(paths))
    gc.collect()
    gc.disable()  # a floor: no collector passes over the parsed notices held here (the import holds 500)
    try:
        steps = timed(lambda: [repo.content_hash(repo.canonical(clean_notice(n))) for n in parsed])
    finally:
        gc.enable()
    final = list({n.id: n for n in parsed}.values())  # an updated notice is one row in the end
    db = tmp / f"floor-{os.getpid()}-{len(parsed)}.db"
    engine = open_store(f"sqlite:///{db}")  # the schema, its indexes and pragmas as the store has them
    dialect = engine.dialect
    engine.dispose()
    now = datetime.now(timezone.utc)
    tables = []
    for table, columns, rows in ((notices, repo._NOTICE_COLUMNS, [repo._new_row(n, "0" * 64, now) for n in final]),
                                 (bidders, repo._BIDDER_COLUMNS, [b for n in final for b in repo._bidder_tuples(n)])):
        tables.append((f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                       driver_rows(rows, _processors(dialect, table, columns))))
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA synchronous=NORMAL")

    def insert() -> None:
        for sql, rows in tables:
            for i in range(0, len(rows), 500):
                conn.execute("BEGIN")
                conn.executemany(sql, rows[i:i + 500])
                conn.execute("COMMIT")
    inserting = timed(insert)
    conn.close()
    return inserting, steps


def bench_import(tmp: Path, quick: bool) -> None:
    print("1. import", flush=True)
    xml = sorted(iter_files([DEMO]))
    weekly = tmp / "hebdo-synthetic.json"
    releases = make_weekly(weekly, (10 if quick else 40) * 1024 * 1024, seed=0)
    size = weekly.stat().st_size / 1024 / 1024
    runs = 1 if quick else 3
    for label, paths, limit, limit_name, target in (
            ("24 SEAO XML files", xml, lxml_limit, "bare lxml iterparse", 0.5),
            (f"{size:.0f} MB SEAO JSON (synthetic, {releases} releases)", [weekly], ijson_limit, "ijson.items", 0.35)):
        tag = "x" if paths is xml else "j"
        bare = median(runs, lambda _: timed(lambda: limit(paths)))
        ours = median(runs, lambda _: timed(lambda: bare_parse(paths)))
        parsed = bare_parse(paths)
        n = timed_import(f"sqlite:///{tmp / f'{tag}-count.db'}", paths)[1]
        sqlite_s = median(runs, lambda i: timed_import(f"sqlite:///{tmp / f'{tag}{i}.db'}", paths)[0])
        row(f"import {label}, SQLite", f"{n / sqlite_s:,.0f} notices/s ({sqlite_s:.1f} s); {limit_name} {bare:.2f} s: "
            f"{bare / sqlite_s:.0%} of its speed (our parser alone, nothing stored: {ours:.1f} s, {parsed:,} notices; "
            f"medians of {runs})", f">= {target:.0%} of {limit_name}", bare / sqlite_s >= target)
        inserting, steps = store_floor(paths, tmp)
        ceiling = bare + inserting + steps
        row(f"ceiling of any importer of the {label} into our SQLite schema",
            f"{limit_name} {bare:.2f} s + sqlite3 inserting the final rows {inserting:.2f} s + cleaning and "
            f"hashing each notice {steps:.2f} s = {ceiling:.2f} s: at most {bare / ceiling:.0%} of {limit_name}'s "
            f"speed, with a parser and a store costing nothing else", f"above the {target:.0%} target", bare / ceiling > target)
        schema = pg_schema(IMPORT_SCHEMA)
        if schema:
            def pg_import(_: int) -> float:
                took = timed_import(pg_schema(IMPORT_SCHEMA) or "", paths)[0]
                drop_schema(IMPORT_SCHEMA)
                return took
            pg_s = median(runs, pg_import)
            row(f"import {label}, PostgreSQL", f"{n / pg_s:,.0f} notices/s ({pg_s:.1f} s): {pg_s / sqlite_s:.2f}x SQLite's time "
                f"(medians of {runs})", "<= 1.5x SQLite", pg_s / sqlite_s <= 1.5)
    for label, path, store in ((f"{size:.0f} MB JSON", weekly, "rss.db"), ("24 SEAO XML files", DEMO, "rss-xml.db")):
        config = tmp / f"{store}.toml"
        config.write_text(f'[database]\nurl = "sqlite:///{tmp / store}"\n', encoding="utf-8")
        wall, cpu, peak = measured([sys.executable, "-m", "watcher.cli", "--config", str(config), "import", str(path)])
        row(f"watcher import of the {label} (a child process)", f"{wall:.1f} s, CPU {cpu:.1f} s, peak RSS {peak:.0f} MB",
            "< 250 MB", peak < 250)
    exe = peer_venv()
    if exe is not None:
        plain = tmp / "hebdo-no-bom.json"  # ocdskit reads JSON without a BOM
        with open(weekly, "rb") as src, open(plain, "wb") as dst:
            src.read(3)
            shutil.copyfileobj(src, dst)
        wall, cpu, peak = measured([str(exe), "compile", "--schema", str(peer_schema(tmp / "rules-schema.json"))], stdin=plain)
        row(f"peer: ocdskit compile of the {size:.0f} MB JSON (own venv, our merge rules)", f"{wall:.1f} s, CPU {cpu:.1f} s, peak RSS {peak:.0f} MB",
            "for comparison", None)


def real_notices() -> list[Notice]:
    return [n for p in sorted(iter_files([DEMO])) for n in _parse(p)]


def _parse(path: Path) -> list[Notice]:
    with open_source_file(path) as stream:
        return [n for n in PARSERS["seao_xml"](stream, str(path), None) if isinstance(n, Notice)]


def replicate(notices: list[Notice], count: int, seed: int) -> list[Notice]:
    """`count` notices copied from the real ones (seeded), each under a new id."""
    rng = random.Random(seed)
    return [replace(n, id=f"{n.id}-x{i}") for i, n in enumerate(rng.choice(notices) for _ in range(count))]


def synthetic_profiles(notices: list[Notice], count: int, seed: int) -> list[Enterprise]:
    """Profiles drawn from the real notices' vocabulary: 2-4 title bigrams, 0-2 UNSPSC prefixes, regions."""
    rng = random.Random(seed)
    bigrams, codes = set(), set()
    for n in notices:
        words = [w for w in re.findall(r"[a-zà-ÿ]{4,}", n.title.lower())]
        bigrams.update(f"{a} {b}" for a, b in zip(words, words[1:]))
        codes.update(c[:6] for c in n.unspsc if len(c) >= 6)
    bigrams, codes = sorted(bigrams), sorted(codes)
    regions = [f"{i:02d}" for i in range(1, 18)]
    return [Enterprise(id=f"e{i:05d}", name=f"Entreprise {i}", emails=("x@example.org",),
                       keywords=tuple(rng.sample(bigrams, rng.randint(2, 4))), unspsc=tuple(rng.sample(codes, rng.randint(0, 2))),
                       regions=tuple(rng.sample(regions, rng.randint(1, 4))), min_value=5000.0,
                       max_value=float(rng.choice([50_000, 150_000, 400_000, 1_000_000])))
            for i in range(count)]


def bench_matching(base: list[Notice], rulebook: Rulebook, quick: bool) -> None:
    print("2. matching", flush=True)
    n_notices = n_profiles = 10_000
    notices = replicate(base, n_notices, seed=1)
    profiles = synthetic_profiles(base, n_profiles, seed=2)
    judge = Judge(replace(rulebook, enterprises=tuple(profiles)))
    sample = notices[: 1000 if quick else n_notices]
    start = time.perf_counter()
    judged = sum(len(judge.judge_candidates(n)) for n in sample)
    fast = (time.perf_counter() - start) * n_notices / len(sample)
    naive_sample = notices[:5 if quick else 20]
    start = time.perf_counter()
    naive_pairs = [naive_prefiltered(judge, n) for n in naive_sample]
    naive = (time.perf_counter() - start) * n_notices / len(naive_sample)
    fast_pairs = [judge.judge_candidates(n) for n in naive_sample]
    # the index may judge a few more pairs (candidates that then fail the trade test): same matches
    assert [[m for m in ms if m.is_match] for ms in naive_pairs] == [[m for m in ms if m.is_match] for ms in fast_pairs], \
        "the index must find every match the naive loop finds"
    note = "" if len(sample) == n_notices else f", {len(sample):,} notices timed and extrapolated"
    row("matching 10,000 profiles x 10,000 notices (synthetic)",
        f"{fast:.1f} s ({judged * n_notices // len(sample):,} pairs judged in full{note}); naive loop with the cheap "
        f"trade test first {naive:,.0f} s (extrapolated from {len(naive_sample)} notices, same verdicts): "
        f"{naive / fast:.0f}x faster", "< 30 s and >= 20x naive", fast < 30 and naive / fast >= 20)


def naive_prefiltered(judge: Judge, notice: Notice) -> list:
    """The honest naive loop: every profile tried with the cheap trade (capability) test, and only
    those that pass judged in full (sure, or weak evidence "to check": a match may rest on a code
    alone), the notice's facts computed once, as published."""
    text = notice_text(notice)
    facts = None
    out = []
    for profile in judge.profiles.values():
        if capability_level(notice, profile, text) != "no":
            facts = facts or judge.facts(notice, as_published=True)  # as judge_candidates with now=None
            out.append(judge_pair(notice, profile, facts, now=None, text=text))
    return out


def bench_incremental(tmp: Path, rulebook: Rulebook) -> None:
    print("3. incremental matching", flush=True)
    engine = open_store(f"sqlite:///{tmp / 'inc.db'}")
    app.import_paths(engine, [DEMO])
    start = time.perf_counter()
    first = app.refresh_verdicts(engine, rulebook)
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    second = app.refresh_verdicts(engine, rulebook)
    second_s = time.perf_counter() - start
    row("incremental: 5,979 notices x 5 profiles, run twice", f"1st run {first:,} pairs judged ({first_s:.1f} s), "
        f"2nd run {second} pairs ({second_s:.2f} s)", "2nd run: 0 pairs", second == 0)


def bench_delivery(base: list[Notice], rulebook: Rulebook, quick: bool) -> None:
    print("4. delivery", flush=True)
    # The mail server runs in its own process, as a real one would: in this process it would
    # compete with the client for the interpreter lock and the figure would measure that.
    with tempfile.TemporaryDirectory() as tmp, smtp_sink(Path(tmp) / "accepted") as (port, accepted):
        _deliver_digests(base, rulebook, quick, port, accepted)


def _deliver_digests(base: list[Notice], rulebook: Rulebook, quick: bool, port: int, accepted: Callable[[], int]) -> None:
    total = 10_000
    count = 1_000 if quick else total
    renderer = Renderer(ROOT / "templates")
    judge = Judge(rulebook)
    pairs = [(n, m) for n in base[:400] for m in judge.judge_candidates(n) if m.is_match][:6]
    if not pairs:
        pairs = [(n, m) for n in base for m in judge.judge(n)[:1]][:5]
    ent = rulebook.enterprises[0]
    now = datetime.now(timezone.utc)
    start = time.perf_counter()
    msgs = []
    for i in range(count):
        digest = build_digest(replace(ent, id=f"{ent.id}-{i}", emails=(f"e{i}@example.org",)), pairs, now, 25, send_empty=True)
        msgs.append(renderer.render(digest, "Veille <veille@example.org>"))
    rendered = time.perf_counter() - start
    results = deliver(msgs, DeliveryConfig(backend="smtp", smtp=SmtpConfig(host="127.0.0.1", port=port, connections=4)))
    elapsed = time.perf_counter() - start
    assert len(results) == count and all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    assert accepted() == count, f"the server accepted {accepted()} of {count} mails"
    scale = total / count
    note = "" if count == total else f" ({count:,} done, extrapolated)"
    row("10,000 digests rendered and accepted by aiosmtpd", f"{elapsed * scale:.1f} s{note}: render {rendered * scale:.1f} s, "
        f"SMTP {(elapsed - rendered) * scale:.1f} s over 4 connections to aiosmtpd in its own process", "< 60 s", elapsed * scale < 60)


def bench_growth(base: list[Notice], rulebook: Rulebook, tmp: Path, quick: bool) -> None:
    print("5. growth", flush=True)
    unit = 500 if quick else 1_500
    judge = Judge(replace(rulebook, enterprises=tuple(synthetic_profiles(base, 1_000, seed=3))))
    for factor in (1, 4, 16):
        notices = replicate(base, unit * factor, seed=factor)
        engine = open_store(f"sqlite:///{tmp / f'growth{factor}.db'}")
        start = time.perf_counter()
        for i in range(0, len(notices), 500):
            with engine.begin() as conn:
                repo.save_notices(conn, notices[i:i + 500], origin="bench")
        imported = time.perf_counter() - start
        start = time.perf_counter()
        for n in notices:
            judge.judge_candidates(n)
        matched = time.perf_counter() - start
        engine.dispose()
        row(f"growth {factor:>2}x ({len(notices):,} notices, 1,000 profiles)",
            f"import {imported / len(notices) * 1e6:,.0f} us/notice, matching {matched / len(notices) * 1e6:,.0f} us/notice",
            "flat per notice", None)


def bench_startup(tmp: Path) -> None:
    """Whole-process start times, median of 5, beside a bare `python -c pass` of the same moment.
    `status` reads the repository's rules and sources (as an operator's does), on a store the
    first run leaves as every later one finds it (last good rule files kept). The children may
    write bytecode, as an installed package has it (this shell may set PYTHONDONTWRITEBYTECODE)."""
    print("0. start-up", flush=True)
    config = tmp / "startup.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp / "startup.db"}"\n[paths]\nrules = "{ROOT / "rules"}"\n'
                      f'sources = "{ROOT / "sources"}"\n', encoding="utf-8")
    watcher = [sys.executable, "-m", "watcher.cli", "--config", str(config)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([*watcher, "init"], check=True, capture_output=True, cwd=ROOT, env=env)
    subprocess.run([*watcher, "status"], check=False, capture_output=True, cwd=ROOT, env=env)

    def median_of_5(cmd: list[str]) -> float:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run(cmd, capture_output=True, cwd=ROOT, check=False, env=env)
            times.append(time.perf_counter() - start)
        return sorted(times)[2]

    python = median_of_5([sys.executable, "-c", "pass"])
    for args, target in ((["--help"], 0.3), (["status"], 0.6)):
        took = median_of_5([*watcher, *args])
        row(f"watcher {' '.join(args)} (whole process, median of 5)", f"{took:.2f} s (python -c pass: {python:.2f} s)",
            f"< {target} s", took < target)


def bench_scale(tmp: Path, factor: int) -> None:
    """Every command on a long history (benchmarks/scale.py), on SQLite and PostgreSQL."""
    from scale import run_scale

    print(f"6. scale: {factor}x the 2018-2019 set", flush=True)
    for store in ("sqlite", "postgresql"):
        if store == "postgresql":
            if pg_schema("bench_probe") is None:
                continue
            drop_schema("bench_probe")
        figures = run_scale(factor, store, tmp, report=lambda name, figure: print(f"  {store} {name}: {figure}", flush=True))
        for name, (wall, cpu, peak) in figures.items():
            row(f"{factor * 5979:,} notices, {store}: {name}", f"{wall:.1f} s, CPU {cpu:.1f} s, peak RSS {peak:.0f} MB",
                "< 300 MB", peak < 300)


def bench_send(tmp: Path, quick: bool) -> None:
    """The whole `digest --send` of many enterprises over a long history (benchmarks/send_bench.py)."""
    from send_bench import TARGETS, run

    profiles, factor = (1_000, 1) if quick else (10_000, 10)
    print(f"7. digest --send: {profiles:,} profiles x {factor * 5979:,} notices", flush=True)
    figures = run(profiles, factor, tmp, report=lambda name, figure: print(f"  {name}: {figure}", flush=True))
    row(f"digest --send, {profiles:,} profiles x {factor * 5979:,} notices, to aiosmtpd", str(figures), TARGETS, figures.met)


STAGES = ("startup", "import", "matching", "incremental", "delivery", "growth", "scale", "send")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller samples (said in the figures)")
    p.add_argument("--scale-factor", type=int, default=10, help="history size for the scale stage (10: 60k notices)")
    p.add_argument("--only", default=",".join(STAGES), help=f"comma-separated stages (default all: {','.join(STAGES)})")
    args = p.parse_args()
    only = set(args.only.split(","))
    started = time.perf_counter()
    rulebook = app.load_rulebook(load_config(None, base=ROOT))
    base = real_notices()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        if "startup" in only:
            bench_startup(tmp)
        if "import" in only:
            bench_import(tmp, args.quick)
        if "matching" in only:
            bench_matching(base, rulebook, args.quick)
        if "incremental" in only:
            bench_incremental(tmp, rulebook)
        if "delivery" in only:
            bench_delivery(base, rulebook, args.quick)
        if "growth" in only:
            bench_growth(base, rulebook, tmp, args.quick)
        if "scale" in only:
            bench_scale(tmp, 2 if args.quick else args.scale_factor)
        if "send" in only:
            bench_send(tmp, args.quick)
    width = max(len(r[0]) for r in ROWS)
    print(f"\n{'benchmark':<{width}}  met  target / figure")
    for name, figure, target, met in ROWS:
        print(f"{name:<{width}}  {met:<3}  {target}\n{'':<{width}}       {figure}")
    print(f"\ntotal {time.perf_counter() - started:.0f} s on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
