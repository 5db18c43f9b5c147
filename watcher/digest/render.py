"""Turn a Digest into a MIME mail: text/plain and text/html alternatives, in the digest's language.

Layout lives in templates/digest.{txt,html}.j2 and wording in templates/digest.<lang>.toml, so the
same information is shown in every language and a translator edits one flat file. Python only
formats values (babel) and fills the sentences; every value that comes from a source reaches the
HTML template as a plain string and is escaped there.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime as rfc2822_date
from email.utils import make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_percent
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, select_autoescape

from ..codes import CATEGORIES, CATEGORIES_EN, METHOD_LABELS, REGIONS
from ..collect.places import label as region_label
from ..errors import ConfigError
from ..limits import safe_url
from ..match.verdict import lead_time
from ..models import Digest, DigestItem, Reason
from .links import Links

MONTREAL = ZoneInfo("America/Montreal")
LANGUAGES = ("fr", "en")  # the first is the default
UNSUBSCRIBE_SUBJECT = "désabonnement {id}"  # one keyword for the coordinator's mailbox, whatever the language


class _OneLineHeader(UnstructuredHeader):
    """Written as given, never folded nor RFC 2047-encoded: clients must read a List-Unsubscribe URL whole."""

    def fold(self, *, policy) -> str:  # type: ignore[override]
        return f"{self.name}: {self}{policy.linesep}"


class _FoldedOnce:
    """A header that remembers how it was last folded, and for which policy: the fixed headers
    (sender, date, content types) are one object shared by every mail of a run, and folding is a
    third of writing a mail out (aiosmtplib flattens each with email.policy.SMTP)."""

    def fold(self, *, policy) -> str:
        memo = self.__dict__.get("_folded")
        if memo is not None and memo[0] is policy:
            return memo[1]
        folded = super().fold(policy=policy)  # type: ignore[misc]
        self.__dict__["_folded"] = (policy, folded)
        return folded

    def __getstate__(self) -> dict:  # a copy or a pickle carries the header, not the memo
        return {k: v for k, v in self.__dict__.items() if k != "_folded"}


class _Registry(HeaderRegistry):
    """The stdlib's registry builds a new header class for every header it parses (a tenth of
    rendering, issue 16); one class per header name is enough, since the classes hold no state."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type] = {}

    def map_to_type(self, name: str, cls: type) -> None:
        super().map_to_type(name, cls)
        self._classes.clear()

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            base = super().__getitem__(name)
            cls = self._classes[key] = type(base.__name__, (_FoldedOnce, base), {})
        return cls


def _policy():
    registry = _Registry()
    registry.map_to_type("list-unsubscribe", _OneLineHeader)
    return default_policy.clone(header_factory=registry)


POLICY = _policy()


def _header(name: str, value: str) -> Any:
    """A header object, parsed (and checked for line breaks) as `msg[name] = value` would."""
    return POLICY.header_store_parse(name, value)[1]


@lru_cache(maxsize=256)
def _fixed_header(name: str, value: str) -> Any:
    """A header the same in every mail of a run (sender, date, content types): parsed once. The
    objects are immutable strings, so mails can share them."""
    return _header(name, value)


_QP_KEEP = bytes(range(0x20, 0x7F)) + b"\t\n"  # written as they are ("=" is escaped before the others)
_QP_ESCAPES = [b"=%02X" % byte for byte in range(256)]


def quoted_printable(text: str, width: int = 78) -> str:
    """`text` in UTF-8 and quoted-printable, exactly as EmailMessage.set_content(text, cte=
    "quoted-printable") writes it with lines of at most `width` (the policy's max_line_length).
    Three times cheaper: the stdlib maps every character through a Python table, here each
    distinct byte to escape is replaced in one pass, and only long lines go through Python."""
    body = text.replace("\r\n", "\n").replace("\r", "\n")  # as set_content: any line end becomes \n
    if not body.endswith("\n"):
        body += "\n"
    data = body.encode("utf-8").replace(b"=", b"=3D")
    for byte in set(data.translate(None, _QP_KEEP)):  # the distinct bytes left to escape: a few accents
        data = data.replace(bytes((byte,)), _QP_ESCAPES[byte])
    lines = data.decode("ascii").split("\n")
    for i, line in enumerate(lines):
        if len(line) > width or line[-1:] in (" ", "\t"):
            lines[i] = _qp_fold(line, width)
    return "\n".join(lines)


def _qp_fold(line: str, width: int) -> str:
    """One encoded line cut into lines of at most `width` ending in a soft break "=", never inside
    an =XX; whitespace ending the line escaped, since a transport may drop it."""
    out = []
    start = 0
    while len(line) - start > width:  # width - 1 characters and the "="
        end = start + width - 1
        escape = line.find("=", end - 2, end)
        if escape >= 0:  # an =XX would be cut: break before it, its "=" serving as the soft break
            out.append(line[start:escape + 1])
            start = escape
        else:
            out.append(line[start:end] + "=")
            start = end
    rest = line[start:]
    if rest[-1:] in (" ", "\t"):
        last = f"={ord(rest[-1]):02X}"
        if len(rest) <= width - 2:
            rest = rest[:-1] + last
        elif len(rest) == width - 1:
            rest += "=\n"
        else:
            rest = rest[:-1] + "=\n" + last
    out.append(rest)
    return "\n".join(out)


def _text_part(text: str, subtype: str, mime_version: bool) -> EmailMessage:
    """A text/plain or text/html part in UTF-8 and quoted-printable, headers as set_content writes
    them (it adds MIME-Version to every part it makes but the first)."""
    part = EmailMessage(policy=POLICY)
    part.set_raw("Content-Type", _fixed_header("Content-Type", f'text/{subtype}; charset="utf-8"'))
    part.set_raw("Content-Transfer-Encoding", _fixed_header("Content-Transfer-Encoding", "quoted-printable"))
    if mime_version:
        part.set_raw("MIME-Version", _fixed_header("MIME-Version", "1.0"))
    part.set_payload(quoted_printable(text, POLICY.max_line_length))
    return part


class Attrs(dict):
    """A dict the templates read as `t.heading`, `section.title`: Jinja looks for an attribute
    first, and a plain dict's missing attribute costs an exception each time (a tenth of rendering,
    issue 16). Dict methods still come first, as with a plain dict."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _attrs(table: dict[str, Any]) -> Attrs:
    """`table` and the tables in it as Attrs."""
    return Attrs({k: _attrs(v) if isinstance(v, dict) else v for k, v in table.items()})


@dataclass(frozen=True)
class ItemView:
    """One notice as the templates show it: every field already a display string."""

    title: str
    url: str | None
    reference: str
    buyer: str
    method: str
    value: str
    published: str
    closing: str
    regions: str
    categories: str
    reasons: str
    score: str
    verdict: str  # the raw verdict, for the HTML colour
    verdict_label: str
    days_left: str = ""
    requirements: str = ""  # sureties, insurance, licences asked (stated or inferred)
    team: tuple[str, ...] = ()  # consortium proposal lines
    change: str = ""  # for an amendment: what changed
    feedback_yes: str = ""  # signed "pertinent" link ([web] secret and base_url set)
    feedback_no: str = ""  # signed "pas pour nous" link


class Renderer:
    """Holds one Jinja2 environment and the compiled templates, so a run renders many digests cheaply."""

    def __init__(self, templates_dir: Path, links: Links | None = None) -> None:
        self.templates_dir = Path(templates_dir)
        self.links = links  # None: no feedback links, unsubscribe by mail only
        self.env = Environment(
            loader=FileSystemLoader(self.templates_dir),
            autoescape=select_autoescape(enabled_extensions=("html", "html.j2")),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        try:
            self.text_template = self.env.get_template("digest.txt.j2")
            self.html_template = self.env.get_template("digest.html.j2")
        except TemplateNotFound as exc:
            raise ConfigError(f"{self.templates_dir}: template {exc.name} not found",
                              hint="vérifiez [paths] templates / check [paths] templates in config.toml") from exc
        self.strings = {lang: self._load_strings(lang) for lang in LANGUAGES}
        self._check_same_keys()

    def render(self, digest: Digest, sender: str, reply_to: str | None = None, profile_help: str | dict[str, str] = "",
               message_id: str | None = None) -> EmailMessage:
        """The mail for `digest`. `message_id` is for tests and resends; by default a fresh one."""
        lang = digest.language if digest.language in self.strings else LANGUAGES[0]
        t = self.strings[lang]
        ent = digest.enterprise
        name = _one_line(ent.name)
        count = len(digest.items)
        week = format_date(_week_start(digest.generated_at), t["week_format"], locale=_locale(t["locale"]))
        sender_address = parseaddr(sender)[1]
        unsubscribe_subject = UNSUBSCRIBE_SUBJECT.format(id=ent.id)
        subject = _plural(t, "subject", count).format(count=count, name=name, week=week)
        context: dict[str, Any] = {
            "t": t,
            "lang": lang,
            "subject": subject,
            "enterprise_name": name,
            "week": t["week"].format(week=week),
            "intro": _plural(t, "intro", count).format(count=count, name=name),
            "sections": self._sections(digest, t, lang),
            "filtered": _filtered(digest, t),
            "lead_sections": lead_sections(digest.extra.get("leads"), t, lang, digest.extra.get("buyer_contacts", {})),
            "omitted": _plural(t, "omitted", digest.omitted).format(count=digest.omitted) if digest.omitted else "",
            "why": t["why"].format(name=name, id=ent.id),
            "unsubscribe": t["unsubscribe"].format(address=sender_address, subject=unsubscribe_subject),
            "unsubscribe_url": self.links.unsubscribe_url(ent.id) if self.links else "",
            "profile_help": (profile_help.get(lang, "") if isinstance(profile_help, dict) else profile_help).strip(),
        }
        # The mail is assembled from header objects and encoded parts (set_raw, set_payload) rather
        # than with msg[...] = and set_content/add_alternative, which parse again and move the
        # headers they have just written (half of rendering, issue 16). Same headers, same order,
        # same bytes: tests/digest/test_render.py compares with the stdlib's way.
        msg = EmailMessage(policy=POLICY)
        msg.set_raw("Subject", _header("Subject", subject))
        msg.set_raw("From", _fixed_header("From", sender))
        msg.set_raw("To", _header("To", ", ".join(ent.emails)))
        if reply_to:
            msg.set_raw("Reply-To", _fixed_header("Reply-To", reply_to))
        msg.set_raw("Date", _fixed_header("Date", rfc2822_date(digest.generated_at)))
        msg.set_raw("Message-ID", _header("Message-ID", message_id or make_msgid(idstring=ent.id,
                                                                                 domain=_domain(sender_address))))
        mailto = f"<mailto:{quote(sender_address, safe='@')}?subject={quote(unsubscribe_subject)}>"
        if self.links:  # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" to the https URL
            msg.set_raw("List-Unsubscribe", _header("List-Unsubscribe", f"<{context['unsubscribe_url']}>, {mailto}"))
            msg.set_raw("List-Unsubscribe-Post", _fixed_header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        else:
            msg.set_raw("List-Unsubscribe", _header("List-Unsubscribe", mailto))
        msg.set_raw("Auto-Submitted", _fixed_header("Auto-Submitted", "auto-generated"))  # RFC 3834: no vacation replies to a robot
        msg.set_raw("X-Watcher-Enterprise", _header("X-Watcher-Enterprise", ent.id))  # lets the outbox name files by enterprise
        msg.set_raw("MIME-Version", _fixed_header("MIME-Version", "1.0"))
        # quoted-printable always: 7-bit safe on any server, and the same encoding whatever the content.
        body = [_text_part(typography(self.text_template.render(context), lang), "plain", mime_version=False),
                _text_part(typography(self.html_template.render(context), lang), "html", mime_version=True)]
        calendar = closing_calendar(digest, t)
        if calendar is None:
            msg.set_raw("Content-Type", _header("Content-Type", "multipart/alternative"))
            msg.set_payload(body)
        else:  # an attachment: multipart/mixed around the alternatives
            alternatives = EmailMessage(policy=POLICY)
            alternatives.set_raw("Content-Type", _header("Content-Type", "multipart/alternative"))
            alternatives.set_payload(body)
            attachment = EmailMessage(policy=POLICY)
            attachment.set_content(calendar, maintype="text", subtype="calendar", filename="fermetures.ics",
                                   params={"method": "PUBLISH"})
            msg.set_raw("Content-Type", _header("Content-Type", "multipart/mixed"))
            msg.set_payload([alternatives, attachment])
        msg.set_raw("Content-Language", _fixed_header("Content-Language", lang))
        return msg

    def _view(self, item: DigestItem, digest: Digest, t: dict[str, Any], lang: str, change: str = "") -> ItemView:
        """An item with what the caller computed about it (facts, team) and the days left."""
        view = _item_view(item, t, lang, digest.generated_at, digest.enterprise.min_lead_days)
        facts = digest.extra.get("facts", {}).get(item.notice.id)
        proposal = digest.extra.get("teams", {}).get(item.notice.id)
        value = view.value
        if facts is not None and facts.estimated and facts.value is not None:
            value = f"{money(facts.value, t['locale'])} ({t['estimate']})"
        if self.links:
            view = replace(view, feedback_yes=self.links.feedback_url(digest.enterprise.id, item.notice.id, True),
                           feedback_no=self.links.feedback_url(digest.enterprise.id, item.notice.id, False))
        return replace(view, value=value, days_left=_days_left(item.notice.closing_at, digest.generated_at, t),
                       requirements=_requirements(facts, t, lang),
                       team=_team_lines(proposal, digest, t, lang), change=change)

    def _sections(self, digest: Digest, t: dict[str, Any], lang: str) -> list[dict[str, Any]]:
        """Realistic (by closing date), stretch, to check (an open question: region not stated, weak
        evidence of trade), consortium, reminders, amendments: only the non-empty ones."""
        out = []
        for verdict in ("realistic", "stretch", "check", "consortium"):
            chosen = [i for i in digest.items if i.match.verdict == verdict]
            if verdict == "realistic":
                chosen.sort(key=lambda i: (i.notice.closing_at is None, i.notice.closing_at or digest.generated_at))
            if chosen:
                out.append(Attrs({"key": verdict, "title": t["sections"][verdict],
                                  "items": [self._view(i, digest, t, lang) for i in chosen]}))
        if digest.reminders:
            out.append(Attrs({"key": "reminders", "title": t["sections"]["reminders"],
                              "items": [self._view(i, digest, t, lang) for i in digest.reminders]}))
        if digest.amendments:
            out.append(Attrs({"key": "amendments", "title": t["sections"]["amendments"],
                              "items": [self._view(a.item, digest, t, lang, change=a.en if lang == "en" else a.fr)
                                        for a in digest.amendments]}))
        return out

    def _load_strings(self, lang: str) -> dict[str, Any]:
        path = self.templates_dir / f"digest.{lang}.toml"
        try:
            return _attrs(tomllib.loads(path.read_text(encoding="utf-8")))
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from exc

    def _check_same_keys(self) -> None:
        """Every language must say the same things: a key missing in one is an error at start."""
        reference = _keys(self.strings[LANGUAGES[0]])
        for lang in LANGUAGES[1:]:
            keys = _keys(self.strings[lang])
            if keys != reference:
                diff = sorted(reference ^ keys)
                raise ConfigError(f"{self.templates_dir / f'digest.{lang}.toml'}: keys differ from "
                                  f"digest.{LANGUAGES[0]}.toml: {', '.join(diff)}")


def _item_view(item: DigestItem, t: dict[str, Any], lang: str, now: datetime, min_lead_days: int) -> ItemView:
    """An item as the mail shows it. Judged as published, the days left to bid were counted from the
    publication: the mail counts them from its own date, as its closing line does."""
    n, m = item.notice, item.match
    loc = t["locale"]
    url = safe_url(n.url)
    shown = [lead_time(n, min_lead_days, now) if r.criterion == "lead_time" else r for r in m.reasons]
    reasons = " · ".join(("⚠ " if not r.ok else "") + _one_line(r.text(lang)) for r in shown)
    labels = CATEGORIES_EN if lang == "en" else CATEGORIES
    return ItemView(
        title=_one_line(n.title),
        url=url,
        reference=_one_line(n.reference or ""),
        buyer=(_one_line(n.buyer_name) or t["not_stated"]) + _notice_contact(n, t, lang),
        method=METHOD_LABELS.get(n.method, METHOD_LABELS["other"])[lang],
        value=money(n.value, loc, n.currency) if n.value is not None else t["value_unknown"],
        published=_when(n.published_at, t),
        closing=_when(n.closing_at, t) if n.closing_at else t["no_closing"],
        regions=_regions(n.regions, t),
        categories=" · ".join(f"{c} – {labels[c]}" if c in labels else c for c in n.categories)
        or t["not_stated"],
        reasons=reasons,
        score=_percent(m.score, loc),
        verdict=m.verdict,
        verdict_label=t["verdicts"].get(m.verdict, m.verdict),
    )


def lead_sections(week: Any, t: dict[str, Any], lang: str, contacts: dict | None = None) -> list[dict[str, Any]]:
    """The award sections after the open calls: this week's awards in the trade, renewals due in 3
    to 9 months, buyers to meet; each item a title line, a details line and why it is there."""
    if not week:
        return []
    loc = t["locale"]
    social = t["leads"]["social"]
    contacts = contacts or {}

    def contact(buyer: str) -> str:
        return _buyer_contact(contacts.get(buyer), t, lang)

    out = []
    awards = [Attrs({"title": _one_line(a.notice.title), "url": _url(a.notice.url),
               "details": t["leads"]["award"].format(buyer=_one_line(a.notice.buyer_name) or t["not_stated"],
                                                     suppliers=", ".join(a.suppliers) or t["not_stated"],
                                                     amount=money(a.amount, loc) if a.amount else t["value_unknown"],
                                                     mode=METHOD_LABELS.get(a.notice.method, METHOD_LABELS["other"])[lang],
                                                     date=_day(a.notice.published_at, t))
               + contact(a.notice.buyer_name),
               "why": _lang_money(a.why(lang), lang), "social": social if a.social else ""}) for a in week.awards]
    renewals = [Attrs({"title": _one_line(r.title), "url": None,
                 "details": t["leads"]["renewal"].format(buyer=_one_line(r.buyer), expected=_day(r.expected, t),
                                                         start=_day(r.window[0], t), end=_day(r.window[1], t),
                                                         incumbent=_one_line(r.incumbent or "") or t["not_stated"],
                                                         value=money(r.value, loc) if r.value else t["value_unknown"])
                 + contact(r.buyer),
                 "why": _lang_money(r.why(lang), lang), "social": social if r.social else ""}) for r in week.renewals]
    buyers = [Attrs({"title": _one_line(b.buyer), "url": None, "details": contact(b.buyer).removeprefix(" — "),
               "why": _lang_money(_one_line(b.reason(lang)), lang),
               "social": social if any(i.neq in week.hub_neqs for i in b.incumbents if i.neq) else ""}) for b in week.buyers]
    more = dict(week.more)
    for key, items in (("awards", awards), ("renewals", renewals), ("buyers", buyers)):
        if items:
            left = more.get(key, 0)
            out.append(Attrs({"key": key, "title": t["sections"][key], "items": items,
                              "more": _plural(t, "more", left).format(count=left) if left else ""}))
    return out


def _url(url: str | None) -> str | None:
    return url if url and url.lower().startswith(("https://", "http://")) else None


def _lang_money(text: str, lang: str) -> str:
    """Amounts written the French way by the pure stages ("85 422 $"), the English way in English."""
    return Reason("", True, text, text).text(lang)


def _day(value: date | datetime | None, t: dict[str, Any]) -> str:
    """A day as people write it: "1er mars 2019", "March 1, 2019"."""
    if value is None:
        return t["not_stated"]
    day = value.astimezone(MONTREAL).date() if isinstance(value, datetime) and value.tzinfo else value
    text = format_date(day, t["date_format"], locale=_locale(t["locale"]))
    return _first_of_month(text, day, t.get("first_day", ""))


def _first_of_month(text: str, day: date, first_day: str) -> str:
    """French writes the first day of a month "1er" (1er mars), every other day as a number."""
    if day.day == 1 and first_day:
        return re.sub(r"(?<!\d)1(?!\d)", first_day, text, count=1)
    return text


def _days_left(closing: datetime | None, now: datetime, t: dict[str, Any]) -> str:
    if closing is None:
        return ""
    days = (closing - now).total_seconds() / 86400
    if days < 0:
        return t["closed"]
    whole = int(days)
    return _plural(t, "days_left", whole).format(count=whole)


def _requirements(facts: Any, t: dict[str, Any], lang: str) -> str:
    """Sureties, insurance and licences the notice asks for, marked when the rules imply them."""
    if facts is None:
        return ""
    parts = []
    for name, req in sorted(facts.requirements.items()):
        if req.status != "required":
            continue
        label = t["requirements"].get(name, name)
        size = (f" {req.percent:g} %" if req.percent else "") + (f" {money(req.amount, t['locale'])}" if req.amount else "")
        parts.append(label + size + (f" ({t['inferred']})" if req.inferred else ""))
    return ", ".join(parts) or t["no_requirements"]


def _team_lines(proposal: Any, digest: Digest, t: dict[str, Any], lang: str) -> tuple[str, ...]:
    """The best team's reasons, and the other members' contacts when every member agreed to share them."""
    if proposal is None or not proposal.teams:
        return ()
    team = proposal.teams[0]
    lines = list(team.reasons_en if lang == "en" else team.reasons_fr)
    contacts = digest.extra.get("contacts", {})
    others = [m for m in team.members if m != digest.enterprise.id]
    if all(contacts.get(m, (None, None, False))[2] for m in team.members):
        for m in others:
            name, emails, _ = contacts[m]
            lines.append(t["team_contact"].format(name=_one_line(name), emails=", ".join(emails)))
    return tuple(_one_line(x) for x in lines)


def _filtered(digest: Digest, t: dict[str, Any]) -> str:
    if not digest.filtered:
        return ""
    total = sum(n for _, n in digest.filtered)
    parts = ", ".join(f"{t['criteria'].get(c, c)} {n}" for c, n in digest.filtered)
    return _plural(t, "filtered", total).format(count=total, parts=parts)


def closing_calendar(digest: Digest, t: dict[str, Any]) -> bytes | None:
    """An iCalendar file with each realistic notice's closing time, so it lands in the calendar."""
    from icalendar import Calendar, Event

    chosen = [i for i in digest.items if i.match.verdict == "realistic" and i.notice.closing_at is not None]
    if not chosen:
        return None
    cal = Calendar()
    cal.add("prodid", "-//watcher//veille des marchés publics//FR")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    for item in chosen:
        n = item.notice
        event = Event()
        event.add("uid", f"{n.id}-closing@watcher")  # stable: a resend updates the same event
        event.add("dtstamp", digest.generated_at)
        event.add("dtstart", n.closing_at.astimezone(MONTREAL))
        event.add("dtend", n.closing_at.astimezone(MONTREAL))
        event.add("summary", t["ics_summary"].format(title=_one_line(n.title)))
        url = safe_url(n.url)  # a CR/LF or javascript: URL stored before the ingest checks never reaches the .ics
        if url:
            event.add("url", url)
        event.add("description", f"{_one_line(n.buyer_name)}\n{url or ''}")
        cal.add_component(event)
    return cal.to_ical()


@lru_cache(maxsize=8192)  # pure; Babel's formatting was a tenth of rendering, and digests share amounts
def money(value: float, locale: str, currency: str = "CAD") -> str:
    """Whole dollars in the locale's way: '125 000 $' (fr_CA), '$125,000' (en_CA); another currency
    with its own sign ('175 000 000 £GB'), an unstated one with '?' (never shown as dollars)."""
    pattern = Locale.parse(locale).currency_formats["standard"].pattern.replace(".00", "")
    if not currency:
        return format_currency(value, "XXX", format=pattern, currency_digits=False, locale=locale).replace("¤", "?")
    return format_currency(value, currency, format=pattern, currency_digits=False, locale=locale)


def _when(value: datetime | None, t: dict[str, Any]) -> str:
    """Montréal local time: SEAO states times there and so do buyers' documents."""
    if value is None:
        return t["not_stated"]
    return _local_time(value, t["datetime_format"], t["locale"], t.get("first_day", ""))


@lru_cache(maxsize=8192)  # pure; a notice's dates are written in every digest that lists it
def _local_time(value: datetime, fmt: str, locale: str, first_day: str) -> str:
    local = value.astimezone(MONTREAL) if value.tzinfo else value
    return _first_of_month(format_datetime(local, fmt, locale=_locale(locale)), local.date(), first_day)


@lru_cache(maxsize=8192)  # pure; scores repeat from digest to digest
def _percent(score: float, locale: str) -> str:
    return format_percent(score, locale=_locale(locale))


@lru_cache(maxsize=None)
def _locale(name: str) -> Locale:
    """The parsed locale: Babel parses a locale name again at each call (a tenth of its formatting)."""
    return Locale.parse(name)


def _regions(codes: tuple[str, ...], t: dict[str, Any]) -> str:
    if not codes:
        return t["no_regions"]
    if set(REGIONS) <= set(codes):
        return t["all_regions"]
    return ", ".join(REGIONS.get(c) or region_label(c, t["locale"][:2]) for c in codes)


def _week_start(moment: datetime) -> date:
    """The Monday of the week `moment` falls in, in Montréal."""
    local = moment.astimezone(MONTREAL) if moment.tzinfo else moment
    return local.date() - timedelta(days=local.weekday())


def _plural(t: dict[str, Any], key: str, count: int) -> str:
    if count == 0 and f"{key}_none" in t:  # "Aucun nouvel appel d'offres…", never "Voici les 0 avis"
        return t[f"{key}_none"]
    return t[f"{key}_one" if count == 1 else f"{key}_other"]


def _notice_contact(n: Any, t: dict, lang: str) -> str:
    """The contact person the notice names, with the date the notice stated it."""
    if not n.contacts:
        return ""
    c, seen = n.contacts[0], n.as_of or n.published_at
    who = _one_line(", ".join(x for x in (c.name, c.email, c.phone) if x))
    when = f" ({'vu le' if lang == 'fr' else 'seen'} {format_date(seen.astimezone(MONTREAL).date(), 'medium', locale=_locale(t['locale']))})" \
        if seen else ""
    return f" — contact{' :' if lang == 'fr' else ':'} {who}{when}"


_SPACE_BEFORE_FR = re.compile(r"[ \u202f](?=[:;!?](?:[\s<]|$))")  # only the space: a literal replacement is cheaper


def typography(text: str, lang: str) -> str:
    """Québec French typography in a rendered French mail: a non-breaking space before : ; ! ?
    where a plain space stood (the wording, the matcher's reasons, the sources' own texts)."""
    if lang != "fr":
        return text
    return _SPACE_BEFORE_FR.sub("\u00a0", text)


def _buyer_contact(contact: Any, t: dict, lang: str) -> str:
    """' — contact : name, e-mail, phone (vu le 2 sept. 2026)': the buyer's latest known contact person
    (store/contacts.py), with when a notice last named it, since buyers' staff changes often."""
    if contact is None:
        return ""
    who = _one_line(", ".join(x for x in (contact.name, contact.email, contact.phone) if x))
    seen = format_date(contact.last_seen.astimezone(MONTREAL).date(), "medium", locale=_locale(t["locale"]))
    return f" — contact : {who} (vu le {seen})" if lang == "fr" else f" — contact: {who} (seen {seen})"


def _one_line(text: str) -> str:
    """Sources put line breaks and runs of spaces in titles; a header or a list line cannot have them."""
    return " ".join(text.split())


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"


def _keys(table: dict[str, Any], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for key, value in table.items():
        out |= _keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
    return out
