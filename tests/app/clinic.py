"""Test helpers for the patient store: units, clinicians as the services see them, and
synthetic patients (names and numbers made up here; see ``tests/app/fnr.py``)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from screening.models import Draft, Patient, Unit
from screening.models.base import new_uuid
from screening.services import access_log, patients
from tests.app.fnr import synthetic_fnrs
from tests.app.staffing import make_staff, make_units

FIRST_NAMES = (
    "Åsmund", "Bjørghild", "Cecilie", "Dagfinn", "Eldbjørg", "Fridtjof", "Gunnvor", "Halvdan",
    "Ingebjørg", "Jørgine", "Kjellaug", "Leidulv", "Magnhild", "Njål", "Oddveig", "Ragnvald",
    "Sigrunn", "Torbjørg", "Ulvhild", "Vebjørn", "Åshild", "Øyvor", "Hallstein", "Borghild",
)
SURNAME_STARTS = (
    "Bjørke", "Fjell", "Granås", "Hauk", "Kvern", "Lyng", "Myr", "Nordby", "Ørne", "Rypd",
    "Sæter", "Tjern", "Urd", "Vassb", "Ysteb", "Åsgår", "Bråt", "Dølv", "Eikr", "Flåt",
    "Gjerd", "Hølj", "Kløv", "Løkj", "Mørk",
)
SURNAME_ENDS = (
    "heim", "stad", "vik", "rud", "land", "dal", "haug", "lien", "bakk", "tveit",
    "moen", "nes", "sæth", "bø", "gard", "strøm", "holt", "skog", "våg", "li",
    "berg", "sund", "ås", "hamar", "voll", "mo", "vang", "set", "ekre", "tun",
    "leit", "bru", "fjor", "myra", "øya", "neset", "tjørn", "heia", "kleiv", "ura",
)


@dataclass(frozen=True)
class Clinician:
    """What the services need of a signed-in user (like ``accounts.CurrentUser``)."""

    id: int
    username: str
    role: str
    unit_ids: frozenset[int]


@dataclass
class Clinic:
    app: Any
    db: Any
    keyring: Any
    units: dict[str, int]
    people: dict[str, Clinician] = field(default_factory=dict)

    def refresh_keyring(self) -> None:
        self.keyring = self.app.extensions["screening.keys"]


def setup_clinic(app: Any) -> Clinic:
    """Units home-a, home-b, gp-a, sub; nurses of home-a and home-b, a GP, an analyst, an
    administrator."""
    make_units(app)
    db = app.extensions["screening.db"]
    session = db.read_session()
    try:
        units = {code: unit_id for code, unit_id in session.execute(select(Unit.code, Unit.id))}
    finally:
        session.close()
    clinic = Clinic(app, db, app.extensions["screening.keys"], units)
    for username, role, unit_codes in (("nurse-a", "nurse", ("home-a",)),
                                       ("nurse-b", "nurse", ("home-b",)),
                                       ("gp-a", "gp", ("gp-a",)),
                                       ("analyst", "analyst", ()),
                                       ("admin", "admin", ())):
        person = make_staff(app, username, role, unit_codes)
        clinic.people[username] = Clinician(person.id, username, role,
                                            frozenset(units[c] for c in unit_codes))
    return clinic


def synthetic_names(count: int, seed: int = 7) -> list[str]:
    """Distinct made-up names (first name, and a surname of two made-up parts)."""
    rng = random.Random(seed)
    if count > len(SURNAME_STARTS) * len(SURNAME_ENDS):
        raise ValueError("not that many distinct surnames")
    surnames = [a + b for a in SURNAME_STARTS for b in SURNAME_ENDS]
    rng.shuffle(surnames)
    return [f"{rng.choice(FIRST_NAMES)} {surnames[i]}" for i in range(count)]


@dataclass(frozen=True)
class Registered:
    uuid: str
    fnr: str
    name: str
    unit_id: int


def register_many(clinic: Clinic, count: int, unit: str = "home-a",
                  seed: int = 2026) -> list[Registered]:
    """Register ``count`` synthetic patients through the service, one transaction each."""
    fnrs = synthetic_fnrs(count, seed=seed)
    names = synthetic_names(count, seed=seed)
    unit_id = clinic.units[unit]
    actor = access_log.Actor(clinic.people["nurse-a"].id, "nurse", unit_id)
    result = []
    for fnr, name in zip(fnrs, names):
        patient_uuid = patients.register(clinic.db, clinic.keyring, actor, fnr=fnr, name=name,
                                         unit_id=unit_id)
        result.append(Registered(patient_uuid, fnr, name, unit_id))
    return result


def save_drafts(clinic: Clinic, staff: Clinician, items: list[tuple[str, dict[str, Any]]],
                batch: int = 100) -> None:
    """Write (or overwrite) a draft of ``audit`` answers per patient uuid, through the
    sealed properties, in batches (one write transaction each, each draft logged)."""
    for start in range(0, len(items), batch):
        with clinic.db.write() as session:
            for patient_uuid, answers in items[start:start + batch]:
                row = session.scalar(select(Patient).where(Patient.uuid == patient_uuid))
                assert row is not None
                draft = session.scalar(select(Draft).where(Draft.patient_id == row.id,
                                                           Draft.staff_id == staff.id))
                if draft is None:
                    draft = Draft(uuid=new_uuid(), staff_id=staff.id, patient_id=row.id,
                                  instrument="audit")
                    session.add(draft)
                patients.unlock(draft, patients.data_key(clinic.keyring, row))
                draft.answers = answers
                access_log.record(session, clinic.keyring,
                                  access_log.Actor(staff.id, staff.role, row.unit_id),
                                  "draft_save", row.uuid)
