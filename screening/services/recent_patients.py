"""The patients a staff member opened last ("Nylig åpnet" on the find page).

A row (staff member, patient, when) is written when the patient page is opened, in the
write transaction that logs that read (``services.patient_reads``); only the newest
``KEEP`` per staff member are kept. Internal ids only: the list is shown by opening each
patient again, with the care relationship checked (``services.patient_lists``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Table, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import RecentPatient
from ..models.base import utcnow

KEEP = 10
RECENT: Table = RecentPatient.__table__  # type: ignore[assignment]
_NEWEST = (select(RECENT.c.patient_id).where(RECENT.c.staff_id == bindparam("staff"))
           .order_by(RECENT.c.opened_at.desc(), RECENT.c.patient_id.desc()).limit(KEEP))
_TRIM = (delete(RECENT).where(RECENT.c.staff_id == bindparam("staff"))
         .where(RECENT.c.patient_id.not_in(_NEWEST.scalar_subquery())))


def remember(conn: Connection, staff_id: int, patient_id: int,
             at: datetime | None = None) -> None:
    """Note that ``staff_id`` opened ``patient_id`` now, in the caller's transaction, and
    forget all but the newest ``KEEP``."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    when = at or utcnow()
    upsert = dialect.insert(RECENT).values(staff_id=staff_id, patient_id=patient_id,
                                           opened_at=when)
    conn.execute(upsert.on_conflict_do_update(index_elements=["staff_id", "patient_id"],
                                              set_={"opened_at": when}))
    conn.execute(_TRIM, {"staff": staff_id})


def newest_ids(conn: Session | Connection, staff_id: int) -> list[int]:
    """The patient ids ``staff_id`` opened last, newest first."""
    return list(conn.execute(_NEWEST, {"staff": staff_id}).scalars())
