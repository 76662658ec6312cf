"""Correcting a patient's details: the name, and the fødselsnummer or D-number (a D-number
replaced by a fødselsnummer is the common case). Birth date and sex follow from the number.

One write transaction: the care relationship checked (a refusal logged and committed, as
:func:`patients.open_patient` does), a number already registered refused
(:func:`patients.refuse_if_taken`: neutral ``fnr_unavailable`` when that patient is not the
user's, the refused attempt logged under that patient's pseudonym), then the sealed fields,
the blind index, the search terms and the report facts of the patient's screenings (their
age band and sex, from the corrected birth date and sex) written together with the
``patient_correct`` access-log row. Nothing about the old or new values is logged.
Screenings already made keep the level they were scored with; the caller is told how many
there are when birth date or sex changed, so that the clinician can check them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..crypto.hashing import blind_index
from ..crypto.keys import KeyRing
from ..database import Database
from ..localtime import local_date
from ..models import Assessment, ReportFact
from . import access_log, search_terms
from .access_log import Actor
from .assessments import age_band
from .patients import (
    PatientError,
    User,
    age_on,
    checked_open,
    find_patient,
    refuse_if_taken,
    validate_fnr,
    validate_name,
)

log = logging.getLogger("screening.services.patient_edits")


@dataclass(frozen=True)
class Corrected:
    name: bool  # the name changed
    number: bool  # the fødselsnummer or D-number changed
    details: bool  # and with it the birth date or the sex
    screenings: int  # screenings made before, scored with the old birth date and sex

    @property
    def changed(self) -> bool:
        return self.name or self.number


def correct(db: Database, keyring: KeyRing, user: User, patient_uuid: str, *, name: str,
            fnr: str | None = None) -> Corrected:
    """Correct the name and (if ``fnr`` is given and differs) the number of a patient.

    ``PatientError``: ``bad_name``, ``invalid_fnr``, ``not_found``, ``duplicate_fnr`` or
    ``fnr_unavailable`` (another patient has the number; see the module's docstring);
    :class:`~screening.services.care.AccessDenied` without a care relationship. Nothing is
    written (nor logged) when nothing changes."""
    clean_name = validate_name(name)
    info = validate_fnr(fnr) if fnr is not None and fnr.strip() else None
    index = blind_index(keyring, info.normalised) if info is not None else None
    try:
        with db.write() as session:
            row = find_patient(session, patient_uuid)

            def refuse(actor: Actor, refusal: str, purpose: str, outcome: str) -> None:
                access_log.record(session, keyring, actor, refusal, row.uuid,
                                  purpose=purpose, outcome=outcome)

            record, actor, grant = checked_open(session, keyring, user, row, refuse)
            new_number = info is not None and info.normalised != record.fnr
            if info is not None and new_number and index is not None:
                refuse_if_taken(session, keyring, user, index, but=row.id)
            result = Corrected(name=clean_name != record.name, number=new_number,
                               details=False, screenings=0)
            if not result.changed:
                return result
            row.name = clean_name
            birth, sex = record.birth_date, record.sex
            if info is not None and new_number and index is not None:
                row.fnr_index = index
                row.fnr = info.normalised
                row.birth_date = info.birth_date.isoformat()
                row.sex = info.sex
                birth, sex = info.birth_date, info.sex
            details = (birth, sex) != (record.birth_date, record.sex)
            screenings = _correct_facts(session, row.id, birth, sex) if details else 0
            session.flush()
            search_terms.index_patient(session, keyring, row.id, row.unit_id, clean_name, birth)
            access_log.record(session, keyring, actor, "patient_correct", row.uuid,
                              purpose=grant.purpose)
    except IntegrityError:
        # A registration of the same number committed between the check and this write.
        log.info("a correction lost a race for its number")
        raise PatientError("duplicate_fnr") from None
    log.info("patient details corrected")
    return Corrected(name=result.name, number=result.number, details=details,
                     screenings=screenings)


def _correct_facts(session: Session, patient_id: int, birth: date, sex: str) -> int:
    """Age band and sex of the report facts of the patient's screenings, as of the day each
    was made; the report counts follow (triggers on ``report_facts``)."""
    rows = session.execute(
        select(Assessment.fact_id, Assessment.created_at)
        .where(Assessment.patient_id == patient_id)).all()
    for fact_id, created_at in rows:
        band = age_band(age_on(birth, local_date(created_at)))
        session.execute(
            update(ReportFact).where(ReportFact.id == fact_id)
            .values(age_band=band, sex=sex))
    return len(rows)
