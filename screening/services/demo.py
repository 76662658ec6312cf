"""Demo units and staff accounts for trying the app (synthetic people only)."""

from __future__ import annotations

from sqlalchemy import select

from ..crypto.keys import KeyRing
from ..database import Database
from ..models import Staff
from . import accounts, totp
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


def ensure_demo(db: Database, keyring: KeyRing, hasher: Hasher) -> list[str]:
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
    return lines


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
