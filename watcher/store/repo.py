"""Repository functions: the only code that reads or writes notices, bidders and deliveries.

Saving is idempotent: a notice whose content did not change costs no write; a changed notice
is updated and what changed is kept in notice_revisions; an older statement (smaller `as_of`)
never overwrites a newer one.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta, timezone
from operator import itemgetter
from typing import NamedTuple

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update

from ..limits import clean_notice
from ..models import Bidder, Code, Contact, Expense, FinalContract, Notice
from .bulk import insert_rows
from .contacts import save_contacts
from .schema import bidders, deliveries, delivery_failures, expenses, final_contracts, notice_revisions, notices

BATCH = 500
_NOTICE_FIELDS = [f.name for f in fields(Notice) if f.name not in ("bidders", "as_of")]
# Fields added after notices were first stored: left out of the hash at their default, so a notice
# stored before them keeps its hash (and its verdicts) until a source really states one.
_LATER_FIELDS = {f.name: f.default for f in fields(Notice)
                 if f.name in ("currency", "codes", "contacts", "title_built", "contract_start", "contract_end",
                               "trade_agreements")}
_JSON_FIELDS = ("categories", "unspsc", "regions", "codes", "contacts", "trade_agreements")


@dataclass
class SaveCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0  # older than what the store has: ignored

    def add(self, other: "SaveCounts") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def canonical(notice: Notice) -> dict:
    """JSON-ready content of a notice, the basis of its hash and of revision diffs. Runs for every
    notice imported: the fields' values are read from the instance's dict and converted by type."""
    values = notice.__dict__
    out: dict = {}
    for name, later, default in _CANONICAL:
        value = values[name]
        if later and value == default:
            continue
        kind = type(value)
        if kind is tuple:
            value = _plain(value)
        elif kind is datetime:
            value = value.astimezone(timezone.utc).isoformat()
        elif kind is date:
            value = value.isoformat()
        elif kind not in _AS_IS:  # a subclass (never made by a collector): the general rule
            if isinstance(value, datetime):
                value = value.astimezone(timezone.utc).isoformat()
            elif isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = _plain(value)
        out[name] = value
    out["bidders"] = [[b.name, b.neq, b.amount, b.winner, b.contract_amount] for b in notice.bidders]
    return out


# (field, added later, its default) in the order of _NOTICE_FIELDS; types canonical keeps as they are
_CANONICAL = tuple((name, name in _LATER_FIELDS, _LATER_FIELDS.get(name)) for name in _NOTICE_FIELDS)
_AS_IS = frozenset((str, int, float, bool, type(None)))


def _plain(values: tuple) -> list:
    """Tuples of codes or contacts as JSON lists: [scheme, code, label], [name, email, phone]."""
    if _strings(values):  # codes, regions, categories: the usual case
        return list(values)
    return [[x.scheme, x.code, x.label] if isinstance(x, Code) else [x.name, x.email, x.phone]
            if isinstance(x, Contact) else x for x in values]


def _strings(values: tuple) -> bool:
    """Only strings in `values` (a plain loop: a generator in all() cost more than the test)."""
    for x in values:
        if type(x) is not str:
            return False
    return True


# json.dumps(doc, sort_keys=True, ensure_ascii=False) without building an encoder per notice
_ENCODE = json.JSONEncoder(sort_keys=True, ensure_ascii=False, check_circular=False).encode


def content_hash(doc: dict) -> str:
    return hashlib.sha256(_ENCODE(doc).encode()).hexdigest()


def save_notices(conn: Connection, items: Iterable[Notice], origin: str, now: datetime | None = None) -> SaveCounts:
    """Insert new notices, update changed ones (recording the change), skip the rest. Text is cleaned
and bounded first (watcher.limits), so a NUL byte or a 10 MB title never reaches the database."""
    now = now or datetime.now(timezone.utc)
    counts = SaveCounts()
    batch: dict[str, Notice] = {}
    for notice in items:
        notice = clean_notice(notice)  # every path in: no control character, bounded text, safe URL
        if notice.id in batch:  # same notice twice in one batch: apply in order
            counts.add(_save_batch(conn, list(batch.values()), origin, now))
            batch = {}
        batch[notice.id] = notice
        if len(batch) >= BATCH:
            counts.add(_save_batch(conn, list(batch.values()), origin, now))
            batch = {}
    if batch:
        counts.add(_save_batch(conn, list(batch.values()), origin, now))
    return counts


def _save_batch(conn: Connection, batch: list[Notice], origin: str, now: datetime) -> SaveCounts:
    counts = SaveCounts()
    ids = [n.id for n in batch]
    existing = _stored(conn, ids)
    new_rows, new_bidders = [], []
    changed: list[tuple[Notice, dict, str, int]] = []
    for notice in batch:
        doc = canonical(notice)
        digest = content_hash(doc)
        old = existing.get(notice.id)
        if old is None:
            new_rows.append(_new_row(notice, digest, now))
            new_bidders.extend(_bidder_tuples(notice))
            counts.new += 1
        elif old.content_hash == digest:
            counts.unchanged += 1
        elif old.as_of and notice.as_of and notice.as_of < old.as_of:
            counts.stale += 1
        else:
            changed.append((notice, doc, digest, old.version + 1))
            counts.updated += 1
    if changed:  # revisions: a handful of statements for the whole batch, not five per notice
        # at most BATCH notices: read in one round trip, not through a server-side cursor
        query = select(notices).where(notices.c.id.in_([n.id for n, _, _, _ in changed]))
        before = {n.id: canonical(n) for n in _stream(conn, query, stream=False)}
        revisions, rows, fresh_bidders = [], [], []
        for notice, doc, digest, version in changed:
            old_doc = before[notice.id]
            revisions.append(dict(notice_id=notice.id, version=version, recorded_at=now, as_of=notice.as_of, origin=origin,
                                  changes={k: [old_doc.get(k), v] for k, v in doc.items() if old_doc.get(k) != v}))
            row = _row(notice, doc, digest, now, first_seen=None, version=version)
            row.pop("first_seen")
            rows.append(dict(row, b_id=notice.id))
            fresh_bidders.extend(_bidder_tuples(notice))
        conn.execute(insert(notice_revisions), revisions)
        conn.execute(update(notices).where(notices.c.id == bindparam("b_id")), rows)
        conn.execute(delete(bidders).where(bidders.c.notice_id.in_([n.id for n, _, _, _ in changed])))
        insert_rows(conn, bidders, _BIDDER_COLUMNS, fresh_bidders)
    insert_rows(conn, notices, _NOTICE_COLUMNS, new_rows)  # plain tuples, one statement each
    insert_rows(conn, bidders, _BIDDER_COLUMNS, new_bidders)
    changed_ids = {n.id for n, _, _, _ in changed}
    save_contacts(conn, [n for n in batch if n.contacts and (n.id not in existing or n.id in changed_ids)], now)
    return counts


class _Stored(NamedTuple):
    content_hash: str
    as_of: datetime | None
    version: int


def _stored(conn: Connection, ids: list[str]) -> dict[str, _Stored]:
    """What the store holds of these notices (at most BATCH ids), in one plain statement: built by
    Core, the IN list of 500 ids and its rows were 6 % of a SEAO XML import (py-spy)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"SELECT id, content_hash, as_of, version FROM notices WHERE id IN ({', '.join([mark] * len(ids))})"
    as_of = notices.c.as_of.type._cached_result_processor(conn.dialect, None) or (lambda value: value)
    return {i: _Stored(h, as_of(a), v) for i, h, a, v in conn.exec_driver_sql(sql, tuple(ids))}


def _row(notice: Notice, doc: dict, digest: str, now: datetime, first_seen: datetime | None, version: int) -> dict:
    row = {name: getattr(notice, name) for name in _NOTICE_FIELDS}
    row.update({name: _plain(getattr(notice, name)) for name in _JSON_FIELDS})
    row.update(
        as_of=notice.as_of, content_hash=digest, version=version, first_seen=first_seen, updated_at=now,
    )
    return row


_NOTICE_COLUMNS = (*_NOTICE_FIELDS, "as_of", "content_hash", "version", "first_seen", "updated_at")
_BIDDER_COLUMNS = ("notice_id", "position", "name", "neq", "amount", "winner", "contract_amount")
_JSON_AT = frozenset(_NOTICE_FIELDS.index(name) for name in _JSON_FIELDS)


def _new_row(notice: Notice, digest: str, now: datetime) -> tuple:
    """A new notice as a tuple in the order of _NOTICE_COLUMNS (version 1, first seen now)."""
    values = list(_FIELD_VALUES(notice.__dict__))
    for i in _JSON_AT:  # tuples, hashable: the JSON of a repeated list is computed once a batch
        value = values[i]
        if type(value) is not tuple or not _strings(value):  # codes, contacts: as tuples
            values[i] = tuple(tuple(x) if isinstance(x, list) else x for x in _plain(value))
    return (*values, notice.as_of, digest, 1, now, now)


_FIELD_VALUES = itemgetter(*_NOTICE_FIELDS)


def _bidder_tuples(notice: Notice) -> list[tuple]:
    nid = notice.id
    return [(nid, i, b.name, b.neq, b.amount, b.winner, b.contract_amount) for i, b in enumerate(notice.bidders)]


PAGE = 2000  # notices held at once while reading: memory stays flat however large the store
IN_LIMIT = 5000  # ids in one IN (...) list; more are filtered while reading in order


def load_notices(
    conn: Connection, ids: Iterable[str] | None = None, since: datetime | None = None, limit: int | None = None,
) -> Iterator[Notice]:
    """Stored notices (with bidders), newest publication first, read and built PAGE at a time."""
    query = select(notices).order_by(notices.c.published_at.desc().nulls_last(), notices.c.id)
    wanted: set[str] | None = None
    if ids is not None:
        ids = list(ids)
        if not ids:
            return
        if len(ids) <= IN_LIMIT:
            query = query.where(notices.c.id.in_(ids))
        else:  # too many for one statement: read in order, keep those asked for
            wanted = set(ids)
    if since is not None:
        query = query.where(notices.c.published_at >= since)
    if limit is not None and wanted is None:
        query = query.limit(limit)
    yield from _stream(conn, query, wanted, limit)


def load_live(conn: Connection, now: datetime, fresh_since: datetime, since: datetime | None = None) -> Iterator[Notice]:
    """What a digest sent at `now` can offer: notices still open (closing after `now`), and those
    that state no closing date published since `fresh_since`. The awarded contracts of the history
    (most of SEAO's records: gré à gré, invitations) state none: read the week's only, not years."""
    query = (select(notices)
             .where((notices.c.closing_at >= now) | (notices.c.closing_at.is_(None) & (notices.c.published_at >= fresh_since)))
             .order_by(notices.c.published_at.desc().nulls_last(), notices.c.id))
    if since is not None:
        query = query.where(notices.c.published_at >= since)
    yield from _stream(conn, query)


def load_purchases_since(conn: Connection, day: date) -> Iterator[Notice]:
    """Notices awarded on or after `day`, or published since then (not awarded, or awarded
    later): the window of buyer leads and forecasts, without reading the older history."""
    since = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) - timedelta(days=1)  # any time zone
    query = (select(notices).where((notices.c.awarded_on >= day) | (notices.c.published_at >= since))
             .order_by(notices.c.published_at.desc().nulls_last(), notices.c.id))
    yield from _stream(conn, query)


def newest_publication(conn: Connection) -> datetime | None:
    return conn.execute(select(func.max(notices.c.published_at))).scalar()


def _stream(conn: Connection, query, wanted: set[str] | None = None, limit: int | None = None,
            stream: bool = True) -> Iterator[Notice]:
    """Run `query` (rows of `notices`) and build its notices a page at a time, bidders read per page
    (`stream=False`: rows fetched at once, for a query known to be small)."""
    if stream:
        query = query.execution_options(stream_results=True, yield_per=PAGE)  # this statement only
    result = conn.execute(query)
    count = 0
    for rows in result.partitions(PAGE):
        if wanted is not None:
            rows = [r for r in rows if r.id in wanted]
        by_notice: dict[str, list[Bidder]] = defaultdict(list)
        if rows:
            page = select(bidders).where(bidders.c.notice_id.in_([r.id for r in rows]))
            for b in conn.execute(page.order_by(bidders.c.notice_id, bidders.c.position)):
                by_notice[b.notice_id].append(Bidder(b.name, b.neq, b.amount, b.winner, b.contract_amount))
        for r in rows:
            yield Notice(
                **{name: getattr(r, name) for name in _NOTICE_FIELDS if name not in _JSON_FIELDS},
                categories=tuple(r.categories), unspsc=tuple(r.unspsc), regions=tuple(r.regions),
                codes=tuple(Code(*c) for c in r.codes or ()), contacts=tuple(Contact(*c) for c in r.contacts or ()),
                trade_agreements=tuple(r.trade_agreements or ()),
                bidders=tuple(by_notice.get(r.id, ())), as_of=r.as_of,
            )
            count += 1
            if limit is not None and count >= limit:
                result.close()
                return


def notice_revisions_of(conn: Connection, notice_id: str) -> list[dict]:
    rows = conn.execute(select(notice_revisions).where(notice_revisions.c.notice_id == notice_id).order_by(notice_revisions.c.version))
    return [dict(r._mapping) for r in rows]


def count_notices(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(notices)).scalar_one()


def save_final_contracts(conn: Connection, items: Iterable[FinalContract]) -> SaveCounts:
    """Upsert final contract amounts keyed by (notice, contractor), BATCH at a time: one SELECT of what
    the store holds for the batch, then one statement per kind of write (a Contrats file holds tens of
    thousands; a statement per contract cost more than parsing them). A key seen twice ends the
    batch, so each contract is compared with what the store holds after the one before it."""
    counts = SaveCounts()
    batch: dict[tuple[str, str], FinalContract] = {}
    for fc in items:
        key = (fc.notice_id, fc.contractor_name)
        if key in batch or len(batch) >= BATCH:
            counts.add(_save_contracts_batch(conn, list(batch.values())))
            batch = {}
        batch[key] = fc
    if batch:
        counts.add(_save_contracts_batch(conn, list(batch.values())))
    return counts


def _save_contracts_batch(conn: Connection, batch: list[FinalContract]) -> SaveCounts:
    """Final contracts of distinct keys, saved as save_final_contracts says."""
    counts = SaveCounts()
    query = select(final_contracts).where(final_contracts.c.notice_id.in_(sorted({fc.notice_id for fc in batch})))
    stored = {(r.notice_id, r.contractor_name): r for r in conn.execute(query)}
    fresh, changed = [], []
    for fc in batch:
        values = dict(reference=fc.reference, contractor_neq=fc.contractor_neq, final_amount=fc.final_amount,
                      end_date=fc.end_date, published_on=fc.published_on)
        old = stored.get((fc.notice_id, fc.contractor_name))
        if old is None:
            fresh.append(dict(values, notice_id=fc.notice_id, contractor_name=fc.contractor_name))
            counts.new += 1
        elif {k: getattr(old, k) for k in values} != values:
            changed.append(dict(values, b_notice_id=fc.notice_id, b_contractor_name=fc.contractor_name))
            counts.updated += 1
        else:
            counts.unchanged += 1
    if fresh:
        conn.execute(insert(final_contracts), fresh)
    if changed:
        conn.execute(update(final_contracts).where(and_(final_contracts.c.notice_id == bindparam("b_notice_id"),
                                                        final_contracts.c.contractor_name == bindparam("b_contractor_name"))),
                     changed)
    return counts


def save_expenses(conn: Connection, items: Iterable[Expense]) -> SaveCounts:
    """Insert expenses not seen before (an expense has no id of its own: its content is its key),
    BATCH at a time: one SELECT of the batch's keys, one INSERT of the new ones."""
    counts = SaveCounts()
    batch: list[Expense] = []
    for e in items:
        batch.append(e)
        if len(batch) >= BATCH:
            counts.add(_save_expenses_batch(conn, batch))
            batch = []
    if batch:
        counts.add(_save_expenses_batch(conn, batch))
    return counts


def _save_expenses_batch(conn: Connection, batch: list[Expense]) -> SaveCounts:
    counts = SaveCounts()
    keyed = [(content_hash([e.notice_id, str(e.spent_on), e.amount, e.description, e.contractor_name]), e) for e in batch]
    seen = set(conn.execute(select(expenses.c.key).where(expenses.c.key.in_(sorted({k for k, _ in keyed})))).scalars())
    rows = []
    for key, e in keyed:
        if key in seen:  # stored already, or earlier in this batch
            counts.unchanged += 1
            continue
        seen.add(key)
        rows.append(dict(notice_id=e.notice_id, reference=e.reference, spent_on=e.spent_on, published_on=e.published_on,
                         amount=e.amount, description=e.description, contractor_name=e.contractor_name,
                         contractor_neq=e.contractor_neq, key=key))
        counts.new += 1
    if rows:
        conn.execute(insert(expenses), rows)
    return counts


def delivered_notices(conn: Connection, enterprise_id: str, reason: str = "new") -> set[str]:
    rows = conn.execute(select(deliveries.c.notice_id).where(deliveries.c.enterprise_id == enterprise_id, deliveries.c.reason == reason))
    return {r.notice_id for r in rows}


def record_delivery(conn: Connection, enterprise_id: str, notice_ids: Iterable[str], message_id: str | None,
                    reason: str = "new", now: datetime | None = None) -> None:
    """Remember that these notices reached this enterprise, so they are never sent again."""
    record_deliveries(conn, enterprise_id, {reason: notice_ids}, message_id, now)


def record_deliveries(conn: Connection, enterprise_id: str, by_reason: Mapping[str, Iterable[str]], message_id: str | None,
                      now: datetime | None = None) -> None:
    """record_delivery for every reason one mail carried, in one query and one insert (a digest
    carries new notices, reminders, leads and amendments: 10,000 digests made 60,000 statements)."""
    now = now or datetime.now(timezone.utc)
    wanted = {reason: ids for reason, ids in ((r, list(i)) for r, i in by_reason.items()) if ids}
    if not wanted:
        return
    already = set(conn.execute(select(deliveries.c.notice_id, deliveries.c.reason)
                               .where(deliveries.c.enterprise_id == enterprise_id, deliveries.c.reason.in_(sorted(wanted)))))
    rows = [dict(enterprise_id=enterprise_id, notice_id=n, reason=reason, sent_at=now, message_id=message_id)
            for reason, ids in wanted.items() for n in ids if (n, reason) not in already]
    if rows:
        conn.execute(insert(deliveries), rows)


def award_history(conn: Connection) -> Iterator[tuple[str, str, datetime, float]]:
    """(buyer name, SEAO category, known since, amount) of every winning bid with an amount: what a
    buyer paid before, used to estimate the value of a notice that does not state one. Known since the
    award date when there is one (a call of January awarded in June was not known in March), else
    the publication."""
    query = (select(notices.c.buyer_name, notices.c.categories, notices.c.published_at, notices.c.awarded_on,
                    bidders.c.contract_amount)
             .join(bidders, bidders.c.notice_id == notices.c.id)
             .where(bidders.c.winner.is_(True), bidders.c.contract_amount.is_not(None), notices.c.published_at.is_not(None)))
    # streamed (a server-side cursor on PostgreSQL): the store's every award is never in memory twice
    for buyer, categories, published, awarded, amount in conn.execute(query.execution_options(stream_results=True,
                                                                                              yield_per=PAGE)):
        if published.tzinfo is None:  # SQLite hands back naive UTC
            published = published.replace(tzinfo=timezone.utc)
        when = published
        if awarded is not None:
            when = max(published, datetime(awarded.year, awarded.month, awarded.day, 23, 59, tzinfo=published.tzinfo))
        for category in categories or ():
            yield buyer, category, when, float(amount)


def co_bidders(conn: Connection, neqs: Iterable[str]) -> set[frozenset[str]]:
    """Pairs of these NEQs that bid on the same notice at least once (past teammates or rivals who know each other)."""
    wanted = sorted(set(neqs))
    if len(wanted) < 2:
        return set()
    by_notice: dict[str, set[str]] = defaultdict(set)
    for notice_id, neq in conn.execute(select(bidders.c.notice_id, bidders.c.neq).where(bidders.c.neq.in_(wanted))):
        by_notice[notice_id].add(neq)
    return {frozenset((a, b)) for group in by_notice.values() for a in group for b in group if a < b}


def deliveries_by_notice(conn: Connection, enterprise_id: str) -> dict[str, dict[str, datetime]]:
    """{notice id: {reason: sent_at}} of what this enterprise already received."""
    out: dict[str, dict[str, datetime]] = defaultdict(dict)
    for notice_id, reason, sent_at in conn.execute(select(deliveries.c.notice_id, deliveries.c.reason, deliveries.c.sent_at)
                                                   .where(deliveries.c.enterprise_id == enterprise_id)):
        out[notice_id][reason] = sent_at
    return dict(out)


def revisions_of(conn: Connection, notice_ids: Iterable[str]) -> dict[str, list[dict]]:
    """{notice id: its recorded revisions, oldest first} for many notices at once."""
    wanted = sorted(set(notice_ids))
    out: dict[str, list[dict]] = defaultdict(list)
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start:start + 5000]
        for r in conn.execute(select(notice_revisions).where(notice_revisions.c.notice_id.in_(chunk))
                              .order_by(notice_revisions.c.notice_id, notice_revisions.c.version)):
            out[r.notice_id].append(dict(r._mapping))
    return dict(out)


def record_failure(conn: Connection, enterprise_id: str, message_id: str | None, error: str, permanent: bool,
                   now: datetime | None = None) -> None:
    """Keep a refused mail for the coordinator's report."""
    conn.execute(insert(delivery_failures).values(enterprise_id=enterprise_id, message_id=message_id, error=error,
                                                  permanent=permanent, attempts=1,
                                                  failed_at=now or datetime.now(timezone.utc)))


def unreported_failures(conn: Connection) -> list[dict]:
    rows = conn.execute(select(delivery_failures).where(delivery_failures.c.reported_at.is_(None))
                        .order_by(delivery_failures.c.failed_at))
    return [dict(r._mapping) for r in rows]


def mark_failures_reported(conn: Connection, ids: Iterable[int], now: datetime | None = None) -> None:
    ids = list(ids)
    if ids:
        conn.execute(update(delivery_failures).where(delivery_failures.c.id.in_(ids))
                     .values(reported_at=now or datetime.now(timezone.utc)))
