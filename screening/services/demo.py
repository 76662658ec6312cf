"""Demo units and staff accounts for trying the app, and two referrals waiting in the
substance-use consultant's inbox (synthetic people only)."""

from __future__ import annotations

import random
import secrets
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from stdnum.no import fodselsnummer

from ..crypto.keys import KeyRing
from ..database import Database
from ..localtime import local_today
from ..models import Referral, Staff, Unit
from . import accounts, assessments, conversations, patients, referrals, totp
from .access_log import Actor
from .passwords import Hasher

# A published demo password: demo commands are refused in production.
DEMO_PASSWORD = "Demo-skjema-2026"  # noqa: S105

UNITS = (
    ("hjemmetjeneste-nord", "Hjemmetjenesten, nordre distrikt", "home_care"),
    ("hjemmetjeneste-sor", "Hjemmetjenesten, søndre distrikt", "home_care"),
    ("legekontor", "Legekontoret", "gp_office"),
    ("rustjeneste", "Psykisk helse- og rustjenesten", "substance_use_service"),
)
STAFF = (
    ("sykepleier", "Demo Sykepleier", "nurse", ("hjemmetjeneste-nord",)),
    ("avdelingsleder", "Demo Avdelingsleder", "nurse", ("hjemmetjeneste-nord",)),
    ("lege", "Demo Lege", "gp", ("legekontor",)),
    ("ruskonsulent", "Demo Ruskonsulent", "consultant", ("rustjeneste",)),
    ("analytiker", "Demo Analytiker", "analyst", ()),
    ("admin", "Demo Administrator", "admin", ()),
)
DEMO_USERNAMES = frozenset(username for username, *_ in STAFF)
LEADERS = frozenset({"avdelingsleder"})  # unit leaders: see their unit's reports


# Made-up people: (name, sex, AUDIT answers). Level 3 and level 4 at home, over 65.
DEMO_PATIENTS = (
    ("Synnøve Demodatter", "female", [3, 2, 2, 2, 1, 1, 1, 1, 0, 0]),
    ("Halvard Prøvesen", "male", [4, 4, 4, 3, 3, 3, 3, 3, 2, 2]),
)


def ensure_demo(db: Database, keyring: KeyRing, hasher: Hasher,
                catalogue: Any = None) -> list[str]:
    for code, name, kind in UNITS:
        accounts.ensure_unit(db, code, name, kind)
    lines = [f"Demo accounts (password for all: {DEMO_PASSWORD}):"]
    for username, display_name, role, units in STAFF:
        with db.write() as session:
            exists = session.scalar(select(Staff.id).where(Staff.username == username))
        if exists is None:
            accounts.create_staff(
                db,
                keyring,
                hasher,
                username=username,
                display_name=display_name,
                role=role,
                password=DEMO_PASSWORD,
                unit_codes=units,
                leader_of=units if username in LEADERS else (),
                totp_secret_value=totp.new_secret(),
            )
        secret = _secret(db, keyring, username)
        shown = role + (" (unit leader)" if username in LEADERS else "")
        lines.append(f"  {username:<15} {shown:<20} TOTP key: {secret or '(not set up)'}")
    lines.append("Log in with username, password and a six-digit code: add the TOTP key to an")
    lines.append("authenticator app, or print a current code with")
    lines.append(
        "  make code WHO=sykepleier   (or: .venv/bin/flask --app wsgi demo code sykepleier)"
    )
    if catalogue is not None and _demo_referrals(db, keyring, catalogue):
        lines.append("Demo patients: two referrals wait in ruskonsulent's inbox, and sykepleier")
        lines.append("has a home visit today.")
    return lines


def _demo_fnr(rng: random.Random, sex: str) -> str:
    """A made-up D-number of someone born 1940-1955 (check digits by python-stdnum)."""
    while True:
        birth = date(1940, 1, 1) + timedelta(days=rng.randrange(16 * 365))
        individual = rng.randrange(0, 500)  # 000-499: born 1900-1999
        if (individual % 2 == 1) != (sex == "male"):
            continue
        nine = f"{birth.day + 40:02d}{birth.month:02d}{birth.year % 100:02d}{individual:03d}"
        ten = nine + fodselsnummer.calc_check_digit1(nine)
        number = ten + fodselsnummer.calc_check_digit2(ten)
        if fodselsnummer.is_valid(number):
            return number


def _demo_referrals(db: Database, keyring: KeyRing, catalogue: Any) -> bool:
    """Once: the demo patients screened by sykepleier, each referred to the substance-use
    service with consent, the first with a home visit planned for today. False when they
    exist already (or the demo units do not)."""
    session = db.read_session()
    try:
        sub = session.scalar(select(Unit.id).where(Unit.code == "rustjeneste"))
        nurse = session.scalar(select(Staff).where(Staff.username == "sykepleier"))
        if sub is None or nurse is None or session.scalar(
                select(Referral.id).where(Referral.to_unit_id == sub).limit(1)) is not None:
            return False
        home = min(nurse.unit_ids)
        user = accounts.CurrentUser(nurse.id, nurse.username, nurse.display_name, nurse.role,
                                    nurse.locale, nurse.unit_ids, "full")
    finally:
        session.close()
    rng = random.Random(2026)
    for number, (name, sex, answers) in enumerate(DEMO_PATIENTS):
        patient = patients.register(db, keyring, Actor(user.id, user.role, home),
                                    fnr=_demo_fnr(rng, sex), name=name, unit_id=home)
        done = assessments.submit(
            db, keyring, catalogue, user, patient_uuid=patient, instrument_id="audit",
            answers={f"q{i + 1}": v for i, v in enumerate(answers)}, setting="home_care",
            medication=frozenset(), submission_token=secrets.token_urlsafe(32))
        if number == 0:
            conversations.save(db, keyring, catalogue, user, assessment_uuid=done.uuid,
                               expected_version=None, record={
                                   "feedback": {"given": True},
                                   "goal": {"type": "reduce", "units_per_week": 7},
                                   "follow_up": {"date": local_today().isoformat(),
                                                 "by": "elder_care", "mode": "home_visit",
                                                 "repeat_audit": True}})
        referrals.send(db, keyring, user, done.uuid, "substance_use_consultant", unit_id=sub,
                       reason="Ønsker hjelp til å drikke mindre; samtykker til kontakt.",
                       consent=True)
    return True


def _secret(db: Database, keyring: KeyRing, username: str) -> str | None:
    session = db.read_session()
    try:
        staff = session.scalar(select(Staff).where(Staff.username == username))
        return accounts.totp_secret(keyring, staff) if staff is not None else None
    finally:
        session.close()


def current_code(db: Database, keyring: KeyRing, username: str) -> str | None:
    if username not in DEMO_USERNAMES:
        return None
    secret = _secret(db, keyring, username)
    return totp.code_now(secret) if secret else None
