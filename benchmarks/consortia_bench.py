"""Benchmark consortium proposals on SYNTHETIC data: 1,000 enterprises x 1,000 notices (fixed seed).

Usage: python benchmarks/consortia_bench.py [--enterprises 1000] [--notices 1000] [--seed 7]

Nothing here is real: a dozen capability families with the French keywords and UNSPSC families
seen in SEAO titles, Québec regions 01-17 weighted toward the populous ones, capacities
log-uniform from 20 k$ to 2 M$, a quarter of enterprises with a bonding limit, 85 % open to
consortia, some declared partners and past co-bids. Profiles are compiled and notice facts computed
once, outside the timing (the application does both once per run); `propose` is timed whole,
including judging every enterprise, for max_size 2, 3 and 4.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from watcher.match import compile_profile
from watcher.match.consortia import propose
from watcher.match.verdict import notice_facts
from watcher.models import Enterprise, Notice
from watcher.rules.thresholds import load_thresholds

REPO = Path(__file__).resolve().parent.parent
MTL = ZoneInfo("America/Montreal")
# family: (keywords as coordinators write them, UNSPSC family, nature)
FAMILIES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "entretien": (("entretien ménager", "conciergerie", "nettoyage de bâtiments", "salubrité", "entretien sanitaire"), "7611", "services"),
    "alimentation": (("service alimentaire", "services alimentaires", "traiteur", "service de cafétéria", "repas", "cantine"), "9010", "services"),
    "deneigement": (("déneigement", "déglaçage", "épandage d'abrasifs", "enlèvement de la neige"), "7210", "services"),
    "paysager": (("entretien paysager", "tonte de pelouse", "horticulture", "plantation d'arbres", "élagage"), "7011", "services"),
    "residuelles": (("collecte des matières recyclables", "matières résiduelles", "recyclage", "compostage", "écocentre"), "7612", "services"),
    "impression": (("impression", "reprographie", "reliure", "infographie", "dépliant"), "8212", "services"),
    "informatique": (("ordinateurs", "matériel informatique", "reconditionnement", "soutien informatique"), "4321", "goods"),
    "demenagement": (("déménagement", "entreposage", "transport de mobilier", "manutention"), "7810", "services"),
    "gardiennage": (("gardiennage", "agents de sécurité", "surveillance des lieux"), "9212", "services"),
    "buanderie": (("buanderie", "lingerie", "lavage de literie", "nettoyage de vêtements"), "9111", "services"),
    "menuiserie": (("menuiserie", "peinture intérieure", "rénovation", "réparation de mobilier"), "7215", "construction"),
    "formation": (("formation", "insertion socioprofessionnelle", "accompagnement", "employabilité"), "8610", "services"),
}
REGION_WEIGHTS = {"06": 20, "03": 10, "16": 14, "13": 5, "12": 5, "15": 6, "14": 5, "05": 4, "04": 3, "02": 3, "17": 3,
                  "01": 2, "07": 4, "08": 2, "09": 1, "10": 1, "11": 1}
BUYERS = [("Ville de Montréal", True), ("Ville de Québec", True), ("Ville de Longueuil", True), ("Ville de Laval", True),
          ("Centre de services scolaire des Patriotes", False), ("Centre de services scolaire de Montréal", False),
          ("CISSS de la Montérégie-Centre", False), ("CIUSSS de la Capitale-Nationale", False),
          ("Société québécoise des infrastructures", False), ("Ministère des Transports et de la Mobilité durable", False)]
EXTRACTED = dict(bid_bond="not_stated", bid_bond_percent=None, bid_bond_amount=None, performance_bond="not_stated",
                 performance_bond_percent=None, performance_bond_amount=None, labour_materials_bond_percent=None,
                 insurance_liability_amount=None, rbq_licence=False, amp_authorisation=False, revenu_quebec_attestation=False,
                 evidence={})


def _regions(rng: random.Random, k: int) -> tuple[str, ...]:
    out: set[str] = set()
    while len(out) < k:
        out.add(rng.choices(list(REGION_WEIGHTS), weights=list(REGION_WEIGHTS.values()))[0])
    return tuple(sorted(out))


def enterprises(rng: random.Random, n: int) -> list[Enterprise]:
    out = []
    for i in range(n):
        fams = rng.sample(list(FAMILIES), 2 if rng.random() < 0.2 else 1)
        keywords = tuple(k for f in fams for k in rng.sample(FAMILIES[f][0], 3))
        unspsc = tuple(FAMILIES[f][1] for f in fams) if rng.random() < 0.5 else ()
        cap = math.exp(rng.uniform(math.log(20_000), math.log(2_000_000)))
        bonded = rng.random() < 0.25
        out.append(Enterprise(
            id=f"ees-{i:04d}", name=f"EÉS {i:04d}", emails=(f"ees{i}@example.org",), keywords=keywords, unspsc=unspsc,
            regions=("*",) if rng.random() < 0.08 else _regions(rng, rng.choice((1, 1, 2, 3))),
            min_value=rng.choice((1000.0, 2000.0, 5000.0, 10000.0)), max_value=round(cap, -3),
            bid_bond=bonded, max_bond=round(cap * rng.uniform(0.1, 0.5), -3) if bonded else None,
            liability_insurance=rng.choice((1e6, 2e6, 3e6, 5e6)) if rng.random() < 0.6 else None,
            licences=("RBQ",) if "menuiserie" in fams and rng.random() < 0.7 else (), amp_authorised=rng.random() < 0.03,
            consortium_willing=rng.random() < 0.85,
            consortium_partners=tuple(f"ees-{rng.randrange(n):04d}" for _ in range(rng.choice((1, 2)))) if rng.random() < 0.15 else ()))
    return out


def notices(rng: random.Random, n: int) -> list[tuple[Notice, SimpleNamespace | None]]:
    out = []
    start = datetime(2025, 1, 6, 9, tzinfo=MTL)
    for i in range(n):
        fams = rng.sample(list(FAMILIES), rng.choices((1, 2, 3), weights=(60, 30, 10))[0])
        phrases = [rng.choice(FAMILIES[f][0]) for f in fams]
        buyer, municipal = rng.choice(BUYERS)
        items = phrases[0].capitalize() if len(phrases) == 1 else ", ".join(phrases[:-1]).capitalize() + " et " + phrases[-1]
        title = rng.choice(("{items} - {buyer}", "{items} pour les immeubles de {buyer}", "Services de {items} - années 2025-2027"))
        value = min(5e6, max(10_000.0, round(rng.lognormvariate(math.log(150_000), 1.1), -2)))
        method = "gre_a_gre" if value < 25_000 else "invitation" if value < 133_800 else "public"
        published = start + timedelta(hours=7 * i)
        notice = Notice(id=f"seao:{100000 + i}", source="seao", title=title.format(items=items, buyer=buyer), buyer_name=buyer,
                        municipal=municipal, method=method, nature=FAMILIES[fams[0]][2],
                        unspsc=tuple(FAMILIES[f][1] + "1500" for f in fams) if rng.random() < 0.6 else (),
                        regions=_regions(rng, rng.choices((1, 2, 3), weights=(75, 18, 7))[0]), published_at=published,
                        closing_at=published + timedelta(days=rng.choice((15, 21, 30, 45))),
                        estimated_value=value if rng.random() < 0.7 else None)
        stated = None
        if value >= 100_000 and rng.random() < 0.4:
            stated = SimpleNamespace(**{**EXTRACTED, "bid_bond": "required" if rng.random() < 0.6 else "none",
                                        "bid_bond_percent": 10.0, "insurance_liability_amount": 2e6 if rng.random() < 0.5 else None})
        out.append((notice, stated))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--enterprises", type=int, default=1000)
    ap.add_argument("--notices", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    ents = enterprises(rng, args.enterprises)
    ids = [e.id for e in ents]
    co_bids = {frozenset(rng.sample(ids, 2)) for _ in range(2 * args.enterprises)}
    thresholds = load_thresholds(REPO / "rules" / "thresholds.toml")
    work = [(n, notice_facts(n, thresholds, stated)) for n, stated in notices(rng, args.notices)]
    t0 = time.perf_counter()
    profiles = [compile_profile(e) for e in ents]
    compile_s = time.perf_counter() - t0
    print(f"SYNTHETIC data (seed {args.seed}): {len(ents)} enterprises x {len(work)} notices, "
          f"{len(FAMILIES)} capability families, {len(co_bids)} past co-bid pairs; profiles compiled in {compile_s:.2f} s")
    print(f"{'max_size':>8} {'time s':>7} {'notices/s':>9} {'with team':>9} {'teams':>6} {'full':>6} {'size 2/3/4':>12} "
          f"{'alone':>6} {'no team':>7} {'truncated':>9}")
    total = 0.0
    for size in (2, 3, 4):
        t0 = time.perf_counter()
        props = [propose(n, f, profiles, co_bids, max_size=size) for n, f in work]
        elapsed = time.perf_counter() - t0
        total += elapsed
        teams = [t for p in props for t in p.teams]
        sizes = "/".join(str(sum(len(t.members) == k for t in teams)) for k in (2, 3, 4))
        print(f"{size:>8} {elapsed:>7.2f} {len(work) / elapsed:>9.0f} {sum(bool(p.teams) for p in props):>9} {len(teams):>6} "
              f"{sum(t.full_coverage for t in teams):>6} {sizes:>12} {sum(bool(p.alone) for p in props):>6} "
              f"{sum(not p.teams and not p.alone for p in props):>7} {sum(p.truncated for p in props):>9}")
    why: dict[str, int] = {}
    for p in props:
        if not p.teams:
            kind = ("someone realistic alone" if p.alone else "no willing partner" if "consortia" in p.why_en
                    else "no possible lead (surety, insurance, licence)" if "can provide" in p.why_en or "holds all" in p.why_en
                    else "capacities too small" if "fall short" in p.why_en else "a need or region nobody covers"
                    if "covers" in p.why_en else p.why_en)
            why[kind] = why.get(kind, 0) + 1
    print(f"total {total:.2f} s for {3 * len(work)} proposals")
    print("why no team (max_size 4):")
    for text, count in sorted(why.items(), key=lambda kv: -kv[1]):
        print(f"  {count:>5}  {text}")


if __name__ == "__main__":
    main()
