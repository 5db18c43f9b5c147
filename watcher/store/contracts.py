"""Read the final contracts (SEAO Contrats files): their end dates say when a purchase comes back."""

from __future__ import annotations

from sqlalchemy import Connection, select

from ..models import FinalContract
from .schema import final_contracts


def load_final_contracts(conn: Connection) -> list[FinalContract]:
    """Every stored final contract that has an end date (the others cannot date a renewal)."""
    rows = conn.execute(select(final_contracts).where(final_contracts.c.end_date.is_not(None)))
    return [FinalContract(notice_id=r.notice_id, reference=r.reference, final_amount=float(r.final_amount) if r.final_amount is not None else None,
                          end_date=r.end_date, published_on=r.published_on, contractor_name=r.contractor_name,
                          contractor_neq=r.contractor_neq) for r in rows]
