"""Staff accounts: creation, login with password and TOTP, sessions, throttling."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ..crypto.fields import new_data_key, open_sealed, seal, wrap_data_key
from ..crypto.keys import KeyRing
from ..database import Database
from ..models import LoginAttempt, Membership, Staff, StaffSession, Unit
from ..models.base import new_uuid, utcnow
from ..models.staff import ROLES
from . import totp
from .live_keys import current_keyring, unwrap_key
from .passwords import Hasher, check_policy

log = logging.getLogger(__name__)

ACCOUNT_FAILURES_PER_MINUTE = 5
ADDRESS_FAILURES_PER_MINUTE = 30


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; ``code`` names why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class LoginOutcome:
    """``status``: ``ok`` (full session), ``enrol`` (TOTP set-up needed), ``invalid``,
    ``throttled``. ``token`` is the new session's cookie value when one was made."""

    status: str
    token: str | None = None


def _session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _staff_key(keyring: KeyRing, staff: Staff) -> bytes:
    return unwrap_key(keyring, staff.data_key_wrapped, f"staff:{staff.uuid}")


staff_key = _staff_key  # the staff member's own data key (TOTP secret, parked forms)


def session_owner(db: Database, token: str) -> int | None:
    """The staff id of a session token's account, whether the session is still live, ended
    or expired, if the account is active and the session went through both factors: whose
    form arrived after the session had ended (``services.parked_forms``)."""
    session = db.read_session()
    try:
        row = session.execute(
            select(Staff.id, Staff.active, StaffSession.stage)
            .join(StaffSession, StaffSession.staff_id == Staff.id)
            .where(StaffSession.id == _session_id(token))).first()
    finally:
        session.close()
    if row is None or not row.active or row.stage != "full":
        return None
    return int(row.id)


def totp_secret(keyring: KeyRing, staff: Staff) -> str | None:
    if staff.totp_secret_sealed is None:
        return None
    return open_sealed(
        _staff_key(keyring, staff),
        staff.totp_secret_sealed,
        table="staff",
        column="totp_secret",
        row_uuid=staff.uuid,
    )


def create_staff(
    db: Database,
    keyring: KeyRing,
    hasher: Hasher,
    *,
    username: str,
    display_name: str,
    role: str,
    password: str,
    unit_codes: tuple[str, ...] = (),
    leader_of: tuple[str, ...] = (),
    hpr_number: str | None = None,
    totp_secret_value: str | None = None,
    locale: str = "nb",
) -> int:
    """Create an account. With ``totp_secret_value`` the second factor is enrolled at once
    (demo accounts); otherwise the user enrols at first login. ``leader_of``: unit codes
    (among ``unit_codes``) whose anonymised reports the person sees."""
    username = username.strip().lower()
    if (
        not username
        or len(username) > 64
        or not username.replace(".", "").replace("-", "").isalnum()
    ):
        raise AccountError("bad_username")
    if role not in ROLES:
        raise AccountError("bad_role")
    if hpr_number is not None and (not hpr_number.isdigit() or not 6 <= len(hpr_number) <= 9):
        raise AccountError("bad_hpr")
    check_policy(password, username)
    with db.write() as session:
        if session.scalar(select(Staff.id).where(Staff.username == username)) is not None:
            raise AccountError("username_taken")
        units = []
        for code in unit_codes:
            unit = session.scalar(select(Unit).where(Unit.code == code))
            if unit is None:
                raise AccountError("unknown_unit")
            units.append(unit)
        staff = Staff(
            username=username,
            display_name=display_name.strip()[:120],
            role=role,
            hpr_number=hpr_number,
            password_hash=hasher.hash(password),
            locale=locale,
        )
        staff.uuid = new_uuid()
        data_key = new_data_key()
        staff.data_key_wrapped = wrap_data_key(
            current_keyring(keyring), data_key, f"staff:{staff.uuid}"
        )
        if totp_secret_value is not None:
            staff.totp_secret_sealed = seal(
                data_key,
                totp_secret_value,
                table="staff",
                column="totp_secret",
                row_uuid=staff.uuid,
            )
            staff.totp_enrolled = True
        if not set(leader_of) <= set(unit_codes):
            raise AccountError("unknown_unit")
        staff.units = units
        session.add(staff)
        session.flush()
        if leader_of:
            session.execute(
                update(Membership)
                .where(Membership.staff_id == staff.id,
                       Membership.unit_id.in_([u.id for u in units if u.code in leader_of]))
                .values(leader=True)
            )
        return staff.id


def login(
    db: Database,
    keyring: KeyRing,
    hasher: Hasher,
    *,
    username: str,
    password: str,
    code: str,
    address: str,
    now: datetime | None = None,
) -> LoginOutcome:
    """Check password and TOTP code in one step; on success start a new session with a
    fresh id. Failures are recorded for throttling.

    The password hash (argon2, deliberately slow) is checked outside any write transaction,
    so that logins do not hold the database's write lock (SQLite) while hashing; the TOTP
    step is then checked and stored with the account row locked, so a code is accepted at
    most once even when two logins race."""
    now = now or utcnow()
    window = now - timedelta(minutes=1)
    username = username.strip().lower()[:64]
    if not username.isprintable() or not address.isprintable():
        # PostgreSQL text cannot hold NUL; no account name has control characters anyway.
        return LoginOutcome("invalid")
    reader = db.read_session()
    try:
        found = reader.execute(
            select(Staff.id, Staff.password_hash, Staff.active).where(Staff.username == username)
        ).first()
        staff_id = found[0] if found else None
        by_address = (
            reader.scalar(
                select(func.count())
                .select_from(LoginAttempt)
                .where(LoginAttempt.address == address, LoginAttempt.at > window)
            )
            or 0
        )
        by_account = 0
        if staff_id is not None:
            by_account = (
                reader.scalar(
                    select(func.count())
                    .select_from(LoginAttempt)
                    .where(LoginAttempt.staff_id == staff_id, LoginAttempt.at > window)
                )
                or 0
            )
    finally:
        reader.close()
    if by_address >= ADDRESS_FAILURES_PER_MINUTE or by_account >= ACCOUNT_FAILURES_PER_MINUTE:
        _failed(db, staff_id, address, now)
        return LoginOutcome("throttled")
    password_ok = hasher.verify(found[1] if found else None, password)
    if found is None or not password_ok or not found[2]:
        _failed(db, staff_id, address, now)
        return LoginOutcome("invalid")
    with db.write() as session:
        staff = session.scalars(select(Staff).where(Staff.id == staff_id).with_for_update()).first()
        if staff is None or not staff.active:
            session.add(LoginAttempt(staff_id=None, address=address, at=now))
            return LoginOutcome("invalid")
        if not staff.totp_enrolled:
            return LoginOutcome("enrol", _start_session(session, staff, "enrol", now))
        secret = totp_secret(keyring, staff)
        step = totp.matching_step(secret or "", code, staff.totp_last_step, now.timestamp())
        if step is None:
            session.add(LoginAttempt(staff_id=staff.id, address=address, at=now))
            return LoginOutcome("invalid")
        staff.totp_last_step = step
        rehash = hasher.needs_rehash(staff.password_hash)
        token = _start_session(session, staff, "full", now)
    if rehash:
        with db.write() as session:
            session.execute(
                update(Staff)
                .where(Staff.id == staff_id)
                .values(password_hash=hasher.hash(password))
            )
    return LoginOutcome("ok", token)


def _failed(db: Database, staff_id: int | None, address: str, now: datetime) -> None:
    with db.write() as session:
        session.add(LoginAttempt(staff_id=staff_id, address=address, at=now))


def _start_session(session: Session, staff: Staff, stage: str, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            id=_session_id(token), staff_id=staff.id, stage=stage, created_at=now, last_seen_at=now
        )
    )
    return token


def pending_secret(db: Database, keyring: KeyRing, staff_id: int) -> str:
    """The TOTP secret awaiting confirmation for an account without a second factor; made on
    first call, the same on later calls (so a reload does not invalidate a scanned code)."""
    with db.write() as session:
        staff = session.get(Staff, staff_id)
        if staff is None or staff.totp_enrolled:
            raise AccountError("already_enrolled")
        existing = totp_secret(keyring, staff)
        if existing is not None:
            return existing
        secret = totp.new_secret()
        staff.totp_secret_sealed = seal(
            _staff_key(keyring, staff),
            secret,
            table="staff",
            column="totp_secret",
            row_uuid=staff.uuid,
        )
        return secret


def confirm_enrolment(
    db: Database, keyring: KeyRing, token: str, code: str, now: datetime | None = None
) -> str | None:
    """Confirm the pending secret with a code; returns a new full session token, or None."""
    now = now or utcnow()
    with db.write() as session:
        row = session.get(StaffSession, _session_id(token))
        if row is None or row.stage != "enrol" or row.ended_at is not None:
            return None
        staff = session.get(Staff, row.staff_id)
        if staff is None or staff.totp_enrolled or not staff.active:
            return None
        secret = totp_secret(keyring, staff)
        step = totp.matching_step(secret or "", code, staff.totp_last_step, now.timestamp())
        if step is None:
            return None
        staff.totp_enrolled = True
        staff.totp_last_step = step
        row.ended_at = now
        return _start_session(session, staff, "full", now)


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    display_name: str
    role: str
    locale: str
    unit_ids: frozenset[int]
    stage: str
    led_unit_ids: frozenset[int] = frozenset()  # units whose anonymised reports they see


# Every page asks this: one statement, no ORM objects (a session row, its account and the
# account's memberships, one row per membership).
_RESUME = (
    select(StaffSession.stage, StaffSession.created_at, StaffSession.last_seen_at,
           StaffSession.ended_at, Staff.id.label("staff_id"), Staff.username,
           Staff.display_name, Staff.role, Staff.locale, Staff.active, Membership.unit_id,
           Membership.leader)
    .join(Staff, Staff.id == StaffSession.staff_id)
    .outerjoin(Membership, Membership.staff_id == Staff.id)
    .where(StaffSession.id == bindparam("sid"))
)


def resume(
    db: Database, token: str, idle: timedelta, absolute: timedelta, now: datetime | None = None
) -> CurrentUser | None:
    """The signed-in user for a session token, or None when the session is unknown, ended,
    idle too long, too old, or its account disabled (the session is then ended)."""
    now = now or utcnow()
    sid = _session_id(token)
    with db.single_read_engine.connect() as conn:
        rows = conn.execute(_RESUME, {"sid": sid}).all()
    if not rows:
        return None
    first = rows[0]
    if first.ended_at is not None:
        return None
    expired = (now - first.last_seen_at > idle) or (now - first.created_at > absolute)
    if not first.active or expired:
        end_session(db, token, now)
        return None
    user = CurrentUser(
        first.staff_id,
        first.username,
        first.display_name,
        first.role,
        first.locale,
        frozenset(r.unit_id for r in rows if r.unit_id is not None),
        first.stage,
        frozenset(r.unit_id for r in rows if r.unit_id is not None and r.leader),
    )
    stale = now - first.last_seen_at > timedelta(seconds=60)
    if stale:
        # Best effort: a database that cannot take a write just now (disk full, overload)
        # must not turn every page into an error before the view can keep the user's input.
        try:
            with db.write() as write:
                write.execute(
                    update(StaffSession).where(StaffSession.id == sid).values(last_seen_at=now)
                )
        except OperationalError:
            log.warning("session activity not recorded: database unavailable")
    return user


def end_session(db: Database, token: str, now: datetime | None = None) -> None:
    with db.write() as session:
        session.execute(
            update(StaffSession)
            .where(StaffSession.id == _session_id(token), StaffSession.ended_at.is_(None))
            .values(ended_at=now or utcnow())
        )


def set_locale(db: Database, staff_id: int, locale: str) -> None:
    if locale not in ("nb", "en"):
        raise AccountError("bad_locale")
    with db.write() as session:
        session.execute(update(Staff).where(Staff.id == staff_id).values(locale=locale))


def disable(db: Database, username: str, now: datetime | None = None) -> None:
    """Disable an account and end every session it has."""
    now = now or utcnow()
    with db.write() as session:
        staff = session.scalar(select(Staff).where(Staff.username == username.strip().lower()))
        if staff is None:
            raise AccountError("unknown_user")
        staff.active = False
        session.execute(
            update(StaffSession)
            .where(StaffSession.staff_id == staff.id, StaffSession.ended_at.is_(None))
            .values(ended_at=now)
        )


def reset_totp(db: Database, username: str, now: datetime | None = None) -> None:
    """Remove the second factor so that the user enrols again; ends every session."""
    now = now or utcnow()
    with db.write() as session:
        staff = session.scalar(select(Staff).where(Staff.username == username.strip().lower()))
        if staff is None:
            raise AccountError("unknown_user")
        staff.totp_secret_sealed = None
        staff.totp_enrolled = False
        session.execute(
            update(StaffSession)
            .where(StaffSession.staff_id == staff.id, StaffSession.ended_at.is_(None))
            .values(ended_at=now)
        )


def prune_attempts(db: Database, older_than: timedelta = timedelta(days=1)) -> None:
    with db.write() as session:
        session.execute(delete(LoginAttempt).where(LoginAttempt.at < utcnow() - older_than))


def ensure_unit(db: Database, code: str, name: str, kind: str) -> int:
    with db.write() as session:
        unit = session.scalar(select(Unit).where(Unit.code == code))
        if unit is None:
            unit = Unit(code=code, name=name, kind=kind, active=True)
            session.add(unit)
            session.flush()
        return unit.id


def add_membership(db: Database, staff_id: int, unit_id: int) -> None:
    with db.write() as session:
        if session.get(Membership, (staff_id, unit_id)) is None:
            session.add(Membership(staff_id=staff_id, unit_id=unit_id))
