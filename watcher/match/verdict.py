"""Verdicts: can this enterprise realistically win this notice? Pure functions, no I/O.

`notice_facts` gathers, once per notice, what every enterprise is judged against: the value (known,
or estimated from the procurement mode and the buyer's past awards, and said to be an estimate)
and the requirements (read in the notice's text, or inferred from the thresholds and marked so).
`judge` then compares them with one enterprise's capacity, one reason per criterion:

- realistic: every criterion passes;
- stretch: exactly one gap that can be closed (value or a surety up to 25 %/50 % above capacity,
  insurance to raise, a short lead time);
- check ("à vérifier"): it would be realistic or a stretch, but something the verdict rests on is not
  known (the delivery region is not stated, the only evidence of trade is weak): the open question
  is the reason at level "check", and the digest shows such items apart, never as realistic;
- consortium: it asks for what the enterprise sells but is too big for it alone, or needs a surety,
  licence or authorisation that a partner could bring;
- no: it does not ask for what the enterprise sells, excluded words, wrong region or mode, too
  small, closed, or several gaps at once.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from ..codes import awarded_without_call
from ..models import Enterprise, Match, Notice, Reason
from ..money import BASE, Rates, convert
from ..rules.thresholds import Thresholds, buyer_type
from . import Profile, compile_profile, match_notice_scored, notice_text

MONTREAL = ZoneInfo("America/Montreal")
STRETCH_VALUE = 1.25  # a contract up to 25 % above capacity is a stretch, beyond it a team's job
# Beyond 10 times its capacity no team of small enterprises led by this one is credible (an 87 M$
# school-board computer purchase is not a 300 k$ co-op's consortium): judged "no", said so.
CONSORTIUM_VALUE = 10.0
STRETCH_BOND = 1.5  # a surety up to 50 % above the bonding limit can often be negotiated
DEFAULT_PERFORMANCE_PERCENT = 50.0  # performance bonds are typically 50 % of the contract
# SEAO writes 1 $ as the contract amount of each winner of a framework agreement (entente-cadre,
# several suppliers, amount set by later orders): a placeholder, never a value to judge on.
PLACEHOLDER_AMOUNT = 1.0
LEVELS = {"realistic": 4, "stretch": 3, "check": 2, "consortium": 1, "no": 0}


@dataclass(frozen=True)
class Requirement:
    """One requirement of a notice: stated in its text (with evidence) or inferred from the rules."""

    status: str  # "required" | "none" | "not_stated"
    amount: float | None = None
    percent: float | None = None
    evidence: str = ""
    inferred: bool = False
    basis_fr: str = ""
    basis_en: str = ""


@dataclass(frozen=True)
class Facts:
    value: float | None  # the value used for judging (known or point estimate)
    low: float | None  # estimate range when the value is unknown
    high: float | None
    estimated: bool
    basis_fr: str
    basis_en: str
    buyer: str
    requirements: dict[str, Requirement] = field(default_factory=dict)
    open_ended: bool = False  # estimated from the method alone: a floor (public tender), no ceiling


def known_value(notice: Notice) -> float | None:
    """The notice's value without SEAO's 1 $ placeholders: its estimate, else the sum of the real
    winning amounts (a framework agreement whose winners all show 1 $ has no known value)."""
    if notice.estimated_value is not None and notice.estimated_value > PLACEHOLDER_AMOUNT:
        return notice.estimated_value
    amounts = [b.contract_amount for b in notice.bidders
               if b.winner and b.contract_amount is not None and b.contract_amount > PLACEHOLDER_AMOUNT]
    return sum(amounts) if amounts else None


def _money(v: float) -> str:
    return f"{v:,.0f} $".replace(",", " ")


def notice_facts(notice: Notice, thresholds: Thresholds, extracted: object | None = None,
                 past_awards: list[float] | None = None, rates: Rates | None = None,
                 as_published: bool = False) -> Facts:
    """Value and requirements of a notice. `extracted` is a match.requirements.Requirements (or None);
    `past_awards` are this buyer's past award amounts in the notice's category, if the store has some;
    `rates` converts a value stated in another currency (rules/rates.toml).
    `as_published`: only what was public the day a call was published, so a backtest is not better
    than live use: its own estimate, never the amount awarded after it closed (a contract awarded
    without a call publishes its amount with it: that one is kept)."""
    buyer = buyer_type(notice)
    on = (notice.published_at or notice.as_of or datetime.now(MONTREAL)).astimezone(MONTREAL).date()
    value = known_value(notice)
    if as_published and not awarded_without_call(notice.notice_type, notice.source):
        stated = notice.estimated_value
        value = stated if stated is not None and stated > PLACEHOLDER_AMOUNT else None
    if (notice.currency or "") != BASE:  # never judge pounds or pesos as dollars (issue 14)
        return _foreign_facts(notice, value, rates, on, buyer, extracted)
    nature = notice.nature if notice.nature in ("goods", "services", "construction") else "services"
    low, high, estimated, open_ended = None, None, False, False
    if value is not None:
        basis_fr, basis_en = ("valeur estimée de l'avis", "notice's estimate") if value == notice.estimated_value else (
            "montant adjugé", "awarded amount")
    else:
        estimated = True
        low, high = thresholds.value_range(notice.method, buyer, nature, on)
        if past_awards:
            value = statistics.median(past_awards)
            basis_fr = f"estimation : médiane de {len(past_awards)} contrat(s) passé(s) de cet acheteur dans cette catégorie"
            basis_en = f"estimate: median of {len(past_awards)} past contract(s) of this buyer in this category"
        elif high is not None:
            value = high if low is None else (low + high) / 2
            span = f"{_money(low)} à {_money(high)}" if low is not None else f"moins de {_money(high)}"
            span_en = f"{_money(low)} to {_money(high)}" if low is not None else f"under {_money(high)}"
            basis_fr, basis_en = f"estimation selon le mode : {span}", f"estimate from the method: {span_en}"
        elif low is not None:
            value, open_ended = low, True
            basis_fr, basis_en = f"estimation selon le mode : plus de {_money(low)}", f"estimate from the method: over {_money(low)}"
        else:
            basis_fr, basis_en = "valeur inconnue", "value unknown"
    reqs = _stated(extracted, high if estimated else value)  # an estimate drops a condition only if even its top is below
    reqs = _inferred(reqs, notice, buyer, nature, value, thresholds)
    return Facts(value, low, high, estimated, basis_fr, basis_en, buyer, reqs, open_ended)


def _foreign_facts(notice: Notice, stated: float | None, rates: Rates | None, on, buyer: str,
                   extracted: object | None) -> Facts:
    """A value in another currency (`stated`, as the caller may know it: without look-ahead when judged as
    published): converted with the dated rate of rules/rates.toml, else unknown. Québec's thresholds and
    the buyer's history say nothing of it, so nothing is estimated or inferred."""
    currency = notice.currency or "?"
    value = convert(stated, notice.currency, rates, on=on)
    rate = rates.rate(currency, on) if rates and value is not None else None
    if rate is not None:
        basis_fr = f"{_money(stated)[:-2]} {currency} × {rate.cad:g} (taux du {rate.since}, {rate.source})"
        basis_en = f"{_money(stated)[:-2]} {currency} × {rate.cad:g} (rate of {rate.since}, {rate.source})"
    elif stated is not None:
        basis_fr = f"valeur en {currency} sans taux de conversion (rules/rates.toml) : inconnue pour juger"
        basis_en = f"value in {currency} with no conversion rate (rules/rates.toml): unknown for judging"
    else:
        basis_fr, basis_en = "valeur inconnue", "value unknown"
    return Facts(value, None, None, False, basis_fr, basis_en, buyer, _stated(extracted, value))


def _stated(extracted: object | None, value: float | None = None) -> dict[str, Requirement]:
    """Map the extractor's result onto Requirements (only what the text says). A requirement the text
    sets only from a contract value (`applies_from`) is dropped when `value` (the known value, or the top
    of an estimated range) is below it; with no such value it is kept, its condition in the evidence."""
    if extracted is None:
        return {}
    ev = getattr(extracted, "evidence", {}) or {}
    out = _stated_all(extracted, ev)
    names = {"rbq_licence": "rbq", "amp_authorisation": "amp", "revenu_quebec_attestation": "revenu_quebec"}
    for field, limit in (getattr(extracted, "applies_from", None) or {}).items():
        name = names.get(field, field)
        if name not in out:
            continue
        if value is not None and value < limit:
            del out[name]  # the text asks it only of bigger contracts
        elif condition := ev.get(f"applies_from.{field}"):
            out[name] = replace(out[name], evidence=f"{out[name].evidence} … {condition}".strip(" …"))
    return out


def _stated_all(extracted: object, ev: dict[str, str]) -> dict[str, Requirement]:
    out: dict[str, Requirement] = {}
    for name in ("bid_bond", "performance_bond"):
        status = getattr(extracted, name, "not_stated")
        if status != "not_stated":
            out[name] = Requirement(status, getattr(extracted, f"{name}_amount", None),
                                    getattr(extracted, f"{name}_percent", None), ev.get(name, ""))
    if getattr(extracted, "labour_materials_bond_percent", None):
        out["labour_materials_bond"] = Requirement("required", None, extracted.labour_materials_bond_percent,
                                                   ev.get("labour_materials_bond_percent", ""))
    if getattr(extracted, "insurance_liability_amount", None):
        out["insurance"] = Requirement("required", extracted.insurance_liability_amount, None, ev.get("insurance_liability_amount", ""))
    for name, key in (("rbq", "rbq_licence"), ("amp", "amp_authorisation"), ("revenu_quebec", "revenu_quebec_attestation")):
        if getattr(extracted, key, False):
            out[name] = Requirement("required", evidence=ev.get(key, ""))
    return out


def _inferred(reqs: dict[str, Requirement], notice: Notice, buyer: str, nature: str, value: float | None,
              t: Thresholds) -> dict[str, Requirement]:
    """Add what the rules imply when the text is silent, marked inferred with the rule as basis."""
    reqs = dict(reqs)
    lcop = buyer in ("provincial", "health", "education")
    if value is None:
        return reqs
    if "bid_bond" not in reqs and lcop and nature == "construction" and value >= t.bid_bond_lcop_construction_from:
        reqs["bid_bond"] = Requirement("required", inferred=True,
                                       basis_fr=f"travaux LCOP ≥ {_money(t.bid_bond_lcop_construction_from)} : garantie obligatoire",
                                       basis_en=f"LCOP construction ≥ {_money(t.bid_bond_lcop_construction_from)}: bond mandatory")
    if "amp" not in reqs and buyer != "federal":
        limit = t.amp_services_from if nature == "services" else t.amp_construction_from if nature == "construction" else None
        if limit is not None and value >= limit:
            reqs["amp"] = Requirement("required", inferred=True, basis_fr=f"contrat ≥ {_money(limit)} : autorisation AMP",
                                      basis_en=f"contract ≥ {_money(limit)}: AMP authorisation")
    if "revenu_quebec" not in reqs and buyer != "federal" and value >= t.revenu_quebec_from:
        reqs["revenu_quebec"] = Requirement("required", inferred=True,
                                            basis_fr=f"contrat ≥ {_money(t.revenu_quebec_from)} : attestation de Revenu Québec",
                                            basis_en=f"contract ≥ {_money(t.revenu_quebec_from)}: Revenu Québec attestation")
    return reqs


def _r(criterion: str, ok: bool, fr: str, en: str, level: str = "", evidence: str = "") -> Reason:
    return Reason(criterion, ok, fr, en, evidence, "" if ok else (level or "no"))


def _source(req: Requirement) -> tuple[str, str]:
    if req.inferred:
        return f" (déduit : {req.basis_fr})", f" (inferred: {req.basis_en})"
    return (f" (avis : « {req.evidence} »)", f' (notice: "{req.evidence}")') if req.evidence else ("", "")


def _bond(name: str, fr_name: str, en_name: str, amount: float | None, ent: Enterprise, req: Requirement) -> Reason:
    src_fr, src_en = _source(req)
    if not ent.bid_bond and name == "bid_bond" or ent.max_bond is None and not ent.bid_bond:
        return _r(name, False, f"{fr_name} exigée, vous n'en fournissez pas{src_fr}",
                  f"{en_name} required, you cannot supply one{src_en}", "consortium", req.evidence)
    if amount is None or ent.max_bond is None:
        return _r(name, True, f"{fr_name} exigée, montant non précisé{src_fr}", f"{en_name} required, amount not stated{src_en}",
                  evidence=req.evidence)
    if amount <= ent.max_bond:
        return _r(name, True, f"{fr_name} de {_money(amount)} dans votre limite{src_fr}",
                  f"{en_name} of {_money(amount)} within your limit{src_en}", evidence=req.evidence)
    level = "stretch" if amount <= ent.max_bond * STRETCH_BOND else "consortium"
    return _r(name, False, f"{fr_name} de {_money(amount)} au-delà de votre limite ({_money(ent.max_bond)}){src_fr}",
              f"{en_name} of {_money(amount)} above your limit ({_money(ent.max_bond)}){src_en}", level, req.evidence)


def judge(notice: Notice, profile: Profile | Enterprise, facts: Facts, now: datetime | None = None,
          text: str | None = None) -> Match:
    """One enterprise, one notice: verdict and reasons. `now` None judges as at publication (backtests)."""
    if isinstance(profile, Enterprise):
        profile = compile_profile(profile)
    ent = profile.enterprise
    text = notice_text(notice) if text is None else text
    base, raw_score = match_notice_scored(notice, profile, text)
    reasons = [r if r.ok or r.level == "check" else replace(r, level="no") for r in base.reasons if r.criterion != "value"]
    if awarded_without_call(notice.notice_type, notice.source):
        # Most of what EÉS win is given this way, but once published it is too late to bid:
        # such notices feed the buyer leads (watcher buyers), not the opportunities.
        reasons.insert(0, _r("open_call", False, f"déjà attribué sans appel ouvert au SEAO ({notice.notice_type}) : "
                             "une piste d'acheteur, pas un appel à soumissionner",
                             f"already awarded without an open call on SEAO ({notice.notice_type}): "
                             "a buyer lead, not a call for bids", "no"))
    capable = all(r.ok or r.level == "check" for r in reasons)
    value = facts.value

    # Value vs capacity.
    tag_fr, tag_en = (f" ({facts.basis_fr})", f" ({facts.basis_en})")
    if value is None:
        said = facts.basis_fr != "valeur inconnue"  # e.g. a value in another currency with no rate
        reasons.append(_r("value", True, "valeur inconnue" + (tag_fr if said else ""), "value unknown" + (tag_en if said else "")))
    elif ent.max_value is not None and value > ent.max_value:
        level = ("stretch" if value <= ent.max_value * STRETCH_VALUE else
                 "consortium" if value <= ent.max_value * CONSORTIUM_VALUE else "no")
        if facts.estimated and facts.low is not None and facts.low <= ent.max_value:
            level = "stretch"  # the estimate's range still reaches the capacity
        elif facts.open_ended and level != "no":
            level = "check"  # nothing published, only the method's floor: a question for the documents, not a team
        reasons.append(_r("value", False, f"{_money(value)} au-delà de votre capacité ({_money(ent.max_value)}){tag_fr}",
                          f"{_money(value)} above your capacity ({_money(ent.max_value)}){tag_en}", level))
    elif (ent.min_value is not None and value < ent.min_value and not facts.open_ended
          and not (facts.estimated and (facts.high or 0) >= ent.min_value)):
        reasons.append(_r("value", False, f"{_money(value)} sous votre minimum ({_money(ent.min_value)}){tag_fr}",
                          f"{_money(value)} below your minimum ({_money(ent.min_value)}){tag_en}", "no"))
    elif facts.open_ended and ent.max_value is not None:
        # "over 101 100 $" is a floor, not a value: public tenders of the demo data bid from 0.1 to 12 M$
        reasons.append(_r("value", False, f"valeur non publiée : au moins {_money(value)} (mode), sans plafond connu, "
                          f"peut dépasser votre capacité ({_money(ent.max_value)}) : vérifiez l'estimation aux documents",
                          f"value not published: at least {_money(value)} (method), no known ceiling, may exceed your "
                          f"capacity ({_money(ent.max_value)}): check the estimate in the tender documents", "stretch"))
    else:
        reasons.append(_r("value", True, f"{_money(value)} dans votre capacité{tag_fr}", f"{_money(value)} within your capacity{tag_en}"))

    reasons += _requirement_reasons(ent, facts)
    reasons.append(lead_time(notice, ent.min_lead_days, now))

    gaps = [r.level for r in reasons if not r.ok]
    if not capable or "no" in gaps:
        verdict = "no"
    elif "consortium" in gaps or gaps.count("stretch") > 1:
        verdict = "consortium" if ent.consortium_willing else "no"
        if not ent.consortium_willing:
            reasons.append(_r("consortium", False, "trop grand seul, et vous ne souhaitez pas de consortium",
                              "too big alone, and you do not want consortia"))
    elif "check" in gaps:
        verdict = "check"  # an open question first: never shown as realistic
    elif gaps:
        verdict = "stretch"
    else:
        verdict = "realistic"
    factor = {"realistic": 1.0, "stretch": 0.75, "check": 0.6, "consortium": 0.5, "no": 0.0}[verdict]
    return Match(notice.id, ent.id, round(raw_score * factor, 3), verdict, tuple(reasons))


def _requirement_reasons(ent: Enterprise, facts: Facts) -> list[Reason]:
    out: list[Reason] = []
    reqs = facts.requirements
    bid = reqs.get("bid_bond")
    if bid and bid.status == "none":
        out.append(_r("bid_bond", True, "aucune garantie de soumission exigée" + _source(bid)[0],
                      "no bid security required" + _source(bid)[1], evidence=bid.evidence))
    elif bid:
        amount = bid.amount or (bid.percent / 100 * facts.value if bid.percent and facts.value else None)
        out.append(_bond("bid_bond", "garantie de soumission", "bid bond", amount, ent, bid))
    perf = reqs.get("performance_bond")
    if perf and perf.status == "required":
        percent = perf.percent or DEFAULT_PERFORMANCE_PERCENT
        amount = perf.amount or (percent / 100 * facts.value if facts.value else None)
        out.append(_bond("performance_bond", "garantie d'exécution", "performance bond", amount, ent, perf))
    ins = reqs.get("insurance")
    if ins and ins.amount:
        held = ent.liability_insurance or 0
        ok = held >= ins.amount
        src_fr, src_en = _source(ins)
        out.append(_r("insurance", ok, f"assurance responsabilité de {_money(ins.amount)} exigée, vous avez {_money(held)}{src_fr}",
                      f"liability insurance of {_money(ins.amount)} required, you hold {_money(held)}{src_en}", "stretch", ins.evidence))
    rbq = reqs.get("rbq")
    if rbq:
        ok = "RBQ" in ent.licences
        src_fr, src_en = _source(rbq)
        out.append(_r("licences", ok, f"licence RBQ exigée{'' if ok else ', vous ne l’avez pas'}{src_fr}",
                      f"RBQ licence required{'' if ok else ', you do not hold it'}{src_en}", "consortium", rbq.evidence))
    amp = reqs.get("amp")
    if amp:
        src_fr, src_en = _source(amp)
        out.append(_r("amp", ent.amp_authorised, f"autorisation de l'AMP exigée{'' if ent.amp_authorised else ', vous ne l’avez pas'}{src_fr}",
                      f"AMP authorisation required{'' if ent.amp_authorised else ', you do not hold it'}{src_en}", "consortium", amp.evidence))
    rq = reqs.get("revenu_quebec")
    if rq:
        src_fr, src_en = _source(rq)
        out.append(_r("revenu_quebec", True, f"attestation de Revenu Québec à joindre{src_fr}",
                      f"Revenu Québec attestation to attach{src_en}", evidence=rq.evidence))
    return out


def lead_time(notice: Notice, min_lead_days: int, now: datetime | None) -> Reason:
    """Days left to bid, counted from `now` (the judging or the digest's date; the publication
    when judged as published)."""
    if notice.closing_at is None:
        return _r("lead_time", True, "date de fermeture non précisée", "closing date not stated")
    ref = now or notice.published_at
    if ref is None:
        return _r("lead_time", True, "date de publication inconnue", "publication date unknown")
    days = (notice.closing_at - ref).total_seconds() / 86400
    closes = notice.closing_at.astimezone(MONTREAL).strftime("%Y-%m-%d")
    if days < 0:
        return _r("lead_time", False, f"fermé depuis le {closes}", f"closed on {closes}", "no")
    if days >= min_lead_days:
        return _r("lead_time", True, f"{days:.0f} jours pour soumissionner (fermeture {closes})",
                  f"{days:.0f} days to bid (closes {closes})")
    level = "stretch" if days >= min_lead_days / 2 else "no"
    return _r("lead_time", False, f"{days:.0f} jours seulement, il vous en faut {min_lead_days} (fermeture {closes})",
              f"only {days:.0f} days, you need {min_lead_days} (closes {closes})", level)


def best(verdicts: list[str]) -> str:
    return max(verdicts, key=LEVELS.__getitem__) if verdicts else "no"
