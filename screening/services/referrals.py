"""Referrals (design.md: "a pathway sent to a receiving unit, with the patient's consent;
accepted or returned").

* The clinician sends one from an assessment's pathway: the receiving unit (an active unit
  of the pathway's kind), the reason (sealed) and the patient's consent. A refused consent
  is recorded and nothing is sent. A nurse's ``specialist_referral`` goes to the GP office
  (the GP refers to specialist care); a GP records that she has referred the patient to
  specialist care (TSB) herself (``external``).
* The receiving unit sees it in its inbox (the patient's name and age, the reason: read as
  ``referral_view`` with purpose ``referral``) and can accept it (the unit gets access to
  the patient by :func:`services.care.grant_for` and a follow-up task) or return it with a
  note (sealed). The sender sees the answer on the patient page and her worklist.

A pathway followed up by the patient's own unit or the clinician's own (:func:`route`)
needs no referral: the conversation's follow-up plan makes the task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..crypto.keys import KeyRing
from ..database import Database
from ..localtime import local_today
from ..models import Assessment, Conversation, FollowUp, Patient, Referral, Staff, Unit
from ..models.base import new_uuid, utcnow
from ..models.referrals import STATUSES
from ..models.sealing import Undecryptable, attach_key
from . import access_log, follow_ups, patient_reads, patients
from .access_log import Actor
from .care import AccessDenied, grant_for
from .conversations import weeks_for_level
from .follow_ups import DEFAULT_MODE, MODES, PATHWAY_UNIT_KIND, FollowUpError

REASON_MAX = 2000
LIVE = ("sent", "accepted", "external")  # a second one of these for the pathway is a resend
RECEIVED = ("sent", "accepted", "returned")  # what the receiving unit sees (consent given)


class ReferralError(ValueError):
    """A referral that cannot be sent or answered; ``code``: ``no_route`` (the pathway is
    followed up without a referral), ``no_receiver`` (no active unit of the kind),
    ``bad_unit``, ``reason_missing``, ``reason_too_long``, ``consent_missing``,
    ``note_missing``, ``note_too_long``, ``past_date``, ``bad_mode``, ``answered``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Route:
    """Where a pathway goes from this clinician: ``unit`` (a referral to a unit of
    ``kind``) or ``external`` (a GP's own referral to specialist care)."""

    pathway: str
    kind: str
    unit_kind: str | None


def route(pathway: str, role: str, own_kinds: set[str]) -> Route | None:
    """None when the pathway is followed up by the patient's or the clinician's own unit
    (``own_kinds``: the kinds of those units)."""
    if pathway not in PATHWAY_UNIT_KIND:
        return None
    if pathway == "specialist_referral":
        return Route(pathway, "external", None) if role == "gp" else \
            Route(pathway, "unit", "gp_office")
    kind = PATHWAY_UNIT_KIND[pathway]
    return None if kind in own_kinds else Route(pathway, "unit", kind)


def own_kinds(session: Session, user: Any, patient_unit_id: int) -> set[str]:
    kinds = follow_ups.unit_kinds(session, {patient_unit_id, *getattr(user, "unit_ids", ())})
    return set(kinds.values())


def receivers(session: Session, kind: str) -> list[tuple[int, str]]:
    """Active units of a kind, by name: (id, name)."""
    return [(unit_id, name) for unit_id, name in session.execute(
        select(Unit.id, Unit.name).where(Unit.kind == kind, Unit.active.is_(True))
        .order_by(Unit.name, Unit.id)).all()]


@dataclass(frozen=True)
class Line:
    """A referral as the patient page, the result and the referral form list it."""

    uuid: str
    pathway: str
    status: str
    consent: bool | None
    to_unit_id: int | None
    to_unit_name: str | None
    sent_at: datetime
    sender_name: str | None
    answered_at: datetime | None
    answerer_name: str | None
    reason: str | None
    answer_note: str | None


def lines(session: Session, keyring: KeyRing, patient_row: Patient,
          assessment_id: int | None = None, pathway: str | None = None) -> list[Line]:
    """The patient's referrals, newest first (for an opened patient: the caller has
    checked and logged the access). Sealed texts that do not open are left out."""
    query = select(Referral).where(Referral.patient_id == patient_row.id)
    if assessment_id is not None:
        query = query.where(Referral.assessment_id == assessment_id)
    if pathway is not None:
        query = query.where(Referral.pathway == pathway)
    rows = list(session.scalars(query.order_by(Referral.sent_at.desc(), Referral.id.desc())))
    if not rows:
        return []
    names = dict(session.execute(select(Staff.id, Staff.display_name)).all())
    units = dict(session.execute(select(Unit.id, Unit.name)).all())
    key = patients.data_key(keyring, patient_row)
    out = []
    for row in rows:
        attach_key(row, key)
        out.append(Line(row.uuid, row.pathway, row.status, row.consent, row.to_unit_id,
                        units.get(row.to_unit_id or 0), row.sent_at,
                        names.get(row.sent_by or 0), row.answered_at,
                        names.get(row.answered_by or 0), _opened(row, "reason"),
                        _opened(row, "answer_note")))
    return out


def _opened(row: Referral, name: str) -> str | None:
    try:
        value = getattr(row, name)
    except Undecryptable:
        return None
    return value if isinstance(value, str) else None


def statuses_of(session: Session, assessment_uuid: str) -> dict[str, str]:
    """pathway -> the status of its newest referral from this assessment (no patient data)."""
    rows = session.execute(
        select(Referral.pathway, Referral.status).join(
            Assessment, Assessment.id == Referral.assessment_id)
        .where(Assessment.uuid == assessment_uuid)
        .order_by(Referral.sent_at, Referral.id)).all()
    return {pathway: status for pathway, status in rows}


# ------------------------------------------------------------------------------ sending


@dataclass(frozen=True)
class Prepared:
    """What the referral form shows (the patient opened, the read logged)."""

    assessment_uuid: str
    patient: Any  # patients.PatientRecord
    pathway: str
    route: Route
    units: list[tuple[int, str]]
    default_unit: int | None
    reasons: dict[str, str]  # the pathway's reasons from the result, by language
    consent: bool | None  # as the conversation recorded it (item 11), if it did
    earlier: list[Line]


def _assessment(session: Session, assessment_uuid: str) -> Assessment:
    canonical = patients.canonical_uuid(assessment_uuid)
    row = None if canonical is None else session.scalar(
        select(Assessment).where(Assessment.uuid == canonical))
    if row is None:
        raise patients.PatientError("not_found")
    return row


def _route_for(session: Session, user: Any, patient_row: Patient, pathway: str) -> Route:
    found = route(pathway, user.role, own_kinds(session, user, patient_row.unit_id))
    if found is None:
        raise ReferralError("no_route")
    return found


def prepare(db: Database, keyring: KeyRing, user: Any, assessment_uuid: str,
            pathway: str) -> Prepared:
    """The referral form for one pathway of an assessment (the read logged as
    ``referral_view``). ``PatientError("not_found")``; AccessDenied without a care
    relationship (logged); ``ReferralError("no_route")`` when the pathway needs no referral
    (nothing shown, nothing logged)."""
    if pathway not in PATHWAY_UNIT_KIND:
        raise patients.PatientError("not_found")
    with patient_reads.reading(db) as session:
        assessment = _assessment(session, assessment_uuid)
        patient_row = session.get(Patient, assessment.patient_id)
        assert patient_row is not None
        opened = patient_reads.check_and_open(db, session, keyring, user, patient_row)
        found = _route_for(session, user, patient_row, pathway)
        patient_reads.log_alone(db, keyring, opened.actor, "referral_view", patient_row.uuid,
                                opened.grant.purpose)
        attach_key(assessment, patients.data_key(keyring, patient_row))
        explanation = (assessment.context or {}).get("explanation") or {}
        reasons = next((p.get("reason") or {} for p in explanation.get("pathways") or []
                        if p.get("id") == pathway), {})
        units = receivers(session, found.unit_kind) if found.unit_kind else []
        earlier = lines(session, keyring, patient_row, pathway=pathway)
        # The obvious receiver: the unit that accepted this pathway before, else the first.
        used = [line.to_unit_id for line in earlier if line.status == "accepted"]
        ids = [unit_id for unit_id, _name in units]
        default = next((u for u in used if u in ids), ids[0] if ids else None)
        return Prepared(assessment.uuid, opened.record, pathway, found, units, default,
                        {k: v for k, v in reasons.items() if isinstance(v, str)},
                        _consent_recorded(session, keyring, patient_row, assessment, pathway),
                        earlier)


def _consent_recorded(session: Session, keyring: KeyRing, patient_row: Patient,
                      assessment: Assessment, pathway: str) -> bool | None:
    row = session.scalar(select(Conversation).where(Conversation.assessment_id == assessment.id))
    if row is None:
        return None
    attach_key(row, patients.data_key(keyring, patient_row))
    try:
        record = row.record or {}
    except Undecryptable:
        return None
    entries = ((record.get("referrals") or {}).get("referrals") or [])
    for entry in entries:
        if isinstance(entry, dict) and entry.get("pathway") == pathway:
            consent = entry.get("consent")
            return consent if isinstance(consent, bool) else None
    return None


@dataclass(frozen=True)
class Sent:
    uuid: str
    status: str
    patient_uuid: str
    to_unit_name: str | None
    duplicate: bool  # one was sent already (a resend): nothing new stored


def clean_reason(reason: str | None) -> str:
    try:
        text = follow_ups.clean_note(reason, REASON_MAX)
    except FollowUpError:
        raise ReferralError("reason_too_long") from None
    if text is None:
        raise ReferralError("reason_missing")
    return text


def send(db: Database, keyring: KeyRing, user: Any, assessment_uuid: str, pathway: str, *,
         unit_id: int | None, reason: str, consent: bool | None) -> Sent:
    """Send (or, with the consent refused, record) a referral: one transaction with its
    access-log row (``referral_send``). A GP's ``specialist_referral`` is recorded as made
    by her (``external``, no receiving unit). A second one for the same assessment and
    pathway while one is waiting, accepted or recorded returns that one (``duplicate``)."""
    if pathway not in PATHWAY_UNIT_KIND:
        raise patients.PatientError("not_found")
    if consent is None:
        raise ReferralError("consent_missing")
    text = clean_reason(reason)
    with db.write() as session:
        assessment = _assessment(session, assessment_uuid)
        patient_row = session.get(Patient, assessment.patient_id)
        assert patient_row is not None
        patients.open_patient(session, keyring, user, patient_row.uuid, action="referral_send")
        found = _route_for(session, user, patient_row, pathway)
        units = dict(receivers(session, found.unit_kind)) if found.unit_kind else {}
        if found.kind == "unit":
            if not units:
                raise ReferralError("no_receiver")
            if unit_id not in units:
                raise ReferralError("bad_unit")
        existing = session.execute(
            select(Referral.uuid, Referral.status, Referral.to_unit_id)
            .where(Referral.assessment_id == assessment.id, Referral.pathway == pathway,
                   Referral.status.in_(LIVE))
            .order_by(Referral.id).limit(1)).first()
        if existing is not None:
            return Sent(existing.uuid, existing.status, patient_row.uuid,
                        units.get(existing.to_unit_id or 0), True)
        status = ("consent_refused" if not consent
                  else "external" if found.kind == "external" else "sent")
        mine = sorted(getattr(user, "unit_ids", ()))
        row = Referral(
            uuid=new_uuid(), patient_id=patient_row.id, assessment_id=assessment.id,
            pathway=pathway, status=status, consent=consent,
            from_unit_id=patient_row.unit_id if patient_row.unit_id in mine
            else (mine[0] if mine else None),
            to_unit_id=unit_id if found.kind == "unit" else None, sent_by=user.id,
            sent_at=utcnow())
        attach_key(row, patients.data_key(keyring, patient_row))
        row.reason = text
        session.add(row)
        return Sent(row.uuid, status, patient_row.uuid, units.get(unit_id or 0), False)


# ------------------------------------------------------------------------------ answering


@dataclass(frozen=True)
class ReferralView:
    uuid: str
    patient: Any  # patients.PatientRecord (name and age are what the inbox needs)
    assessment_uuid: str
    pathway: str
    status: str
    consent: bool | None
    from_unit_name: str | None
    to_unit_name: str | None
    sender_name: str | None
    sent_at: datetime
    answerer_name: str | None
    answered_at: datetime | None
    reason: str | None
    answer_note: str | None
    receiver: bool  # the user is in the receiving unit (may accept or return)
    record_open: bool  # the user may open the patient's record (care or accepted referral)
    follow_up_uuid: str | None
    default_due: date
    default_mode: str


def _find(session: Session, referral_uuid: str) -> tuple[Referral, Patient]:
    canonical = patients.canonical_uuid(referral_uuid)
    row = None if canonical is None else session.scalar(
        select(Referral).where(Referral.uuid == canonical))
    if row is None:
        raise patients.PatientError("not_found")
    patient_row = session.get(Patient, row.patient_id)
    assert patient_row is not None
    return row, patient_row


def _received(row: Referral, user: Any) -> bool:
    """The user is in the unit the referral was sent to (a refused consent sent nothing)."""
    units: frozenset[int] = getattr(user, "unit_ids", frozenset())
    return row.status in RECEIVED and row.to_unit_id is not None and row.to_unit_id in units


def _open_as_receiver(session: Session, keyring: KeyRing, user: Any, row: Referral,
                      patient_row: Patient, action: str) -> Any:
    """The patient's record for a member of the receiving unit, logged as ``action`` with
    purpose ``referral``; anyone else is refused (``access_denied`` logged, AccessDenied).
    Call it first in the write transaction."""
    if not _received(row, user):
        access_log.record(session, keyring, Actor(user.id, user.role), "access_denied",
                          patient_row.uuid, purpose="referral", outcome="denied")
        raise AccessDenied("referral to another unit")
    actor = Actor(user.id, user.role, row.to_unit_id)
    try:
        record = patients.opened_record(keyring, patient_row)
    except Undecryptable:
        access_log.record(session, keyring, actor, "undecryptable", patient_row.uuid,
                          purpose="referral", outcome="error")
        raise
    access_log.record(session, keyring, actor, action, patient_row.uuid, purpose="referral")
    return record


def view(db: Database, keyring: KeyRing, catalogue: Any, user: Any,
         referral_uuid: str, today: date | None = None,
         receiver_only: bool = False) -> ReferralView:
    """A referral for its receiving unit (``referral_view``/``referral``) or for someone
    with access to the patient (the sender: ``referral_view`` with the grant's purpose).
    Anyone else, and with ``receiver_only`` anyone outside the receiving unit:
    AccessDenied (logged)."""
    today = today or local_today()
    with db.write() as session:
        row, patient_row = _find(session, referral_uuid)
        receiver = _received(row, user)
        if receiver or receiver_only:
            record = _open_as_receiver(session, keyring, user, row, patient_row,
                                       "referral_view")
        else:
            record = patients.open_patient(session, keyring, user, patient_row.uuid,
                                           action="referral_view")
        attach_key(row, patients.data_key(keyring, patient_row))
        names = dict(session.execute(select(Staff.id, Staff.display_name).where(
            Staff.id.in_({row.sent_by, row.answered_by} - {None}))).all())
        unit_names = dict(session.execute(select(Unit.id, Unit.name)).all())
        assessment = session.get(Assessment, row.assessment_id)
        assert assessment is not None
        task = None if row.follow_up_id is None else session.scalar(
            select(FollowUp.uuid).where(FollowUp.id == row.follow_up_id))
        return ReferralView(
            row.uuid, record, assessment.uuid, row.pathway, row.status, row.consent,
            unit_names.get(row.from_unit_id or 0), unit_names.get(row.to_unit_id or 0),
            names.get(row.sent_by or 0), row.sent_at, names.get(row.answered_by or 0),
            row.answered_at, _opened(row, "reason"), _opened(row, "answer_note"), receiver,
            grant_for(session, user, patient_row) is not None, task,
            _default_due(catalogue, assessment, today), DEFAULT_MODE[row.pathway])


def _default_due(catalogue: Any, assessment: Assessment, today: date) -> date:
    weeks = weeks_for_level(catalogue, assessment.rule_set, assessment.instrument,
                            assessment.level) if catalogue is not None else None
    return today + timedelta(weeks=weeks or 4)


@dataclass(frozen=True)
class Answered:
    status: str
    patient_uuid: str
    follow_up_uuid: str | None
    already: bool  # it had been answered before: nothing changed


def accept(db: Database, keyring: KeyRing, user: Any, referral_uuid: str, *, due_date: date,
           mode: str, note: str | None = None, today: date | None = None) -> Answered:
    """The receiving unit accepts: the referral's unit gets access to the patient and a
    follow-up task (due ``due_date``, not in the past; the accepting clinician responsible);
    the report fact's follow-up state is updated. One transaction, logged as
    ``referral_accept``/``referral``."""
    if mode not in MODES:
        raise ReferralError("bad_mode")
    try:
        follow_ups.check_due_date(due_date, today)
        text = follow_ups.clean_note(note)
    except FollowUpError as err:
        raise ReferralError("past_date" if err.code == "past_date" else err.code) from None
    with db.write() as session:
        row, patient_row = _find(session, referral_uuid)
        _open_as_receiver(session, keyring, user, row, patient_row, "referral_accept")
        if row.status != "sent":
            return Answered(row.status, patient_row.uuid, None, True)
        assessment = session.get(Assessment, row.assessment_id)
        assert assessment is not None and row.to_unit_id is not None
        task = follow_ups.add_task(session, assessment, pathway=row.pathway,
                                   unit_id=row.to_unit_id, due_date=due_date, mode=mode,
                                   responsible_id=user.id)
        session.flush()
        row.status, row.answered_by, row.answered_at = "accepted", user.id, utcnow()
        row.follow_up_id = task.id
        if text is not None:
            attach_key(row, patients.data_key(keyring, patient_row))
            row.answer_note = text
        follow_ups.update_fact(session, assessment.fact_id)
        return Answered("accepted", patient_row.uuid, task.uuid, False)


def give_back(db: Database, keyring: KeyRing, user: Any, referral_uuid: str,
              note: str) -> Answered:
    """The receiving unit returns the referral with a note (required, sealed); logged as
    ``referral_return``/``referral``. The unit gets no access."""
    try:
        text = follow_ups.clean_note(note)
    except FollowUpError:
        raise ReferralError("note_too_long") from None
    if text is None:
        raise ReferralError("note_missing")
    with db.write() as session:
        row, patient_row = _find(session, referral_uuid)
        _open_as_receiver(session, keyring, user, row, patient_row, "referral_return")
        if row.status != "sent":
            return Answered(row.status, patient_row.uuid, None, True)
        row.status, row.answered_by, row.answered_at = "returned", user.id, utcnow()
        attach_key(row, patients.data_key(keyring, patient_row))
        row.answer_note = text
        return Answered("returned", patient_row.uuid, None, False)


assert set(LIVE) <= set(STATUSES)
