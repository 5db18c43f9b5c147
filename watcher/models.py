"""Typed records passed between stages. Frozen, so a stage cannot change what another sees."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

_EN_MONEY = re.compile(r"(?<![\d,])(\d{1,3}(?: \d{3})*) \$")

Method = Literal["gre_a_gre", "invitation", "public", "other"]
Nature = Literal["goods", "services", "construction", "other"]
METHODS: tuple[str, ...] = ("gre_a_gre", "invitation", "public", "other")
NATURES: tuple[str, ...] = ("goods", "services", "construction", "other")


@dataclass(frozen=True)
class Bidder:
    """One supplier that bid on (or was given) a contract."""

    name: str
    neq: str | None = None  # Québec enterprise number, 10 digits; None when unknown
    amount: float | None = None  # amount bid
    winner: bool = False
    contract_amount: float | None = None  # amount of the contract awarded to this bidder


@dataclass(frozen=True)
class Contact:
    """The buyer's contact person as a notice states it (CanadaBuys contactInfo*, OCDS contactPoint)."""

    name: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Code:
    """A classification code with its scheme: ("UNSPSC", "76111500"), ("CPV", "45000000"), ("GSIN", "N7050")."""

    scheme: str
    code: str
    label: str = ""


@dataclass(frozen=True)
class Notice:
    """A procurement notice, whatever its source, in the shape the store and the matcher share.

    `as_of` is when the source stated this version (file period end, release date): the store
    never lets an older statement overwrite a newer one.
    """

    id: str  # stable: "seao:<numeroseao>"
    source: str  # "seao", "canadabuys", ...
    title: str
    buyer_name: str = ""
    buyer_id: str | None = None
    municipal: bool | None = None
    reference: str | None = None  # the buyer's own reference number
    url: str | None = None
    notice_type: str = ""  # source code and label, e.g. "9 - Contrat octroyé de gré à gré"
    method: str = "other"  # one of METHODS
    nature: str = "other"  # one of NATURES
    categories: tuple[str, ...] = ()  # SEAO categories, codes only: ("S9",)
    unspsc: tuple[str, ...] = ()
    # "01".."17" Québec regions, "QC" all of Québec, "CA-ON"… other provinces, "CA" all of Canada,
    # ISO 3166 alpha-2 outside Canada ("ZZ": abroad, country not named); () = unknown (collect/places.py)
    regions: tuple[str, ...] = ()
    published_at: datetime | None = None  # time zone aware
    closing_at: datetime | None = None  # time zone aware
    awarded_on: date | None = None
    estimated_value: float | None = None
    description: str = ""
    bidders: tuple[Bidder, ...] = ()
    as_of: datetime | None = None
    # Added for issue 14; at their defaults they stay out of the content hash (store/repo.py).
    currency: str = "CAD"  # ISO 4217 of estimated_value and every amount of the notice; "" = not stated
    codes: tuple[Code, ...] = ()  # every classification code with its scheme (UNSPSC, CPV, GSIN, SEAO…)
    contacts: tuple[Contact, ...] = ()
    title_built: bool = False  # the source has no title: built from the category, buyer and nature
    contract_start: date | None = None  # expected contract period, when the source states it
    contract_end: date | None = None
    trade_agreements: tuple[str, ...] = ()

    @property
    def awarded_value(self) -> float | None:
        """Sum of the winners' contract amounts, None when no winner has an amount."""
        amounts = [b.contract_amount for b in self.bidders if b.winner and b.contract_amount]
        return sum(amounts) if amounts else None

    @property
    def value(self) -> float | None:
        """The best value we know: the estimate, else the awarded amount."""
        return self.estimated_value if self.estimated_value is not None else self.awarded_value


@dataclass(frozen=True)
class FinalContract:
    """Final amount of a finished contract (SEAO Contrats files), linked to its notice."""

    notice_id: str
    reference: str | None
    final_amount: float | None
    end_date: date | None
    published_on: date | None
    contractor_name: str
    contractor_neq: str | None


@dataclass(frozen=True)
class Expense:
    """A supplementary expense on a contract (SEAO Depenses files)."""

    notice_id: str
    reference: str | None
    spent_on: date | None
    published_on: date | None
    amount: float | None
    description: str
    contractor_name: str
    contractor_neq: str | None


@dataclass(frozen=True)
class Enterprise:
    """An enterprise profile from rules/enterprises/<id>.toml."""

    id: str
    name: str
    emails: tuple[str, ...]
    language: str = "fr"  # "fr" | "en"
    neq: str | None = None  # links the profile to its bids in the award history (co-bidding, leads)
    categories: tuple[str, ...] = ()
    unspsc: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()  # other schemes' code prefixes as "SCHEME:prefix" ("CPV:9091", "GSIN:N7050")
    sells: tuple[str, ...] = ()  # "goods", "services", "construction"; () = any
    regions: tuple[str, ...] = ("*",)
    min_value: float | None = None
    max_value: float | None = None
    methods: tuple[str, ...] = ("gre_a_gre", "invitation", "public")
    bid_bond: bool = False  # can supply a bid guarantee
    max_bond: float | None = None  # largest surety it can obtain
    liability_insurance: float | None = None  # civil liability insurance held
    licences: tuple[str, ...] = ()  # e.g. ("RBQ",)
    amp_authorised: bool = False
    min_lead_days: int = 0  # days it needs between publication and closing
    consortium_willing: bool = True
    consortium_partners: tuple[str, ...] = ()
    consortium_share_contact: bool = True
    digest_schedule: str | None = None  # cron; None: [daemon] digest_schedule
    digest_empty: bool = False  # send a "nothing this week" mail rather than nothing
    alert_days: int = 0  # > 0: mail at once a realistic notice closing within this many days
    source_file: str = ""


@dataclass(frozen=True)
class Reason:
    """One criterion of a match, judged, in both languages for the mail."""

    criterion: str  # "capability", "exclude", "region", "value", "method", "bid_bond", "lead_time", ...
    ok: bool
    fr: str
    en: str
    evidence: str = ""  # the words of the notice this rests on, when there are some
    level: str = ""  # for a failed criterion: "stretch" (closable gap), "consortium" (a team could), "no"

    def text(self, language: str) -> str:
        """The reason in `language`; amounts, written once the French way by the matcher ("85 422 $"),
        come out the English way ("$85,422") in English."""
        return _EN_MONEY.sub(lambda m: "$" + m.group(1).replace(" ", ","), self.en) if language == "en" else self.fr


@dataclass(frozen=True)
class Match:
    """The judgement of one notice for one enterprise."""

    notice_id: str
    enterprise_id: str
    score: float  # 0..1, higher is better
    verdict: str  # "realistic" | "stretch" | "consortium" | "no" ("match" from the capability stage alone)
    reasons: tuple[Reason, ...] = ()

    @property
    def is_match(self) -> bool:
        return self.verdict != "no"


@dataclass(frozen=True)
class DigestItem:
    notice: Notice
    match: Match


@dataclass(frozen=True)
class Amendment:
    """A notice already sent to the enterprise that changed since: what changed, in both languages."""

    item: DigestItem
    version: int
    fr: str
    en: str


@dataclass(frozen=True)
class Digest:
    """What one enterprise receives: built by digest.build (pure), rendered by digest.render.

    `items` are new opportunities (realistic, stretch, consortium; the renderer groups them);
    `reminders` were sent before and close within a week; `amendments` were sent before and changed;
    `filtered` counts, by deciding criterion, the notices in its trade judged `no`; `extra` carries
    per-notice details the caller computed: "facts" {notice id: Facts}, "teams" {notice id: Proposal},
    "contacts" {enterprise id: (name, emails)}."""

    enterprise: Enterprise
    items: tuple[DigestItem, ...]
    generated_at: datetime
    omitted: int = 0  # matches left for a later digest because of max_items
    language: str = "fr"
    extra: dict = field(default_factory=dict)
    reminders: tuple[DigestItem, ...] = ()
    amendments: tuple[Amendment, ...] = ()
    filtered: tuple[tuple[str, int], ...] = ()
