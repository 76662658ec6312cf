"""The worklist and the home page's day: the follow-ups of a clinician's units, the
referrals waiting in their inbox, and the referrals the clinician sent.

Every patient whose name is shown is an access: the lists are read in a read transaction
(each patient checked: a care relationship for tasks and sent referrals, a referral to one
of the user's units for the inbox), then one access-log row per patient shown is written in
one short write transaction before anything is returned (``patient_view`` with the grant's
purpose; ``referral_view``/``referral`` for a patient known only through the inbox). A
patient whose record cannot be opened is listed without a name, and that is logged too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..crypto.keys import KeyRing
from ..database import Database
from ..localtime import local_today
from ..models import FollowUp, Patient, Referral, Staff, Unit
from ..models.base import utcnow
from ..models.sealing import Undecryptable, attach_key
from . import access_log, patient_reads, patients
from .access_log import Actor
from .care import grant_for

WHO = ("unit", "mine")
WHEN = ("all", "today", "overdue")
CLOSED_DAYS = 30


@dataclass(frozen=True)
class Task:
    uuid: str
    patient_uuid: str
    patient_name: str | None  # None: the record could not be opened, or no access
    pathway: str
    unit_name: str
    due_date: date
    mode: str
    repeat_audit: bool
    status: str
    outcome: str | None
    done_at: datetime | None
    responsible_name: str | None
    mine: bool
    rescheduled_to: date | None = None


@dataclass(frozen=True)
class InboxItem:
    uuid: str
    patient_name: str | None
    patient_age: int | None
    pathway: str
    reason: str | None
    sent_at: datetime
    sender_name: str | None
    from_unit_name: str | None
    to_unit_name: str


@dataclass(frozen=True)
class SentItem:
    uuid: str
    patient_uuid: str
    patient_name: str
    pathway: str
    to_unit_name: str | None
    status: str
    sent_at: datetime
    answered_at: datetime | None
    answer_note: str | None


@dataclass(frozen=True)
class Worklist:
    open: list[Task]
    closed: list[Task]
    inbox: list[InboxItem]
    sent: list[SentItem]
    who: str
    when: str


@dataclass
class _Opened:
    """Patients opened for the lists of one request, logged once each."""

    db: Database
    keyring: KeyRing
    user: Any
    today: date
    records: dict[int, Any] = field(default_factory=dict)  # patient id -> record or None
    rows: list[tuple[Actor, str, str, str, str]] = field(default_factory=list)

    def by_care(self, session: Session, patient: Patient) -> Any:
        """The record if the user has a care relationship (else None, nothing logged)."""
        if patient.id in self.records:
            return self.records[patient.id]
        grant = grant_for(session, self.user, patient)
        if grant is None:
            return None
        actor = Actor(self.user.id, self.user.role, grant.unit_id)
        return self._open(patient, actor, "patient_view", grant.purpose)

    def by_referral(self, patient: Patient, unit_id: int) -> Any:
        """The record of a patient referred to one of the user's units (``unit_id``)."""
        if patient.id in self.records:
            return self.records[patient.id]
        actor = Actor(self.user.id, self.user.role, unit_id)
        return self._open(patient, actor, "referral_view", "referral")

    def _open(self, patient: Patient, actor: Actor, action: str, purpose: str) -> Any:
        try:
            record = patients.opened_record(self.keyring, patient, self.today)
        except Undecryptable:
            record = None
            self.rows.append((actor, "undecryptable", patient.uuid, purpose, "error"))
        else:
            self.rows.append((actor, action, patient.uuid, purpose, "ok"))
        self.records[patient.id] = record
        return record

    def log(self) -> None:
        if not self.rows:
            return
        with self.db.write_statements() as conn:
            for actor, action, patient_uuid, purpose, outcome in self.rows:
                access_log.record(conn, self.keyring, actor, action, patient_uuid,
                                  purpose=purpose, outcome=outcome)


def _task_rows(session: Session, user: Any, units: tuple[int, ...], who: str, when: str,
               today: date) -> list[Any]:
    query = (select(FollowUp, Patient, Unit.name)
             .join(Patient, Patient.id == FollowUp.patient_id)
             .join(Unit, Unit.id == FollowUp.unit_id)
             .where(FollowUp.unit_id.in_(units), FollowUp.status == "open"))
    if who == "mine":
        query = query.where(FollowUp.responsible_id == user.id)
    if when == "today":
        query = query.where(FollowUp.due_date == today)
    elif when == "overdue":
        query = query.where(FollowUp.due_date < today)
    return list(session.execute(query.order_by(FollowUp.due_date, FollowUp.id)).all())


def _closed_rows(session: Session, user: Any, units: tuple[int, ...], who: str) -> list[Any]:
    since = utcnow() - timedelta(days=CLOSED_DAYS)
    query = (select(FollowUp, Patient, Unit.name)
             .join(Patient, Patient.id == FollowUp.patient_id)
             .join(Unit, Unit.id == FollowUp.unit_id)
             .where(FollowUp.unit_id.in_(units), FollowUp.status == "closed",
                    FollowUp.done_at >= since))
    if who == "mine":
        query = query.where(or_(FollowUp.responsible_id == user.id,
                                FollowUp.done_by == user.id))
    return list(session.execute(query.order_by(FollowUp.done_at.desc(), FollowUp.id)).all())


def _tasks(session: Session, opened: _Opened, user: Any, rows: list[Any],
           names: dict[int, str]) -> list[Task]:
    ids = [follow_up.id for follow_up, _p, _u in rows if follow_up.outcome == "rescheduled"]
    successors = dict(session.execute(
        select(FollowUp.rescheduled_from_id, FollowUp.due_date)
        .where(FollowUp.rescheduled_from_id.in_(ids))).all()) if ids else {}
    tasks = []
    for follow_up, patient, unit_name in rows:
        record = opened.by_care(session, patient)
        tasks.append(Task(
            follow_up.uuid, patient.uuid, record.name if record is not None else None,
            follow_up.pathway, unit_name, follow_up.due_date, follow_up.mode,
            follow_up.repeat_audit, follow_up.status, follow_up.outcome, follow_up.done_at,
            names.get(follow_up.responsible_id or 0), follow_up.responsible_id == user.id,
            successors.get(follow_up.id)))
    return tasks


def _inbox(session: Session, opened: _Opened, keyring: KeyRing, units: tuple[int, ...],
           names: dict[int, str], unit_names: dict[int, str]) -> list[InboxItem]:
    rows = session.execute(
        select(Referral, Patient).join(Patient, Patient.id == Referral.patient_id)
        .where(Referral.to_unit_id.in_(units), Referral.status == "sent")
        .order_by(Referral.sent_at, Referral.id)).all()
    items = []
    for referral, patient in rows:
        assert referral.to_unit_id is not None
        record = opened.by_referral(patient, referral.to_unit_id)
        reason = None
        if record is not None:
            try:
                attach_key(referral, patients.data_key(keyring, patient))
                reason = referral.reason
            except Undecryptable:
                reason = None
        items.append(InboxItem(
            referral.uuid, record.name if record is not None else None,
            record.age if record is not None else None, referral.pathway, reason,
            referral.sent_at, names.get(referral.sent_by or 0),
            unit_names.get(referral.from_unit_id or 0), unit_names.get(referral.to_unit_id, "")))
    return items


def _sent(session: Session, opened: _Opened, keyring: KeyRing, user: Any,
          unit_names: dict[int, str]) -> list[SentItem]:
    since = utcnow() - timedelta(days=CLOSED_DAYS)
    rows = session.execute(
        select(Referral, Patient).join(Patient, Patient.id == Referral.patient_id)
        .where(Referral.sent_by == user.id,
               Referral.status.in_(("sent", "accepted", "returned")),
               or_(Referral.status == "sent", Referral.answered_at >= since))
        .order_by(Referral.sent_at.desc(), Referral.id)).all()
    items = []
    for referral, patient in rows:
        record = opened.by_care(session, patient)
        if record is None:
            continue  # no care relationship (any more): the referral is not shown
        note = None
        try:
            attach_key(referral, patients.data_key(keyring, patient))
            note = referral.answer_note
        except Undecryptable:
            note = None
        items.append(SentItem(
            referral.uuid, patient.uuid, record.name, referral.pathway,
            unit_names.get(referral.to_unit_id or 0), referral.status, referral.sent_at,
            referral.answered_at, note))
    return items


def worklist(db: Database, keyring: KeyRing, user: Any, *, who: str = "unit",
             when: str = "all", today: date | None = None) -> Worklist:
    """The worklist of the user's units. ``who``: ``unit`` (every task of the user's units)
    or ``mine`` (the tasks the user is responsible for); ``when``: ``all`` open tasks,
    ``today`` (due today) or ``overdue`` (due before today). Closed tasks of the last
    30 days, the referrals waiting for the user's units and those the user sent (waiting,
    or answered in the last 30 days) come with it."""
    today = today or local_today()
    who = who if who in WHO else "unit"
    when = when if when in WHEN else "all"
    units = tuple(sorted(getattr(user, "unit_ids", ())))
    if not units:
        return Worklist([], [], [], [], who, when)
    opened = _Opened(db, keyring, user, today)
    with patient_reads.reading(db) as session:
        names = dict(session.execute(select(Staff.id, Staff.display_name)).all())
        unit_names = dict(session.execute(select(Unit.id, Unit.name)).all())
        inbox = _inbox(session, opened, keyring, units, names, unit_names)
        open_tasks = _tasks(session, opened, user,
                            _task_rows(session, user, units, who, when, today), names)
        closed = _tasks(session, opened, user, _closed_rows(session, user, units, who), names)
        sent = _sent(session, opened, keyring, user, unit_names)
    opened.log()
    return Worklist(open_tasks, closed, inbox, sent, who, when)


@dataclass(frozen=True)
class Day:
    today: list[Task]
    overdue: list[Task]
    inbox_count: int
    more: bool  # more tasks than shown: the worklist has them all


def day(db: Database, keyring: KeyRing, user: Any, today: date | None = None,
        limit: int = 30) -> Day:
    """The home page: open tasks of the user's units due today (home visits among them)
    and overdue ones, at most ``limit`` of each, and how many referrals wait in the inbox
    (a count, no names). Patients shown are logged as the worklist logs them."""
    today = today or local_today()
    units = tuple(sorted(getattr(user, "unit_ids", ())))
    if not units:
        return Day([], [], 0, False)
    opened = _Opened(db, keyring, user, today)
    with patient_reads.reading(db) as session:
        names = dict(session.execute(select(Staff.id, Staff.display_name)).all())
        due = _task_rows(session, user, units, "unit", "today", today)
        late = _task_rows(session, user, units, "unit", "overdue", today)
        more = len(due) > limit or len(late) > limit
        today_tasks = _tasks(session, opened, user, due[:limit], names)
        overdue = _tasks(session, opened, user, late[:limit], names)
        waiting = session.scalar(select(func.count()).select_from(Referral).where(
            Referral.to_unit_id.in_(units), Referral.status == "sent")) or 0
    opened.log()
    return Day(today_tasks, overdue, int(waiting), more)
