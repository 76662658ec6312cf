"""The care relationship: who may open which patient.

A clinician (nurse, gp, consultant) may open a patient when
1. the patient belongs to one of the clinician's units (purpose ``care``), or
2. one of the clinician's units has accepted a referral of the patient (purpose
   ``referral``; see :mod:`services.referrals`: a referral sent but not yet accepted gives
   the receiving unit only the referral itself to read, never the record), or
3. the clinician holds an unexpired break-the-glass grant for the patient.
A follow-up task alone gives no access: tasks for another unit come from accepted referrals.
Analysts and administrators never open patients.

Break-the-glass (:func:`break_glass`): a clinician states a reason (10-500 characters,
sealed under the patient's data key) and gets access for at most 24 hours; the grant and
its access-log row commit together. Administrators review grants (:func:`pending_reviews`,
:func:`mark_reviewed`) seeing the staff member, the times and the reason, never who the
patient is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..crypto.fields import OpenError
from ..crypto.keys import KeyRing
from ..database import Database
from ..models import BreakGlass, Patient, Referral, Staff
from ..models.base import new_uuid, utcnow
from ..models.sealing import Undecryptable, attach_key
from ..models.staff import CLINICAL_ROLES
from . import access_log

REASON_MIN, REASON_MAX = 10, 500
MAX_HOURS = 24


class CareError(ValueError):
    """A break-the-glass request or review that cannot be carried out; ``code`` names why:
    ``not_clinician``, ``reason_too_short``, ``reason_too_long``, ``bad_hours``,
    ``unknown_patient``, ``undecryptable``, ``not_admin``, ``unknown_grant``,
    ``already_reviewed``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class AccessDenied(PermissionError):
    """The user has no care relationship with the patient. The access-log row written
    before raising it is committed (see ``Database.write``)."""

    commit_anyway = True


@dataclass(frozen=True)
class Grant:
    """Why access is allowed: ``purpose`` for the access log, ``unit_id`` through which."""

    purpose: str
    unit_id: int | None


def grant_for(session: Session, user: object, patient: Patient,
              now: datetime | None = None) -> Grant | None:
    role = getattr(user, "role", None)
    if role not in CLINICAL_ROLES:
        return None
    units: frozenset[int] = getattr(user, "unit_ids", frozenset())
    if patient.unit_id in units:
        return Grant("care", patient.unit_id)
    if units:
        referred = session.scalar(
            select(Referral.to_unit_id).where(Referral.patient_id == patient.id,
                                              Referral.status == "accepted",
                                              Referral.to_unit_id.in_(units))
            .order_by(Referral.to_unit_id).limit(1))
        if referred is not None:
            return Grant("referral", referred)
    glass = session.scalar(
        select(BreakGlass.id).where(BreakGlass.patient_id == patient.id,
                                    BreakGlass.staff_id == getattr(user, "id", None),
                                    BreakGlass.expires_at > (now or utcnow())).limit(1))
    if glass is not None:
        return Grant("break_glass", None)
    return None


def _unwrap(keyring: KeyRing, wrapped: bytes, patient_uuid: str) -> bytes:
    """A patient's data key, through ``services.patients`` (which also finds a key that an
    online key rotation has re-wrapped). Imported here because that module imports this one."""
    from .patients import key_context, unwrap_key

    return unwrap_key(keyring, wrapped, key_context(patient_uuid))


@dataclass(frozen=True)
class GlassGrant:
    uuid: str
    expires_at: datetime


def break_glass(db: Database, keyring: KeyRing, user: object, patient_uuid: str, reason: str,
                hours: int = MAX_HOURS, now: datetime | None = None) -> GlassGrant:
    """Give ``user`` emergency access to the patient for ``hours`` (1-24), with a reason;
    one transaction writes the grant and its access-log row."""
    role = getattr(user, "role", None)
    if role not in CLINICAL_ROLES:
        raise CareError("not_clinician")
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN:
        raise CareError("reason_too_short")
    if len(reason) > REASON_MAX:
        raise CareError("reason_too_long")
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= MAX_HOURS:
        raise CareError("bad_hours")
    now = now or utcnow()
    actor = access_log.Actor(getattr(user, "id", None), str(role))
    with db.write() as session:
        patient = session.scalar(select(Patient).where(Patient.uuid == patient_uuid))
        if patient is None:
            raise CareError("unknown_patient")
        try:
            data_key = _unwrap(keyring, patient.data_key_wrapped, patient.uuid)
        except OpenError:
            data_key = None
        if data_key is not None:
            grant = BreakGlass(uuid=new_uuid(), staff_id=actor.staff_id, patient_id=patient.id,
                               created_at=now, expires_at=now + timedelta(hours=hours))
            attach_key(grant, data_key)
            grant.reason = reason
            session.add(grant)
            access_log.record(session, keyring, actor, "break_glass", patient.uuid,
                              purpose="break_glass", at=now)
            return GlassGrant(grant.uuid, grant.expires_at)
    # The patient's key does not open: nothing was written above; log the failure alone.
    with db.write() as session:
        access_log.record(session, keyring, actor, "undecryptable", patient_uuid,
                          purpose="break_glass", outcome="error", at=now)
    raise CareError("undecryptable")


@dataclass(frozen=True)
class GlassReview:
    """A grant as an administrator reviews it: no patient identity. ``reason`` is None
    when it cannot be opened."""

    uuid: str
    staff_username: str
    staff_name: str
    staff_role: str
    created_at: datetime
    expires_at: datetime
    reason: str | None
    active: bool


def pending_reviews(db: Database, keyring: KeyRing, now: datetime | None = None,
                    limit: int = 200) -> list[GlassReview]:
    """Grants not yet reviewed, oldest first."""
    now = now or utcnow()
    session = db.read_session()
    try:
        rows = session.execute(
            select(BreakGlass, Staff.username, Staff.display_name, Staff.role,
                   Patient.uuid, Patient.data_key_wrapped)
            .join(Staff, Staff.id == BreakGlass.staff_id)
            .join(Patient, Patient.id == BreakGlass.patient_id)
            .where(BreakGlass.reviewed_at.is_(None))
            .order_by(BreakGlass.created_at, BreakGlass.id).limit(limit)).all()
        return [GlassReview(grant.uuid, username, name, role, grant.created_at,
                            grant.expires_at, _reason(keyring, grant, patient_uuid, wrapped),
                            grant.expires_at > now)
                for grant, username, name, role, patient_uuid, wrapped in rows]
    finally:
        session.close()


def _reason(keyring: KeyRing, grant: BreakGlass, patient_uuid: str, wrapped: bytes) -> str | None:
    try:
        attach_key(grant, _unwrap(keyring, wrapped, patient_uuid))
        value = grant.reason
    except (OpenError, Undecryptable):
        return None
    return value if isinstance(value, str) else None


def mark_reviewed(db: Database, admin: object, grant_uuid: str,
                  now: datetime | None = None) -> None:
    if getattr(admin, "role", None) != "admin":
        raise CareError("not_admin")
    with db.write() as session:
        grant = session.scalar(select(BreakGlass).where(BreakGlass.uuid == grant_uuid))
        if grant is None:
            raise CareError("unknown_grant")
        if grant.reviewed_at is not None:
            raise CareError("already_reviewed")
        grant.reviewed_at = now or utcnow()
        grant.reviewed_by = getattr(admin, "id", None)
