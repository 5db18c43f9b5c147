"""Digest fixtures: real SEAO notices (demo/seao files of 2018-2019) judged for the example profile
rules/enterprises/coop-entretien-horizon.toml. Matches are written out here, not computed, so a
change in the matcher's wording does not change these tests' mails."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from watcher.digest.build import build_digest
from watcher.digest.render import Renderer
from watcher.models import Bidder, Digest, Enterprise, Match, Notice, Reason

ROOT = Path(__file__).resolve().parent.parent.parent
MTL = ZoneInfo("America/Montreal")
NOW = datetime(2019, 11, 18, 12, 0, tzinfo=timezone.utc)  # Monday 7:00 in Montréal
SENDER = "Veille des marchés publics <veille@example.org>"
SEAO = "http://www.seao.ca/OpportunityPublication/avisconsultes.aspx?ItemId="

COOP = Enterprise(
    id="coop-entretien-horizon",
    name="Coop de solidarité Entretien Horizon",
    emails=("soumissions@example.org", "direction@example.org"),
    language="fr",
    keywords=("entretien ménager", "conciergerie"),
    unspsc=("911116", "76111501"),
    regions=("06", "13", "15", "16"),
    min_value=5000,
    max_value=250000,
)


def _notice(numero: str, title: str, buyer: str, reference: str, method: str, region: str,
            published: tuple, closing: tuple | None, awarded: float | None, item_id: str) -> Notice:
    return Notice(
        id=f"seao:{numero}", source="seao", title=title, buyer_name=buyer, reference=reference,
        url=SEAO + item_id, method=method, nature="services", categories=("S9",), unspsc=("91111601",),
        regions=(region,), published_at=datetime(*published, tzinfo=MTL),
        closing_at=datetime(*closing, tzinfo=MTL) if closing else None,
        bidders=(Bidder("Adjudicataire", winner=True, contract_amount=awarded),) if awarded else (),
    )


# Real notices (numeroseao, title, buyer, reference, dates, region, awarded amount as published).
BROSSARD = _notice("1230947", "Services d'entretien ménager des centres communautaires", "Ville de Brossard",
                   "SP-19-1276", "public", "16", (2019, 1, 24, 10, 49), (2019, 2, 21, 11, 0), 370832.73,
                   "f63b2e7f-5322-4a37-a20c-c535570807b8")
MONTREAL_A52 = _notice(
    "1219234", "A52 - Entretien ménager intérieur et extérieur et surveillance ainsi que l’entretien hivernal des "
    "deux bâtiments principaux soit le Pavillon du Lac-aux- Castors et du Chalet du Mont-Royal ainsi que "
    "l’entretien ménager du kiosque K20", "Ville de Montréal - Service de l'approvisionnement", "18-17268",
    "public", "06", (2018, 12, 3, 13, 18), (2019, 1, 15, 13, 30), None, "71e9fa68-5bdd-43bc-a21e-53538898d6ce")
SQI_NORD = _notice("1234102", "Entretien ménager", "SQI-Direction immobilière Nord de Montréal", "35070900",
                   "gre_a_gre", "06", (2019, 2, 6, 15, 55), None, 92194.48, "ea6fe6bc-aed5-4bfd-9488-6ec4336c0811")
MILLE_ILES = _notice("1196654", "Service d'entretien ménager du centre administratif",
                     "Commission scolaire de la Seigneurie-des-Mille-Îles", "190AO1802", "invitation", "15",
                     (2018, 9, 4, 10, 50), None, 29500.0, "8d2c2927-a061-4457-9e98-9532e56a6f0e")
RIMOUSKI = _notice("1252614", "Service d'entretien et de conciergerie - Caserne de pompiers 63 - CC 2019-15",
                   "Ville de Rimouski.", "P1455-02 /794S", "public", "01", (2019, 3, 27, 13, 7), (2019, 4, 15, 15, 0),
                   44246.98, "4c90d4fc-0f7d-4c84-9ec0-c25fb171569d")

CAPABILITY = Reason("capability", True, "correspond : « entretien ménager », UNSPSC 911116",
                    'matches: "entretien ménager", UNSPSC 911116')


def _region(code: str, name: str, ok: bool = True) -> Reason:
    if ok:
        return Reason("region", True, f"dans votre région : {name}", f"in your region: {name}")
    return Reason("region", False, f"hors de vos régions : {name}", f"outside your regions: {name}")


def _match(notice: Notice, score: float, verdict: str, *reasons: Reason) -> Match:
    return Match(notice.id, COOP.id, score, verdict, (CAPABILITY, *reasons))


PAIRS: list[tuple[Notice, Match]] = [
    (BROSSARD, _match(BROSSARD, 0.55, "consortium", _region("16", "Montérégie"),
                      Reason("value", False, "370 833 $ dépasse votre capacité (250 000 $)",
                             "$370,833 is above your capacity ($250,000)", level="consortium"))),
    (SQI_NORD, _match(SQI_NORD, 0.9, "realistic", _region("06", "Montréal"),
                      Reason("value", True, "92 194 $ dans votre capacité", "$92,194 within your capacity"))),
    (MILLE_ILES, _match(MILLE_ILES, 0.9, "realistic", _region("15", "Laurentides"),
                        Reason("value", True, "29 500 $ dans votre capacité", "$29,500 within your capacity"))),
    (MONTREAL_A52, _match(MONTREAL_A52, 0.9, "realistic", _region("06", "Montréal"),
                          Reason("value", True, "valeur inconnue", "value unknown"))),
    (RIMOUSKI, _match(RIMOUSKI, 0.0, "no", _region("01", "Bas-Saint-Laurent", ok=False))),
]


@pytest.fixture
def seao() -> SimpleNamespace:
    """The data above, for test modules (conftest is not importable under --import-mode=importlib)."""
    return SimpleNamespace(coop=COOP, pairs=list(PAIRS), now=NOW, sender=SENDER, brossard=BROSSARD,
                           montreal_a52=MONTREAL_A52, sqi_nord=SQI_NORD, mille_iles=MILLE_ILES, rimouski=RIMOUSKI,
                           match=_match, region=_region)


@pytest.fixture(scope="session")
def renderer() -> Renderer:
    return Renderer(ROOT / "templates")


@pytest.fixture
def coop_digest() -> Digest:
    digest = build_digest(COOP, PAIRS, NOW, max_items=25)
    assert digest is not None
    return digest
