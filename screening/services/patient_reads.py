"""Opening a patient to read: checked and opened in a read transaction, logged in a short
write transaction of its own.

A page that only shows a patient (the patient page, the screening form, a result) changes
nothing but the access log. Reading and opening the sealed fields inside the write
transaction would hold the database's single write lock (SQLite) or the access log's chain
head (PostgreSQL) for the whole read, and every other page of every worker would queue
behind it. So the care relationship is checked and the fields opened in a read
transaction, and the access is then logged in a write transaction that does nothing else;
it commits before the caller gets anything to show. A refusal (no care relationship) and an
unreadable field are logged the same way, then raised, as :func:`patients.open_patient`
does. A use case that changes the patient's records (a submission) checks and opens in its
read (:func:`check_and_open`) and writes the log row with the change, in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from ..crypto.keys import KeyRing
from ..database import Database
from ..models import Patient
from . import access_log, recent_patients
from .access_log import Actor
from .care import Grant
from .patients import PatientRecord, User, checked_open, find_patient


@dataclass(frozen=True)
class Opened:
    """A patient opened for ``actor`` under ``grant`` (not yet logged as read)."""

    record: PatientRecord
    row: Patient
    actor: Actor
    grant: Grant


def log_alone(db: Database, keyring: KeyRing, actor: Actor, action: str, patient_uuid: str,
              purpose: str, outcome: str = "ok", remember: int | None = None) -> None:
    """One access-log row in a write transaction of its own; with ``remember`` (a patient
    id) the patient is also noted among the actor's recently opened, in the same one."""
    with db.write_statements() as conn:
        access_log.record(conn, keyring, actor, action, patient_uuid, purpose=purpose,
                          outcome=outcome)
        if remember is not None and actor.staff_id is not None:
            recent_patients.remember(conn, actor.staff_id, remember)


def check_and_open(db: Database, session: Session, keyring: KeyRing, user: User,
                   patient: Patient, today: date | None = None) -> Opened:
    """Check the care relationship and open ``patient`` (a row of the read ``session``),
    as :func:`patients.checked_open` does, a refusal or an unreadable field logged in a
    write transaction of its own before it is raised. Nothing is logged when it succeeds:
    the caller logs the read or the change."""

    def refuse(actor: Actor, refusal: str, purpose: str, outcome: str) -> None:
        log_alone(db, keyring, actor, refusal, patient.uuid, purpose, outcome)

    record, actor, grant = checked_open(session, keyring, user, patient, refuse, today)
    return Opened(record, patient, actor, grant)


def open_to_read(db: Database, session: Session, keyring: KeyRing, user: User,
                 patient: Patient, action: str, today: date | None = None,
                 afresh: bool = True, remember: bool = False, export: bool = False) -> Opened:
    """:func:`check_and_open`, then the read logged as ``action`` (committed on return).
    With ``afresh`` the read transaction of ``session`` is ended, so that what the caller
    reads next (the access log itself, for one) is read afresh; without it the caller goes
    on in the same read (a draft, a conversation: rows the log row cannot change), which
    spares a connection check-out and a transaction. With ``remember`` the patient goes to
    the top of the user's recently opened (``services.recent_patients``), with the log row.
    With ``export`` the data leaves the application (a FHIR file): the purpose logged is
    ``export``, unless the access rests on break-the-glass, which stays visible as such for
    review."""
    opened = check_and_open(db, session, keyring, user, patient, today)
    purpose = opened.grant.purpose
    if export and purpose != "break_glass":
        purpose = "export"
    log_alone(db, keyring, opened.actor, action, patient.uuid, purpose,
              remember=patient.id if remember else None)
    if afresh:
        session.commit()  # ends the read; nothing was written, and rows stay loaded
    return opened


@contextmanager
def reading(db: Database) -> Iterator[Session]:
    """A read session, closed afterwards."""
    session = db.read_session()
    try:
        yield session
    finally:
        session.close()


@contextmanager
def read_patient(db: Database, keyring: KeyRing, user: User, patient_uuid: str,
                 action: str, today: date | None = None, afresh: bool = True,
                 remember: bool = False) -> Iterator[tuple[Opened, Session]]:
    """Open a patient by uuid to read, log ``action`` (committed before the body runs),
    and yield it with the read session, in which the body may read more (a draft, a
    conversation, the access log; see ``afresh`` and ``remember`` in :func:`open_to_read`)."""
    with reading(db) as session:
        yield open_to_read(db, session, keyring, user, find_patient(session, patient_uuid),
                           action, today, afresh, remember), session
