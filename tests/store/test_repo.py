"""The store on SQLite and PostgreSQL: idempotent saves, revisions kept, time zones, deliveries once."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import inspect

from watcher.models import Bidder, Expense, FinalContract, Notice
from watcher.store import open_store, repo

MTL = ZoneInfo("America/Montreal")

# A real SEAO notice (AvisRevisions_20180101_20180131.xml, numeroseao 248960), trimmed to 2 bidders.
NOTICE = Notice(
    id="seao:248960", source="seao", reference="0809-041A",
    title="Services professionnels réfection de la toiture à la Polyvalente Robert-Ouimet",
    buyer_name="Commission scolaire de Saint-Hyacinthe", municipal=False,
    url="https://www.seao.ca/OpportunityPublication/avisconsultes.aspx?ItemId=dd578b56-f9d6-4087-a361-d4e8d852ac17",
    notice_type="3 - Contrat adjugé suite à un appel d'offres public", method="public", nature="services",
    categories=("S3",), unspsc=("81201500",), regions=("16",),
    published_at=datetime(2008, 10, 20, 10, 32, tzinfo=MTL), closing_at=datetime(2008, 11, 3, 15, 0, tzinfo=MTL),
    awarded_on=date(2008, 11, 14),
    bidders=(Bidder("Groupe conseil JLA", "1142700724", None, False, None),
             Bidder("Duclos Fournier architectes", None, None, True, 33900.0)),
    as_of=datetime(2018, 1, 31, 23, 59, tzinfo=MTL),
)


def test_migration_creates_every_table(engine):
    names = set(inspect(engine).get_table_names())
    assert {"notices", "bidders", "notice_revisions", "final_contracts", "expenses", "deliveries", "alembic_version"} <= names


def test_reopening_migrated_store_is_harmless(store_url):
    open_store(store_url).dispose()
    eng = open_store(store_url)
    with eng.connect() as conn:
        assert repo.count_notices(conn) == 0
    eng.dispose()


def test_save_is_idempotent_and_roundtrips(engine):
    with engine.begin() as conn:
        first = repo.save_notices(conn, [NOTICE], "a.xml")
    with engine.begin() as conn:
        again = repo.save_notices(conn, [NOTICE], "a.xml")
    assert (first.new, first.updated) == (1, 0)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1)
    with engine.connect() as conn:
        [stored] = list(repo.load_notices(conn))
    assert stored == NOTICE  # every field, bidders in order, aware datetimes
    assert stored.closing_at.utcoffset() is not None
    assert stored.closing_at == datetime(2008, 11, 3, 20, 0, tzinfo=timezone.utc)
    assert stored.awarded_value == 33900.0


def test_revised_notice_updates_and_keeps_what_changed(engine):
    later = NOTICE.as_of + timedelta(days=30)
    revised = dataclasses.replace(
        NOTICE, closing_at=datetime(2008, 11, 10, 15, 0, tzinfo=MTL), as_of=later,
        bidders=NOTICE.bidders + (Bidder("ABCP architecture", None, None, False, None),))
    with engine.begin() as conn:
        repo.save_notices(conn, [NOTICE], "jan.xml")
        counts = repo.save_notices(conn, [revised], "feb.xml")
    assert counts.updated == 1
    with engine.connect() as conn:
        [stored] = list(repo.load_notices(conn))
        revisions = repo.notice_revisions_of(conn, NOTICE.id)
    assert len(stored.bidders) == 3
    assert stored.closing_at == revised.closing_at
    [rev] = revisions
    assert rev["origin"] == "feb.xml" and rev["version"] == 2
    assert set(rev["changes"]) == {"closing_at", "bidders"}
    old, new = rev["changes"]["closing_at"]
    assert old.startswith("2008-11-03T20:00") and new.startswith("2008-11-10T20:00")


def test_older_statement_never_overwrites_newer(engine):
    newer = dataclasses.replace(NOTICE, title=NOTICE.title + " (révisé)", as_of=NOTICE.as_of + timedelta(days=60))
    with engine.begin() as conn:
        repo.save_notices(conn, [newer], "mar.xml")
        counts = repo.save_notices(conn, [NOTICE], "jan.xml")
    assert counts.stale == 1 and counts.updated == 0
    with engine.connect() as conn:
        [stored] = list(repo.load_notices(conn))
    assert stored.title.endswith("(révisé)")


def test_same_notice_twice_in_one_batch_is_applied_in_order(engine):
    second = dataclasses.replace(NOTICE, title="Titre corrigé", as_of=NOTICE.as_of + timedelta(days=1))
    with engine.begin() as conn:
        counts = repo.save_notices(conn, [NOTICE, second], "x.xml")
    assert (counts.new, counts.updated) == (1, 1)
    with engine.connect() as conn:
        assert [n.title for n in repo.load_notices(conn)] == ["Titre corrigé"]


def test_final_contracts_and_expenses_upsert(engine):
    fc = FinalContract("seao:248960", "0809-041A", 4979.66, date(2010, 3, 31), date(2018, 1, 10), "Duclos Fournier architectes", None)
    ex = Expense("seao:123903", "8503-06-FZ02", date(2015, 12, 16), date(2016, 1, 25), 4033.4,
                 "Dépassement relié à des modifications au contrat de services professionnels",
                 "Consortium SNC-Lavalin / Cima+ / Génivar", None)
    with engine.begin() as conn:
        assert repo.save_final_contracts(conn, [fc]).new == 1
        assert repo.save_final_contracts(conn, [fc]).unchanged == 1
        assert repo.save_final_contracts(conn, [dataclasses.replace(fc, final_amount=5000.0)]).updated == 1
        assert repo.save_expenses(conn, [ex]).new == 1
        assert repo.save_expenses(conn, [ex]).unchanged == 1


def test_final_contracts_and_expenses_in_one_call_apply_in_order(engine):
    """A Contrats file states a contract again (a later amount): within one call, across batches,
    each statement meets what the store holds after the one before it, as one call per record did."""
    fc = FinalContract("seao:248960", "0809-041A", 4979.66, date(2010, 3, 31), date(2018, 1, 10), "Duclos Fournier architectes", None)
    others = [dataclasses.replace(fc, notice_id=f"seao:{i}") for i in range(repo.BATCH + 10)]
    ex = Expense("seao:123903", "8503-06-FZ02", date(2015, 12, 16), date(2016, 1, 25), 4033.4, "Dépassement", "Consortium", None)
    with engine.begin() as conn:
        counts = repo.save_final_contracts(conn, [fc, *others, dataclasses.replace(fc, final_amount=5000.0), fc, fc])
        assert (counts.new, counts.updated, counts.unchanged) == (repo.BATCH + 11, 2, 1)
        counts = repo.save_expenses(conn, [ex, *(dataclasses.replace(ex, amount=float(i)) for i in range(repo.BATCH)), ex])
        assert (counts.new, counts.unchanged) == (repo.BATCH + 1, 1)
    with engine.connect() as conn:
        stored = {(r.notice_id, r.final_amount) for r in conn.execute(repo.select(repo.final_contracts))}
        assert ("seao:248960", 4979.66) in stored and len(stored) == repo.BATCH + 11
        assert conn.execute(repo.select(repo.func.count()).select_from(repo.expenses)).scalar_one() == repo.BATCH + 1


def test_delivery_recorded_once(engine):
    with engine.begin() as conn:
        repo.save_notices(conn, [NOTICE], "a.xml")
        repo.record_delivery(conn, "coop-x", [NOTICE.id], "<m1@example.org>")
        repo.record_delivery(conn, "coop-x", [NOTICE.id], "<m2@example.org>")
    with engine.connect() as conn:
        assert repo.delivered_notices(conn, "coop-x") == {NOTICE.id}
        assert repo.delivered_notices(conn, "coop-y") == set()


def test_deliveries_of_every_reason_of_one_mail_recorded_once(engine):
    """One mail carries new notices, reminders and leads: recorded in one call, each (notice,
    reason) once, what was recorded before under that reason kept as it was."""
    other = dataclasses.replace(NOTICE, id="seao:2")
    sent = datetime(2019, 11, 30, 8, tzinfo=timezone.utc)
    with engine.begin() as conn:
        repo.save_notices(conn, [NOTICE, other], "a.xml")
        repo.record_delivery(conn, "coop-x", [NOTICE.id], "<m1@example.org>", reason="new", now=sent - timedelta(days=7))
        repo.record_deliveries(conn, "coop-x", {"new": [NOTICE.id, other.id], "reminder": [NOTICE.id], "lead": []},
                               "<m2@example.org>", now=sent)
    with engine.connect() as conn:
        got = repo.deliveries_by_notice(conn, "coop-x")
        assert repo.delivered_notices(conn, "coop-x") == {NOTICE.id, other.id}
        assert repo.delivered_notices(conn, "coop-x", "reminder") == {NOTICE.id}
    assert set(got) == {NOTICE.id, other.id} and set(got[NOTICE.id]) == {"new", "reminder"}
    assert got[NOTICE.id]["new"].replace(tzinfo=timezone.utc) == sent - timedelta(days=7)  # the first delivery stays
    assert got[other.id]["new"].replace(tzinfo=timezone.utc) == sent


def test_migrations_build_exactly_the_declared_schema(engine):
    """Alembic's autogenerate finds nothing to add: schema.py and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from watcher.store.schema import metadata

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
