"""The bulk write path (plain tuples, COPY on PostgreSQL) stores exactly what Core's insert stores."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text

from watcher.limits import clean_notice
from watcher.models import Bidder, Code, Contact, Notice
from watcher.store import repo
from watcher.store.bulk import insert_rows
from watcher.store.schema import bidders, notices

MTL = ZoneInfo("America/Montreal")
NOW = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=timezone.utc)

# Every column kind: JSON lists of strings and of codes/contacts, aware datetimes in two zones,
# a date, None, booleans, amounts with cents, quotes, accents and a tab in text.
FULL = Notice(
    id="ocds:ocds-x-1", source="ocds", title="Réfection « toiture » d'l'école\tnord", buyer_name="Ville d'Été",
    buyer_id="B-1", municipal=True, reference="R'1", url="https://example.org/a?b=c&d=é",
    notice_type="tender - annulé / cancelled", method="public", nature="construction",
    categories=("C01", "C02"), unspsc=("72101500",), regions=("06", "16"),
    published_at=datetime(2024, 3, 1, 9, 5, 7, 42, tzinfo=MTL), closing_at=datetime(2024, 3, 20, 19, 0, tzinfo=timezone.utc),
    awarded_on=date(2024, 4, 2), estimated_value=123456.78, description="Ligne 1\nLigne 2 \\ fin",
    currency="EUR", codes=(Code("CPV", "45000000", "Travaux de génie « civil »"), Code("UNSPSC", "72101500")),
    contacts=(Contact("Jeanne D'Arc", "j@example.org", "514 555-0100"),), title_built=True,
    contract_start=date(2024, 5, 1), contract_end=None, trade_agreements=("ACCQO", "AECG"),
    bidders=(Bidder("A \"B\" inc.", "1142700724", 100.5, True, 99.99), Bidder("C", None, None, False, None)),
    as_of=datetime(2024, 4, 30, 23, 59, tzinfo=MTL),
)
SPARSE = Notice(id="seao:1", source="seao", title="x", as_of=None)


def _raw(conn, table) -> list[tuple]:
    """Every column as the database's own text of it: what is really stored (JSON text verbatim)."""
    order = "notice_id, position" if table is bidders else "id"
    columns = ", ".join(f'cast("{c.name}" as text)' for c in table.c)
    return [tuple(r) for r in conn.execute(text(f"select {columns} from {table.name} order by {order}"))]


def _core_rows(notice: Notice, digest: str) -> tuple[dict, list[dict]]:
    row = dict(zip(repo._NOTICE_COLUMNS, repo._new_row(notice, digest, NOW)))
    row.update({name: repo._plain(getattr(notice, name)) for name in repo._JSON_FIELDS})
    return row, [dict(zip(repo._BIDDER_COLUMNS, b)) for b in repo._bidder_tuples(notice)]


def test_bulk_rows_are_the_rows_core_stores(engine):
    with engine.begin() as conn:
        for notice in (FULL, SPARSE):
            row, bids = _core_rows(notice, "core")
            conn.execute(insert(notices), [row])
            if bids:
                conn.execute(insert(bidders), bids)
        core = _raw(conn, notices), [b[1:] for b in _raw(conn, bidders)]  # without the surrogate id
        conn.execute(bidders.delete())
        conn.execute(notices.delete())
        insert_rows(conn, notices, repo._NOTICE_COLUMNS, [repo._new_row(n, "core", NOW) for n in (FULL, SPARSE)])
        insert_rows(conn, bidders, repo._BIDDER_COLUMNS, repo._bidder_tuples(FULL))
        bulk = _raw(conn, notices), [b[1:] for b in _raw(conn, bidders)]
    assert bulk == core
    assert len(core[0]) == 2 and len(core[1]) == 2


def test_saved_notice_reads_back_whole(engine):
    with engine.begin() as conn:
        assert repo.save_notices(conn, [FULL, SPARSE], "x.json", now=NOW).new == 2
    with engine.connect() as conn:
        stored = {n.id: n for n in repo.load_notices(conn)}
        assert conn.execute(select(notices.c.first_seen)).scalars().all() == [NOW, NOW]
    assert stored == {FULL.id: clean_notice(FULL), SPARSE.id: SPARSE}  # the tab of the title made a space


def test_many_batches_with_repeated_values(engine):
    """Values repeated across rows (the same category list, the file's date) are processed once a
    batch: each row must still get its own values."""
    many = [dataclasses.replace(FULL, id=f"ocds:ocds-x-{i}", categories=("C01",) if i % 2 else ("S3",),
                                published_at=FULL.published_at if i % 3 else None, bidders=FULL.bidders[: i % 3])
            for i in range(1, 1202)]
    with engine.begin() as conn:
        assert repo.save_notices(conn, many, "x.json", now=NOW).new == len(many)
    with engine.connect() as conn:
        stored = {n.id: n for n in repo.load_notices(conn)}
    assert stored == {n.id: clean_notice(n) for n in many}
