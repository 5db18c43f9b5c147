"""The award sections as people read them, from real SEAO awards and a real contract's dates: an
English digest with no French word outside names and quotes; Québec French typography."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from watcher.collect import open_source_file
from watcher.collect.seao_xml import parse
from watcher.codes import REGIONS
from watcher.digest.build import build_digest
from watcher.match.awards import buyers_to_meet, fresh_awards, renewals, week_leads
from watcher.match.buyers import buyer_leads
from watcher.models import FinalContract, Notice

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo" / "seao"
HELP = {"fr": "Pour modifier votre profil, écrivez à votre coordonnateur régional.",
        "en": "To change your profile, write to your regional coordinator."}
# Words that are French and not English: grammar words and the digest's own vocabulary. A French
# word left in an English mail is almost always one of these or carries a French accent.
FRENCH = set("""
de du des le la les et ou pour avec dans sur au aux une un est sont vous votre vos nous ce cette ces qui que
jours jour restants restant avis fermeture fermé acheteur acheteurs semaine semaines contrat contrats gré région
régions valeur inconnue aucun aucune envoi prochain autre autres occasion occasions réaliste réalistes
attribués métier renouveler bientôt rencontrer attendu vers place achat achats médiane dernier mois ans chaque
année estimation déduit garantie soumission mode modes publié pourquoi pertinence organisme référence catégories
confié offrez achète économie sociale jamais désabonnement courriel profil écrivez coordonnateur régional
""".split())
ACCENTED = re.compile(r"[àâçéèêëîïôûùüÿœæ]", re.I)


@pytest.fixture(scope="module")
def real_week():
    """Leads computed from real data: March 2018 awards, the Beauharnois contract and its end date."""
    def read(path):
        with open_source_file(path) as stream:
            return list(parse(stream, str(path)))
    notices = [n for p in ("AvisRevisions_20180301_20180331.xml.gz", "AvisRevisions_20181101_20181130.xml.gz")
               for n in read(DEMO / p) if isinstance(n, Notice)]
    finals = [f for f in read(ROOT / "tests" / "data" / "awards" / "Contrats_20181101_20181130.excerpt.xml")
              if isinstance(f, FinalContract)]
    return notices, finals


def _leads(real_week, coop):
    notices, finals = real_week
    awards = fresh_awards(notices, replace(coop, regions=("*",)), date(2018, 1, 1), date(2018, 4, 1))
    due = renewals(notices, finals, coop, date(2019, 3, 1))
    buyers = buyers_to_meet(buyer_leads(notices, coop, datetime(2019, 3, 1, tzinfo=timezone.utc)))
    assert awards and due and buyers
    return week_leads(awards, due, buyers, sent={}, limits={"buyers": 1}, today=date(2019, 3, 1)), notices


def _names(notices, week, digest) -> list[str]:
    """Everything that is a name: enterprise, buyers, suppliers, titles, references, regions."""
    names = [digest.enterprise.name, *REGIONS.values()]
    for n in [*notices, *(i.notice for i in digest.items)]:
        names += [n.title, n.buyer_name, n.reference or "", *(b.name for b in n.bidders)]
    names += [r.incumbent or "" for r in week.renewals] + [b.buyer for b in week.buyers]
    names += [i.name for b in week.buyers for i in b.incumbents]
    return sorted({" ".join(x.split()).rstrip(" .") for x in names if len(x.strip()) > 3}, key=len, reverse=True)


def test_english_digest_has_no_french_outside_names_and_quotes(renderer, seao, real_week):
    week, notices = _leads(real_week, seao.coop)
    digest = build_digest(replace(seao.coop, language="en"), seao.pairs, seao.now, max_items=3,
                          extra={"leads": week})
    msg = renderer.render(digest, seao.sender, profile_help=HELP)
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "== Awarded this week in your trade ==" in text and "== Up for renewal soon ==" in text
    assert "== Buyers to meet ==" in text and "more, in a later mail" in text
    assert "$45,400" in text and "45 400 $" not in text  # amounts the English way, in the reasons too
    visible = html_lib.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(title|head)>.*?</\1>", " ", html, flags=re.S)))
    for body in (text, visible):
        rest = re.sub(r"https?://\S+|\S+@\S+", " ", " ".join(body.split()))
        for name in _names(notices, week, digest):
            rest = rest.replace(name, " ")
        rest = re.sub(r"“[^”]*”|\"[^\"]*\"|«[^»]*»", " ", rest)  # quotes: the profile's keywords, a mail subject
        words = re.findall(r"[^\W\d_]+(?:['’][^\W\d_]+)?", rest)
        french = sorted({w for w in words if w.casefold() in FRENCH or ACCENTED.search(w)})
        assert not french, f"French words in the English digest: {french}"


def test_french_digest_typography(renderer, seao, real_week):
    week, _ = _leads(real_week, seao.coop)
    digest = build_digest(seao.coop, seao.pairs, seao.now, max_items=3, extra={"leads": week})
    text = renderer.render(digest, seao.sender, profile_help=HELP).get_body(("plain",)).get_content()
    assert "== Attribués cette semaine dans votre métier ==" in text and "== À renouveler bientôt ==" in text
    assert "45 400 $" in text
    # A non-breaking space before : ; ! ? and never a plain one.
    assert re.search(r"\S\u00a0:", text) and not re.search(r" [:;!?](\s|$)", text)
    # The first of the month is "1er"; hours "8 h 01", not "08 h 01".
    assert "attendu vers le 22 novembre 2019 (du 23 octobre 2019 au 22 décembre 2019)" in text
    assert not re.search(r"\b0\d h \d\d\b", text)


def test_first_of_the_month_and_hours(renderer):
    from watcher.digest.render import _day, _when
    t = renderer.strings["fr"]
    assert _day(date(2019, 3, 1), t) == "1er mars 2019"
    assert _day(date(2019, 3, 11), t) == "11 mars 2019"
    assert _when(datetime(2019, 3, 1, 13, 1, tzinfo=timezone.utc), t) == "1er mars 2019 8 h 01"
    assert _day(date(2019, 3, 1), renderer.strings["en"]) == "March 1, 2019"


def test_empty_week_says_so_plainly(renderer, seao):
    digest = build_digest(seao.coop, [], seao.now, max_items=3, send_empty=True)
    msg = renderer.render(digest, seao.sender)
    text = msg.get_body(("plain",)).get_content()
    assert "Voici les 0" not in text and "Aucun nouvel appel d'offres ne correspond cette semaine" in text
    assert "0 occasions" not in msg["Subject"]
