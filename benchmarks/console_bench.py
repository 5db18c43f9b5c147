"""Console figures on the demo data (24 SEAO files, 5,979 notices): how long the pages that do real
work take, measured through the ASGI app (Starlette's test client, no network), median of 3.

    python benchmarks/console_bench.py [--db DIR]

Prints: import time (once), then per page the median seconds: notice search, one notice with every
enterprise's verdict, an enterprise page (matches, buyers, teams), a profile check with its backtest
diff (every stored notice judged twice), and the proposals refresh (one backtest pass for all)."""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from starlette.testclient import TestClient

    from watcher import app
    from watcher.config import load_config
    from watcher.store import feedback as fb
    from watcher.store import open_store
    from watcher.web import create_app
    from watcher.web.security import hash_password

    parser = argparse.ArgumentParser()
    parser.add_argument("--db", help="working folder (default: a temporary one)")
    args = parser.parse_args()
    work = Path(args.db or tempfile.mkdtemp())
    shutil.copytree(ROOT / "rules", work / "rules", dirs_exist_ok=True)
    (work / "config.toml").write_text(
        f'[database]\nurl = "sqlite:///{work / "watcher.db"}"\n[paths]\nrules = "{work / "rules"}"\n'
        f'templates = "{ROOT / "templates"}"\n[web]\nsecret = "{"b" * 40}"\nbase_url = "https://veille.example.org"\n')
    cfg = load_config(work / "config.toml")
    engine = open_store(cfg.database_url)
    started = time.perf_counter()
    report = app.import_paths(engine, [ROOT / "demo" / "seao"])
    print(f"import: {report.notices_new + report.notices_updated} notices in {time.perf_counter() - started:.1f} s")
    with engine.begin() as conn:
        fb.add_user(conn, "bench", hash_password("bench password"))
    ent = "coop-entretien-horizon"
    with TestClient(create_app(cfg, engine), base_url="https://veille.example.org") as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"csrf": token, "username": "bench", "password": "bench password"})
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/console").text).group(1)
        text = (cfg.rules_dir / "enterprises" / f"{ent}.toml").read_text().replace("max_value = 250000", "max_value = 2000000")
        client.get(f"/console/enterprises/{ent}")  # first visit stores the verdicts (incremental matching)
        pages = {
            "search 'entretien'": lambda: client.get("/console/notices?q=entretien"),
            "notice + every verdict": lambda: client.get("/console/notices/seao:849011"),
            "enterprise page": lambda: client.get(f"/console/enterprises/{ent}"),
            "profile check + backtest diff": lambda: client.post(f"/console/enterprises/{ent}/edit",
                                                                 data={"csrf": csrf, "text": text, "action": "check"}),
        }
        for name, call in pages.items():
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                r = call()
                times.append(time.perf_counter() - t0)
                assert r.status_code == 200, (name, r.status_code)
            print(f"{name:<32} median {statistics.median(times):.3f} s  (min {min(times):.3f}, max {max(times):.3f})")


if __name__ == "__main__":
    main()
