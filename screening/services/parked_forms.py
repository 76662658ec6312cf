"""Forms that arrive after their author's login session has ended (idle timeout, the
absolute limit, a logout in another tab): kept, sealed, until she logs in again, then put
back on the form as it was sent, so that nothing she typed is lost.

A parked form is sealed under its author's own data key (the staff key, wrapped by the
key-encryption key like a patient's key), so it opens only for her; the browser holds only
the row's random uuid (in the signed session cookie). Nothing is stored in a patient's
record and nothing is submitted: the form is shown again and she sends it herself. Rows
expire after ``KEEP``; taking one deletes it. Nothing here is logged with a value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..crypto.keys import KeyRing
from ..database import Database
from ..models import Assessment, FollowUp, ParkedForm, Patient, Staff
from ..models.base import new_uuid, utcnow
from ..models.sealing import Undecryptable, attach_key
from .accounts import staff_key

KEEP = timedelta(hours=24)
PER_STAFF = 5  # at most this many parked forms per staff member; the oldest go first
MAX_FIELDS = 400
MAX_VALUE = 20_000


class ParkError(ValueError):
    """The form cannot be parked (too many fields or too long a value)."""


def park(db: Database, keyring: KeyRing, staff_id: int, endpoint: str, path: str,
         fields: Sequence[tuple[str, str]], about: Mapping[str, object] | None = None,
         now: datetime | None = None) -> str:
    """Keep a posted form for its author; returns the parked form's uuid. ``about`` is the
    form's URL arguments: a ``patient_uuid``, ``assessment_uuid`` or ``follow_up_uuid`` ties
    the parked form to that patient, so that erasing the patient erases it too."""
    if len(fields) > MAX_FIELDS or any(len(n) > 200 or len(v) > MAX_VALUE for n, v in fields):
        raise ParkError("form too large")
    if len(endpoint) > 64 or len(path) > 255:
        raise ParkError("address too long")
    now = now or utcnow()
    with db.write() as session:
        session.execute(delete(ParkedForm).where(ParkedForm.expires_at <= now))
        staff = session.get(Staff, staff_id)
        if staff is None:
            raise ParkError("no such staff member")
        kept = session.scalars(
            select(ParkedForm.id).where(ParkedForm.staff_id == staff_id)
            .order_by(ParkedForm.created_at.desc(), ParkedForm.id.desc())).all()
        if len(kept) >= PER_STAFF:
            session.execute(delete(ParkedForm).where(ParkedForm.id.in_(kept[PER_STAFF - 1:])))
        row = ParkedForm(uuid=new_uuid(), staff_id=staff_id, endpoint=endpoint, path=path,
                         patient_id=_patient_of(session, about or {}),
                         created_at=now, expires_at=now + KEEP)
        attach_key(row, staff_key(keyring, staff))
        row.fields = [[name, value] for name, value in fields]
        session.add(row)
        return row.uuid


def _patient_of(session: Session, about: Mapping[str, object]) -> int | None:
    if about.get("patient_uuid") is not None:
        return session.scalar(select(Patient.id).where(Patient.uuid == str(about["patient_uuid"])))
    if about.get("assessment_uuid") is not None:
        return session.scalar(select(Assessment.patient_id)
                              .where(Assessment.uuid == str(about["assessment_uuid"])))
    if about.get("follow_up_uuid") is not None:
        return session.scalar(select(FollowUp.patient_id)
                              .where(FollowUp.uuid == str(about["follow_up_uuid"])))
    return None


def take(db: Database, keyring: KeyRing, staff_id: int, parked_uuid: str, endpoint: str,
         path: str, now: datetime | None = None) -> list[tuple[str, str]] | None:
    """The fields of the parked form ``parked_uuid`` if it is this staff member's form for
    this address and has not expired; it is deleted then. Another staff member's form is
    deleted unopened. None when there is nothing to put back."""
    now = now or utcnow()
    with db.write() as session:
        row = session.scalar(select(ParkedForm).where(ParkedForm.uuid == parked_uuid))
        if row is None:
            return None
        if row.staff_id != staff_id or row.expires_at <= now:
            session.delete(row)
            return None
        if row.endpoint != endpoint or row.path != path:
            return None  # kept for the form it belongs to
        staff = session.get(Staff, staff_id)
        assert staff is not None
        attach_key(row, staff_key(keyring, staff))
        try:
            stored = row.fields
        except Undecryptable:
            stored = None
        session.delete(row)
    if not isinstance(stored, list):
        return None
    return [(str(pair[0]), str(pair[1])) for pair in stored
            if isinstance(pair, list) and len(pair) == 2]


def exists(db: Database, parked_uuid: str) -> bool:
    session = db.read_session()
    try:
        return session.scalar(
            select(ParkedForm.id).where(ParkedForm.uuid == parked_uuid)) is not None
    finally:
        session.close()
