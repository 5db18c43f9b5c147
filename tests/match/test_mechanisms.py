"""Each matching mechanism of issue 13 on real titles (SEAO 2018-2019 AvisRevisions and CanadaBuys rows,
quoted as published; ids given so they can be looked up in ../shared/data)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from watcher.match import capability, compile_profile, match_notice, notice_text
from watcher.match.engine import Judge, Rulebook
from watcher.match.verdict import judge, notice_facts
from watcher.models import Bidder, Enterprise, Notice
from watcher.rules.requirements import load_requirement_rules
from watcher.rules.thresholds import load_thresholds
from watcher.text import fold, terms

ROOT = Path(__file__).resolve().parents[2]
THRESHOLDS = load_thresholds(ROOT / "rules" / "thresholds.toml")
MTL = ZoneInfo("America/Montreal")


def _ent(keywords=(), **kw) -> Enterprise:
    base = dict(id="coop", name="Coop", emails=("a@example.org",), keywords=tuple(keywords), regions=("06", "16"),
                min_value=1000, max_value=250000)
    return Enterprise(**{**base, **kw})


def _notice(title: str, **kw) -> Notice:
    base = dict(id="seao:1", source="seao", title=title, notice_type="3 - Avis d'appel d'offres", method="public",
                nature="services", regions=("06",), published_at=datetime(2019, 3, 1, 9, tzinfo=MTL),
                closing_at=datetime(2019, 4, 1, 14, tzinfo=MTL))
    return Notice(**{**base, **kw})


def _cap(title: str, ent: Enterprise, **kw):
    n = _notice(title, **kw)
    return capability(n, compile_profile(ent), notice_text(n))


def test_one_normaliser_for_case_accents_ligatures_elisions_and_hyphens():
    assert fold("Main-d’Œuvre  ÉQUIPEMENTS") == "main-d'oeuvre equipements"
    assert terms("main-d'oeuvre") == terms("MAIN D’ŒUVRE") == terms("main-d’œuvre")
    assert terms("l'écocentre") == terms("Écocentres") and terms("de l'école") == terms("ÉCOLE")


def test_inflection_singular_plural_masculine_feminine():
    # seao:1266139 « Gestion et opération des écocentres… »: the keyword « écocentre » finds the plural
    score, r = _cap("Gestion et opération des écocentres des secteurs nord et sud de l'arrondissement", _ent(["écocentre"]))
    assert r.ok and "« écocentre » (titre)" in r.fr
    # exclusions too: « équipement » excludes « ÉQUIPEMENTS », « assisté » excludes « assistés »
    m = match_notice(_notice("ACQUISITION D'ÉQUIPEMENTS INFORMATIQUES"), _ent(["informatique"], exclude=("équipement",)))
    assert any(x.criterion == "exclude" and not x.ok for x in m.reasons)
    m = match_notice(_notice("Logiciels de dessin assistés par ordinateur"), _ent(["ordinateur"], exclude=("assisté",)))
    assert any(x.criterion == "exclude" and not x.ok for x in m.reasons)
    assert terms("ménagère") == terms("MÉNAGERS") == terms("ménager")


def test_ligature_in_the_notice_meets_the_spelled_out_keyword():
    # seao:1199926 « Mesure de formation de la main d'œuvre »
    _, r = _cap("Mesure de formation de la main d'œuvre", _ent(["main-d'oeuvre"]), notice_type="9 - Contrat octroyé de gré à gré")
    assert r.ok


def test_a_word_in_boilerplate_is_not_evidence():
    # canadabuys:MX-443840130559: a construction contractors' list; « formulaire » only in how to apply
    description = ("Construction de Défense Canada (CDC) demande aux entrepreneurs et fournisseurs à présenter une demande "
                   "d'adhésion à un répertoire ouvert d'entrepreneurs en construction (ROEC) pour des travaux commerciaux.\n\n"
                   "Les entrepreneurs doivent remplir le formulaire de demande d'adhésion en ligne : https://www.dcc-cdc.gc.ca/formulaires")
    _, r = _cap("Répertoire ouvert d'entrepreneurs en construction pour la BFC Wainwright", _ent(["formulaires", "impression"]),
                source="canadabuys", description=description, regions=("CA-AB",))
    assert not r.ok
    # the description's object statement (its first paragraph) is read: two phrases there are evidence
    _, r = _cap("CNTR0026247", _ent(["déchiquetage", "destruction de documents"]), source="canadabuys",
                description="FAC sollicite des propositions afin de fournir des services sécurisés de déchiquetage et "
                            "la destruction de documents dans ses emplacements partout au Canada.")
    assert r.ok and "(description)" in r.fr


def test_the_title_head_says_what_is_bought_the_rest_is_where():
    # seao:1215400 « Déneigement de l'écocentre LaSalle »: snow removal, not recycling
    _, r = _cap("Déneigement de l'écocentre LaSalle", _ent(["écocentre"]), notice_type="10 - Contrat octroyé suite à un appel d'offres sur invitation")
    assert not r.ok and "autre métier" in r.fr and "deneigement" in r.fr
    # seao:1229945 the second object of a title still counts, a little less
    weak, r2 = _cap("Entretien ménager d'une halte routière et exploitation d'une cantine mobile", _ent(["cantine"]))
    strong, r1 = _cap("Exploitation d'une cantine mobile", _ent(["cantine"]))
    assert r1.ok and r2.ok and weak < strong and "en complément" in r2.fr
    # « Services d'entretien et de conciergerie »: a coordinated object is the head too
    _, r = _cap("Service d'entretien et de conciergerie - Caserne de pompiers 63", _ent(["conciergerie"]))
    assert r.ok and "(titre)" in r.fr


def test_goods_are_not_the_service():
    # seao:1250655 « Produits d'entretien sanitaire » (SEAO nature: goods) for a cleaning co-op
    m = match_notice(_notice("Produits d'entretien sanitaire", nature="goods"), _ent(["entretien sanitaire"], sells=("services",)))
    cap = m.reasons[0]
    assert m.verdict == "no" and not cap.ok and "achète des biens" in cap.fr
    # the same words bought as a service pass
    assert match_notice(_notice("Entretien sanitaire - Centre socioculturel"), _ent(["entretien sanitaire"], sells=("services",))).is_match


def test_unspsc_hierarchy_parent_one_level_up_counts_less_than_the_code():
    # a notice coded 76111500 (building cleaning) and a profile of 76111501 (office cleaning): matched, lower
    ent = _ent((), unspsc=("76111501",))
    parent, r_parent = _cap("Pavillon Mellon", ent, unspsc=("76111500",))
    exact, r_exact = _cap("Pavillon Mellon", ent, unspsc=("76111501",))
    assert r_exact.ok and r_parent.ok and parent < exact and "code parent 76111500" in r_parent.fr
    # two levels up (the segment 76000000) is not evidence
    _, r = _cap("Pavillon Mellon", ent, unspsc=("76000000",))
    assert not r.ok


def test_unknown_region_is_a_question_never_a_pass():
    # canadabuys:cb-81-38683349-like: no region of delivery read; and an Alberta notice is outside Québec
    ent = _ent(["collecte des déchets"], regions=("16",))
    facts = notice_facts(_notice("x"), THRESHOLDS)
    m = judge(_notice("Collecte des déchets", regions=()), ent, facts)
    assert m.verdict == "check" and any(r.criterion == "region" and r.level == "check" for r in m.reasons)
    m = judge(_notice("Enlèvement des déchets - Edmonton", regions=("CA-AB",)), _ent(["déchets"], regions=("*",)), facts)
    assert m.verdict == "no" and any(r.criterion == "region" and "hors Québec" in r.fr for r in m.reasons)
    facts = notice_facts(_notice("x", estimated_value=50000.0), THRESHOLDS)
    m = judge(_notice("Collecte des déchets", regions=("QC",)), ent, facts)  # all of Québec includes Montérégie
    assert m.verdict == "realistic"


def test_no_look_ahead_as_published():
    # a public call later awarded at 334 499 $ (seao:608717): on publication day the award is not known
    n = _notice("ACQUISITION DE SERVICES D'ENTRETIEN MÉNAGER SANITAIRE PROFESSIONNEL",
                bidders=(Bidder("Gagnant inc.", "1234567890", 334499.0, True, 334499.0),))
    published = notice_facts(n, THRESHOLDS, as_published=True)
    later = notice_facts(n, THRESHOLDS)
    assert later.value == 334499.0 and published.value != 334499.0 and published.estimated
    # a contract awarded without a call publishes its amount with it: that one is known that day
    direct = _notice("Entretien ménager", notice_type="9 - Contrat octroyé de gré à gré", method="gre_a_gre",
                     bidders=(Bidder("Coop", None, 30000.0, True, 30000.0),))
    assert notice_facts(direct, THRESHOLDS, as_published=True).value == 30000.0


def _rulebook(*enterprises: Enterprise) -> Rulebook:
    return Rulebook(enterprises, THRESHOLDS, load_requirement_rules(ROOT / "rules" / "requirements.toml"))


def test_consortium_only_with_a_partner_on_file_and_partners_share_a_trade_not_a_word():
    notice = _notice("Entretien ménager des écoles du Centre de services scolaire des Patriotes", regions=("16",),
                     estimated_value=380000.0)
    horizon = _ent(["entretien ménager", "conciergerie"], id="horizon", max_value=250000)
    alone = Judge(_rulebook(horizon)).judge(notice)
    assert alone[0].verdict == "no" and any(r.criterion == "no_partner" for r in alone[0].reasons)
    # another cleaning co-op that words its trade « nettoyage de bâtiments »: same trade (« conciergerie »)
    proprete = _ent(["nettoyage de bâtiments", "conciergerie"], id="proprete", max_value=200000)
    both = {m.enterprise_id: m for m in Judge(_rulebook(horizon, proprete)).judge(notice)}
    assert both["horizon"].verdict == "consortium"
    assert not any(r.criterion == "no_partner" for r in both["horizon"].reasons)


def test_a_profile_naming_another_scheme_matches_its_codes():
    """UK Contracts Finder codes its notices in CPV (tests/data/ocds/publishers, real release): a profile
    that names "CPV:45" (construction work) finds it, through the candidate index too; "CPV:9091"
    (cleaning) does not."""
    from watcher.collect.ocds import parse

    path = ROOT / "tests" / "data" / "ocds" / "publishers" / "gb-contractsfinder-release.json"
    with path.open("rb") as stream:
        (notice,) = [n for n in parse(stream, path.name) if isinstance(n, Notice)]
    assert any(c.scheme == "CPV" and c.code == "45000000" for c in notice.codes)
    builder = _ent((), id="builder", codes=("CPV:45",), regions=("*",))
    cleaner = _ent((), id="cleaner", codes=("CPV:9091",), regions=("*",))
    _, r = capability(notice, compile_profile(builder), notice_text(notice))
    assert r.ok and "CPV:45" in r.fr
    assert not capability(notice, compile_profile(cleaner), notice_text(notice))[1].ok
    judge_ = Judge(_rulebook(builder, cleaner))
    assert judge_.index.candidates(notice, notice_text(notice)) == {"builder"}
