"""Many sealed records, fast: patients (fødselsnummer, name, birth date and sex sealed under
each patient's own data key, the key wrapped under the key file's KEK, the keyed blind
index) and their AUDIT assessments (answers and context sealed, a report fact each),
sealed in a loop exactly as the services seal them and written with Core inserts in
batches. No access-log rows: this is bulk data for backup drills, not a history of use.

:func:`open_everything` opens every sealed field of every patient and assessment with a
key file and returns what it read, to compare with what was written.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text

from screening.crypto.fields import new_data_key, wrap_data_key
from screening.crypto.hashing import blind_index
from screening.crypto.keys import KeyRing
from screening.models import Assessment, Patient, ReportFact, Unit
from screening.models.base import new_uuid, utcnow
from screening.models.sealing import attach_key
from screening.services import patients as patient_service
from tests.app.fnr import random_fnr

BATCH = 2000


@dataclass(frozen=True)
class Written:
    """What was written, by uuid: patient -> (fnr, name); assessment -> answers (JSON)."""

    patients: dict[str, tuple[str, str]]
    assessments: dict[str, str]

    @property
    def records(self) -> int:
        return len(self.patients) + len(self.assessments)


def _columns(row: Any, table: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in table.columns}


def create(db: Any, keyring: KeyRing, n_patients: int, per_patient: int,
           seed: int = 8) -> Written:
    """``n_patients`` patients of unit home-a, each with ``per_patient`` assessments."""
    rng = random.Random(seed)
    now = utcnow()
    with db.write() as session:
        unit_id = session.scalar(select(Unit.id).where(Unit.code == "home-a"))
        assert unit_id is not None, "make_units first"
        next_patient = (session.scalar(select(func.max(Patient.id))) or 0) + 1
        next_fact = (session.scalar(select(func.max(ReportFact.id))) or 0) + 1
        next_assessment = (session.scalar(select(func.max(Assessment.id))) or 0) + 1
    written = Written({}, {})
    fnrs: set[str] = set()
    patient_rows: list[dict[str, Any]] = []
    fact_rows: list[dict[str, Any]] = []
    assessment_rows: list[dict[str, Any]] = []
    for i in range(n_patients):
        fnr = random_fnr(rng, born_from=date(1930, 1, 1), born_to=date(1958, 12, 31))
        while fnr in fnrs:
            fnr = random_fnr(rng, born_from=date(1930, 1, 1), born_to=date(1958, 12, 31))
        fnrs.add(fnr)
        info = patient_service.validate_fnr(fnr)
        key = new_data_key()
        patient = Patient(id=next_patient + i, uuid=new_uuid(), unit_id=unit_id,
                          fnr_index=blind_index(keyring, fnr), created_at=now)
        patient.data_key_wrapped = wrap_data_key(keyring, key,
                                                 patient_service.key_context(patient.uuid))
        attach_key(patient, key)
        name = f"Synt Bulk {i:06d}"
        patient.fnr, patient.name = fnr, name
        patient.birth_date, patient.sex = info.birth_date.isoformat(), info.sex
        patient_rows.append(_columns(patient, Patient.__table__))
        written.patients[patient.uuid] = (fnr, name)
        for j in range(per_patient):
            answers = {f"q{k}": rng.randrange(1, 5) for k in range(1, 9)}
            answers.update({"q9": rng.choice((0, 2, 4)), "q10": rng.choice((0, 2, 4))})
            total = sum(answers.values())
            fact_id = next_fact + len(fact_rows)
            fact_rows.append({
                "id": fact_id, "month": (date.today() - timedelta(days=30 * j)).strftime("%Y-%m"),
                "age_band": "75_84", "sex": info.sex, "unit_id": unit_id,
                "setting": "home_care", "instrument": "audit", "zone": "III", "level": 3,
                "positive": None, "pw_elder_care": True, "pw_gp": False,
                "pw_substance_use_consultant": False, "pw_specialist_referral": False,
                "conversation_delivered": False, "follow_up": "none"})
            row = Assessment(
                id=next_assessment + len(assessment_rows), uuid=new_uuid(),
                patient_id=patient.id, fact_id=fact_id,
                submission_token=f"bulk{seed:04d}{next_assessment + len(assessment_rows):036d}",
                instrument="audit", instrument_version="1", item_text_version="1",
                rule_set="sondre-land", rule_set_version="1", total=total, zone="III",
                level=3, flags="[]", pathways='["elder_care"]', follow_up_weeks=4,
                setting="home_care", unit_id=unit_id, created_by=None, created_at=now)
            attach_key(row, key)
            row.answers = answers
            row.context = {"age": 80, "sex": info.sex, "setting": "home_care",
                           "medication": [], "explanation": {"subscores": {}}}
            assessment_rows.append(_columns(row, Assessment.__table__))
            written.assessments[row.uuid] = json.dumps(answers, sort_keys=True)
    with db.write() as session:
        for table, rows in ((Patient.__table__, patient_rows),
                            (ReportFact.__table__, fact_rows),
                            (Assessment.__table__, assessment_rows)):
            for start in range(0, len(rows), BATCH):
                session.execute(insert(table), rows[start:start + BATCH])
            if db.engine.dialect.name == "postgresql":  # ids were given: move the sequence on
                session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                                     f"'id'), (SELECT max(id) FROM {table.name}))"))
    return written


def open_everything(db: Any, keyring: KeyRing) -> Written:
    """Open every patient's data key and every sealed field of patients and assessments
    (raises on the first that does not open); check each blind index against its number."""
    read = Written({}, {})
    session = db.read_session()
    try:
        keys: dict[int, bytes] = {}
        for patient in session.scalars(select(Patient).execution_options(yield_per=BATCH)):
            key = patient_service.unwrap_key(keyring, patient.data_key_wrapped,
                                              patient_service.key_context(patient.uuid))
            keys[patient.id] = key
            attach_key(patient, key)
            assert blind_index(keyring, patient.fnr) == patient.fnr_index
            assert patient.birth_date and patient.sex in ("male", "female")
            read.patients[patient.uuid] = (patient.fnr, patient.name)
        session.expunge_all()
        for row in session.scalars(select(Assessment).execution_options(yield_per=BATCH)):
            attach_key(row, keys[row.patient_id])
            assert row.context is not None
            read.assessments[row.uuid] = json.dumps(row.answers, sort_keys=True)
        return read
    finally:
        session.close()
