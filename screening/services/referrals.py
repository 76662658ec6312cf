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
  note (sealed): :mod:`services.referral_answers`. The sender sees the answer on the
  patient page and her worklist.

A pathway followed up by the patient's own unit or the clinician's own (:func:`route`)
needs no referral: the conversation's follow-up plan makes the task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..crypto.keys import KeyRing
from ..database import Database
from ..models import Assessment, Conversation, Patient, Referral, Staff, Unit
from ..models.base import new_uuid, utcnow
from ..models.referrals import STATUSES
from ..models.sealing import Undecryptable, attach_key
from . import follow_ups, patient_reads, patients
from .follow_ups import PATHWAY_UNIT_KIND, FollowUpError

REASON_MAX = 2000
LIVE = ("sent", "accepted", "external")  # a second one of these for the pathway is a resend


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
                        names.get(row.answered_by or 0), opened_text(row, "reason"),
                        opened_text(row, "answer_note")))
    return out


def opened_text(row: Referral, name: str) -> str | None:
    """A sealed text of a referral (the key attached), None when it does not open."""
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


assert set(LIVE) <= set(STATUSES)
