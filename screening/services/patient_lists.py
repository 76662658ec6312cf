"""The lists on the find page, to find a patient without typing: "Mine i dag" (follow-ups
of the user's units due today or overdue), "Nylig åpnet" (the patients this user opened
last) and the user's unfinished screenings, each with the patient's name.

A name shown is an access to identifying data. Every patient listed is opened as every
patient is (``services.care.grant_for`` decides, ``patients.opened_record`` opens) in a
read transaction, and then logged once per request as ``patient_list`` (one row per
patient, whichever lists it is on) in one short write transaction. A patient the user no
longer has a care relationship with (a break-the-glass grant expired) is left out of the
lists, not refused: the user did not ask for it. A patient whose fields do not open is
left out and logged as ``undecryptable``.

The follow-ups are read here, read-only; the worklist (``services.conversations``) is
where they are handled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..crypto.keys import KeyRing
from ..database import Database
from ..localtime import local_today
from ..models import Draft, FollowUp, Patient, Unit
from ..models.sealing import Undecryptable
from ..models.staff import CLINICAL_ROLES
from . import access_log, recent_patients
from .care import Grant, grant_for
from .patients import PatientRecord, User, actor_for, opened_record

log = logging.getLogger("screening.services.patient_lists")

DUE_LIMIT = 25


@dataclass(frozen=True)
class Listed:
    """A patient as the lists show it."""

    uuid: str
    name: str = field(repr=False)
    birth_date: date = field(repr=False)
    age: int = field(repr=False)


@dataclass(frozen=True)
class Due:
    patient: Listed
    due_date: date
    pathway: str
    unit_name: str
    overdue: bool


@dataclass(frozen=True)
class Unfinished:
    patient: Listed
    instrument: str
    updated_at: datetime


@dataclass(frozen=True)
class Lists:
    due: tuple[Due, ...] = ()
    due_more: int = 0  # due or overdue follow-ups not listed (see the worklist)
    recent: tuple[Listed, ...] = ()
    drafts: tuple[Unfinished, ...] = ()


def find_page_lists(db: Database, keyring: KeyRing, user: User,
                    today: date | None = None) -> Lists:
    """The three lists for ``user`` (see the module's docstring); logged."""
    if getattr(user, "role", None) not in CLINICAL_ROLES:
        return Lists()
    today = today or local_today()
    units = sorted(user.unit_ids)
    session = db.read_session()
    try:
        due_rows, due_total = _due(session, units, today)
        recent_ids = recent_patients.newest_ids(session, user.id)
        draft_rows = session.execute(
            select(Draft.patient_id, Draft.instrument, Draft.updated_at)
            # a draft of an extension (services.extensions) comes back from the result it
            # extends, not from this list
            .where(Draft.staff_id == user.id, Draft.instrument.not_like("extend:%"))
            .order_by(Draft.updated_at.desc(), Draft.id.desc())).all()
        wanted = ({r.patient_id for r in due_rows} | set(recent_ids)
                  | {r.patient_id for r in draft_rows})
        opened, grants, broken = _open_all(session, keyring, user, wanted, today)
        unit_names = {unit_id: name for unit_id, name
                      in session.execute(select(Unit.id, Unit.name))}
    finally:
        session.close()
    _log(db, keyring, user, opened, grants, broken)
    due = tuple(Due(opened[r.patient_id], r.due_date, r.pathway,
                    unit_names.get(r.unit_id, ""), r.due_date < today)
                for r in due_rows if r.patient_id in opened)
    return Lists(
        due=due, due_more=max(due_total - len(due_rows), 0),
        recent=tuple(opened[i] for i in recent_ids if i in opened),
        drafts=tuple(Unfinished(opened[r.patient_id], r.instrument, r.updated_at)
                     for r in draft_rows if r.patient_id in opened))


def _due(session: Session, units: list[int], today: date) -> tuple[list[Any], int]:
    if not units:
        return [], 0
    where = (FollowUp.unit_id.in_(units), FollowUp.status == "open", FollowUp.due_date <= today)
    rows = session.execute(
        select(FollowUp.patient_id, FollowUp.due_date, FollowUp.pathway, FollowUp.unit_id)
        .where(*where).order_by(FollowUp.due_date, FollowUp.id).limit(DUE_LIMIT)).all()
    total = session.scalar(select(func.count()).select_from(FollowUp).where(*where)) or 0
    return list(rows), total


def _open_all(session: Session, keyring: KeyRing, user: User, ids: set[int], today: date
              ) -> tuple[dict[int, Listed], dict[int, tuple[str, Grant]], list[Patient]]:
    opened: dict[int, Listed] = {}
    grants: dict[int, tuple[str, Grant]] = {}
    broken: list[Patient] = []
    if not ids:
        return opened, grants, broken
    for row in session.scalars(select(Patient).where(Patient.id.in_(sorted(ids)))):
        grant = grant_for(session, user, row)
        if grant is None:
            continue
        try:
            record: PatientRecord = opened_record(keyring, row, today)
        except Undecryptable:
            broken.append(row)
            continue
        opened[row.id] = Listed(record.uuid, record.name, record.birth_date, record.age)
        grants[row.id] = (row.uuid, grant)
    return opened, grants, broken


def _log(db: Database, keyring: KeyRing, user: User, opened: dict[int, Listed],
         grants: dict[int, tuple[str, Grant]], broken: list[Patient]) -> None:
    if not opened and not broken:
        return
    # An ORM session, not bare statements: its transaction reads the access log's head
    # once for all the rows, where a bare connection would read it again for each.
    with db.write() as conn:
        for patient_id in sorted(opened):
            patient_uuid, grant = grants[patient_id]
            access_log.record(conn, keyring, actor_for(user, grant.unit_id), "patient_list",
                              patient_uuid, purpose=grant.purpose)
        for row in broken:
            access_log.record(conn, keyring, actor_for(user, row.unit_id), "undecryptable",
                              row.uuid, outcome="error")
    if broken:
        log.warning("%d patient(s) on the find page's lists did not open", len(broken))
