"""What each hostile input costs now: `watcher import` (or `watcher collect`) run as a child under
/usr/bin/time -v on a file generated here, with its limit, wall time, peak RSS and outcome.

    python benchmarks/hostile_limits.py            # every case, SQLite, about a minute
    python benchmarks/hostile_limits.py --only gzip-json,title-10mb

The figures before the limits existed are those measured for issue 19 (quoted in the last column
when known); they are not re-measured here, since they took gigabytes and minutes.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from watcher import limits  # noqa: E402

MiB = 1024 * 1024


def release(n: int, title: str = "Entretien ménager", **tender) -> dict:
    return {"ocid": f"ocds-bench-{n}", "id": f"r{n}", "date": "2026-10-01T12:00:00Z", "tag": ["tender"],
            "tender": {"id": str(n), "title": title, "tenderPeriod": {"endDate": "2026-12-01T12:00:00Z"}, **tender}}


def package(*releases: dict) -> bytes:
    return json.dumps({"uri": "https://example.org/p", "releases": list(releases)}, ensure_ascii=False).encode()


def gzip_repeat(prefix: bytes, filler: bytes, members: int, suffix: bytes) -> bytes:
    """A multi-member gzip: `prefix`, then `filler` `members` times, then `suffix` (cheap to build)."""
    one = gzip.compress(filler, compresslevel=9)
    return gzip.compress(prefix) + one * members + gzip.compress(suffix)


def case_nesting(d: Path) -> tuple[Path, str, str]:
    depth = 40_000
    body = (b'{"releases": [' + json.dumps(release(1)).encode() + b', {"ocid": "x", "tender": '
            + b'{"a": [' * depth + b"1" + b"]}" * depth + b"}]}")
    (d / "nested.json").write_bytes(body)
    return d / "nested.json", f"80 KB JSON, {depth:,} levels", f"depth {limits.MAX_JSON_DEPTH}", "3.9 GB"


def case_gzip_json(d: Path) -> tuple:
    data = gzip_repeat(b'{"releases": [' + json.dumps(release(1)).encode() + b",", b" " * MiB, 4_200, b"]}")
    (d / "bomb.json.gz").write_bytes(data)
    return d / "bomb.json.gz", f"{len(data) / MiB:.1f} MB gzip → 4.2 GB JSON", f"inflated {limits.MAX_INFLATED // MiB} MiB", ""


def case_gzip_rss(d: Path) -> tuple:
    data = gzip_repeat(b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>", b" " * MiB, 4_200,
                       b"</channel></rss>")
    (d / "bomb.rss.gz").write_bytes(data)
    return d / "bomb.rss.gz", f"{len(data) / MiB:.1f} MB gzip → 4.2 GB RSS", f"feed {limits.MAX_FEED_BYTES // MiB} MiB", "4.2 GB"


def case_title(size_mb: int):
    def make(d: Path) -> tuple:
        path = d / f"title-{size_mb}mb.json"
        path.write_bytes(package(release(1, "cautionnement de soumission 10 % " * (size_mb * MiB // 33),
                                         description="assurance responsabilité 2 000 000 $ " * (size_mb * MiB // 38)),
                                 release(2)))
        before = {1: "38 s (regexes)", 10: "8 min, 43 MB mail"}[size_mb]
        return path, f"{size_mb} MB title + {size_mb} MB description", f"title {limits.MAX_TITLE} chars, text {limits.MAX_TEXT:,}", before
    return make


def case_csv_field(d: Path) -> tuple:
    path = d / "tenders.csv"
    header = ["title-titre-eng", "title-titre-fra", "referenceNumber-numeroReference", "solicitationNumber-numeroSollicitation",
              "tenderClosingDate-appelOffresDateCloture", "tenderDescription-descriptionAppelOffres-eng"]
    with path.open("w", newline="", encoding="utf-8") as out:
        w = csv.writer(out)
        w.writerow(header)
        for n in range(1, 4):
            w.writerow([f"Cleaning {n}", f"Nettoyage {n}", f"PW-{n}", f"S-{n}", "2026-12-01T14:00:00",
                        "x" * (17 * MiB) if n == 2 else "Cleaning"])
    return path, "CSV, one 17 MB field among 3 rows", "csv field 16 MiB", "rows after it lost"


def case_laughs(d: Path) -> tuple:
    ents = '<!ENTITY lol "lol">' + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'
                                            for i in range(1, 10))
    path = d / "laughs.rss"
    path.write_text(f'<?xml version="1.0"?><!DOCTYPE rss [{ents}]><rss version="2.0"><channel><title>t</title>'
                    "<item><title>&lol9;</title><link>https://example.org/1</link></item></channel></rss>")
    return path, "RSS with 9 levels of entities", "no entity declarations", "junk notice \"&lol9;\""


def case_nul(d: Path) -> tuple:
    path = d / "nul.json"
    path.write_bytes(package(release(1, "Entretien\x00\x1b[2J\u202eménager"), release(2)))
    return path, "NUL, ESC[2J, RLO in a title", "controls removed", "PostgreSQL error, import stopped"


CASES = {"nesting": case_nesting, "gzip-json": case_gzip_json, "gzip-rss": case_gzip_rss, "title-1mb": case_title(1),
         "title-10mb": case_title(10), "csv-field": case_csv_field, "entities": case_laughs, "controls": case_nul}


def timed(cmd: list[str], cwd: Path) -> tuple[float, int, str, int]:
    """(wall seconds, peak RSS in KiB, output, exit code) of `cmd` run under /usr/bin/time -v."""
    started = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=cwd, capture_output=True, text=True)
    wall = time.monotonic() - started
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return wall, peak, proc.stdout + proc.stderr.split("\tCommand being timed")[0], proc.returncode


def import_outcome(out: str) -> str:
    try:
        doc = json.loads(out[out.index("{"):out.rindex("}") + 1])
    except ValueError:
        return out.strip().splitlines()[-1][:100] if out.strip() else "?"
    error = (doc["errors"][0].split(": ", 1)[-1] if doc["errors"] else "")
    stored = doc["notices_new"] + doc["notices_updated"] + doc["notices_unchanged"]
    return f"{stored} notice(s) stored; " + (error[:110] if error else "no error")


def drip_server(stop: threading.Event) -> str:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            client.recv(65536)
            try:
                client.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
                while not stop.wait(3.0):
                    client.sendall(b" ")
            except OSError:
                pass
            client.close()
        listener.close()
    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/slow.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated cases: " + ", ".join([*CASES, "slow-server"]))
    args = parser.parse_args()
    wanted = args.only.split(",") if args.only else [*CASES, "slow-server"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        config = d / "config.toml"
        sources = d / "sources"
        sources.mkdir()
        config.write_text(f'[database]\nurl = "sqlite:///{d / "w.db"}"\n[paths]\nsources = "{sources}"\nrules = "{ROOT / "rules"}"\n'
                          f'templates = "{ROOT / "templates"}"\n[fetch]\nmin_interval = 0\nrespect_robots = false\n'
                          'retries = 0\ntimeout = 60\ndeadline = 10\n', encoding="utf-8")
        watcher = [sys.executable, "-m", "watcher.cli", "--config", str(config)]
        subprocess.run([*watcher, "init"], cwd=ROOT, check=True, capture_output=True)
        for name in wanted:
            if name == "slow-server":
                stop = threading.Event()
                url = drip_server(stop)
                (sources / "slow.toml").write_text(f'kind = "ocds"\nurl = "{url}"\nschedule = "0 6 * * *"\n'
                                                   f'[options]\nurls = ["{url}"]\n', encoding="utf-8")
                wall, peak, out, _ = timed([*watcher, "collect", "slow"], ROOT)
                stop.set()
                line = next((x for x in out.splitlines() if "slow:" in x), out.strip()[-100:])
                rows.append(("server sending 1 byte / 3 s", "deadline 10 s", wall, peak,
                             line.split("FAILED: ", 1)[-1][:90], "forever"))
                continue
            path, what, limit, before = CASES[name](d)
            wall, peak, out, _ = timed([*watcher, "import", str(path), "--json"], ROOT)
            rows.append((what, limit, wall, peak, import_outcome(out), before))
            path.unlink()
    print("| input | limit | time | peak memory | outcome | before (issue 19) |")
    print("|---|---|---|---|---|---|")
    for what, limit, wall, peak, outcome, before in rows:
        print(f"| {what} | {limit} | {wall:.1f} s | {peak / 1024:.0f} MB | {outcome} | {before} |")


if __name__ == "__main__":
    main()
