"""Test helpers: units and staff with known passwords and TOTP secrets, and logging in
through the real login form (CSRF on, TOTP code computed from the secret)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import pyotp

from screening.services import accounts
from tests.conftest import csrf_from

PASSWORD = "Synthetic-Staff-Pass-42"
# The medication-and-falls checklist answered "no" throughout, as form fields: from 65 it is
# part of the AUDIT (instruments/medication_falls.toml).
CHECKLIST_NO = {f"med_{item}": "0" for item in (
    "sedatives", "strong_painkillers", "blood_thinners", "fall", "memory", "low_mood")}


@dataclass(frozen=True)
class Person:
    username: str
    role: str
    secret: str
    id: int


def make_units(app) -> None:  # type: ignore[no-untyped-def]
    db = app.extensions["screening.db"]
    accounts.ensure_unit(db, "home-a", "Home care A", "home_care")
    accounts.ensure_unit(db, "home-b", "Home care B", "home_care")
    accounts.ensure_unit(db, "gp-a", "GP office A", "gp_office")
    accounts.ensure_unit(db, "sub", "Substance-use service", "substance_use_service")


def make_staff(app, username: str, role: str, units: tuple[str, ...] = (),  # type: ignore[no-untyped-def]
               enrolled: bool = True) -> Person:
    secret = pyotp.random_base32()
    staff_id = accounts.create_staff(
        app.extensions["screening.db"], app.extensions["screening.keys"],
        app.extensions["screening.hasher"], username=username, display_name=username.title(),
        role=role, password=PASSWORD, unit_codes=units,
        totp_secret_value=secret if enrolled else None)
    return Person(username, role, secret, staff_id)


def next_code(secret: str, offset_steps: int = 0) -> str:
    import time

    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def login(client, person: Person, code: str | None = None, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={
        "csrf_token": token, "username": person.username, "password": password,
        "code": code if code is not None else next_code(person.secret), "next": "/",
    })


def logged_in_name(html: str) -> str | None:
    match = re.search(r'<span class="who">([^<]+)</span>', html)
    return match.group(1) if match else None


def sign_in(app, client, person: Person) -> str:  # type: ignore[no-untyped-def]
    """A full login session for ``person`` without the login form (which is tested on its
    own): a session row plus the cookie that names it. TOTP codes are single-use, so tests
    that need many sessions of one account use this. Returns the session token."""
    from screening.models import StaffSession
    from screening.models.base import utcnow

    token = secrets.token_urlsafe(32)
    now = utcnow()
    with app.extensions["screening.db"].write() as session:
        session.add(StaffSession(id=accounts._session_id(token), staff_id=person.id,
                                 stage="full", created_at=now, last_seen_at=now))
    with client.session_transaction() as cookie:
        cookie["sid"] = token
        cookie.permanent = True
    return token



def make_patient(app, unit_code: str = "home-a", fnr: str | None = None,  # type: ignore[no-untyped-def]
                 name: str = "Synthetic Patient") -> str:
    """A patient in ``unit_code`` written through the models and the crypto package (the
    same sealing a registration does); returns the patient's uuid."""
    from sqlalchemy import select

    from screening.crypto.fields import new_data_key, wrap_data_key
    from screening.crypto.hashing import blind_index
    from screening.models import Patient, Unit
    from screening.models.base import new_uuid
    from screening.models.sealing import attach_key

    keyring = app.extensions["screening.keys"]
    fnr = fnr or "".join(str(secrets.randbelow(10)) for _ in range(11))
    with app.extensions["screening.db"].write() as session:
        unit_id = session.scalar(select(Unit.id).where(Unit.code == unit_code))
        assert unit_id is not None, f"no unit {unit_code}; call make_units first"
        patient = Patient(uuid=new_uuid(), unit_id=unit_id, fnr_index=blind_index(keyring, fnr))
        data_key = new_data_key()
        patient.data_key_wrapped = wrap_data_key(keyring, data_key, patient.uuid)
        attach_key(patient, data_key)
        patient.fnr = fnr
        patient.name = name
        patient.birth_date = "1940-01-01"
        patient.sex = "female"
        session.add(patient)
        return patient.uuid
