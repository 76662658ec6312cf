"""Use cases of the administration pages: staff and units as an administrator sees them,
units, membership, disabling and second-factor reset by staff uuid.

Administrators see no patient data; nothing here reads a patient table. Changes are logged
(who did what to which account) without any patient identifier.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from ..database import Database
from ..models import Membership, Staff, StaffSession, Unit
from ..models.staff import UNIT_KINDS
from . import accounts
from .accounts import AccountError

log = logging.getLogger("screening.admin")

UNIT_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


@dataclass(frozen=True)
class StaffRow:
    id: int
    uuid: str
    username: str
    display_name: str
    role: str
    hpr_number: str | None
    active: bool
    totp_enrolled: bool
    units: tuple[tuple[int, str, str], ...]  # (id, code, name)
    led_unit_ids: frozenset[int] = frozenset()  # units whose reports this person sees
    created_at: datetime | None = None
    last_seen_at: datetime | None = None  # the latest request of any of its sessions


@dataclass(frozen=True)
class UnitRow:
    id: int
    code: str
    name: str
    kind: str
    active: bool
    members: int


def _staff_row(staff: Staff, last_seen_at: datetime | None = None) -> StaffRow:
    return StaffRow(staff.id, staff.uuid, staff.username, staff.display_name, staff.role,
                    staff.hpr_number, staff.active, staff.totp_enrolled,
                    tuple((unit.id, unit.code, unit.name) for unit in staff.units),
                    staff.led_unit_ids, staff.created_at, last_seen_at)


def list_staff(db: Database) -> list[StaffRow]:
    session = db.read_session()
    try:
        return [_staff_row(staff)
                for staff in session.scalars(select(Staff).order_by(Staff.username))]
    finally:
        session.close()


def get_staff(db: Database, staff_uuid: str) -> StaffRow | None:
    session = db.read_session()
    try:
        staff = session.scalar(select(Staff).where(Staff.uuid == staff_uuid))
        if staff is None:
            return None
        last_seen = session.scalar(select(func.max(StaffSession.last_seen_at))
                                   .where(StaffSession.staff_id == staff.id))
        return _staff_row(staff, last_seen)
    finally:
        session.close()


def list_units(db: Database) -> list[UnitRow]:
    session = db.read_session()
    try:
        members = (select(Membership.unit_id, func.count().label("n"))
                   .group_by(Membership.unit_id).subquery())
        rows = session.execute(
            select(Unit, func.coalesce(members.c.n, 0))
            .outerjoin(members, members.c.unit_id == Unit.id).order_by(Unit.code)).all()
        return [UnitRow(unit.id, unit.code, unit.name, unit.kind, unit.active, int(count))
                for unit, count in rows]
    finally:
        session.close()


def create_unit(db: Database, code: str, name: str, kind: str) -> int:
    """A new unit; codes are lower-case letters, digits and '-' (2-40 characters)."""
    code, name = code.strip().lower(), " ".join(name.split())
    if not UNIT_CODE.match(code):
        raise AccountError("bad_unit_code")
    if not 2 <= len(name) <= 120:
        raise AccountError("bad_unit_name")
    if kind not in UNIT_KINDS:
        raise AccountError("bad_unit_kind")
    with db.write() as session:
        if session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
            raise AccountError("unit_code_taken")
        unit = Unit(code=code, name=name, kind=kind, active=True)
        session.add(unit)
        session.flush()
        log.info("unit %s created", code)
        return unit.id


def add_member(db: Database, staff_uuid: str, unit_id: int, leader: bool = False) -> None:
    """Make the person a member of the unit (again, with ``leader`` as given)."""
    with db.write() as session:
        staff = session.scalar(select(Staff).where(Staff.uuid == staff_uuid))
        if staff is None:
            raise AccountError("unknown_user")
        unit = session.get(Unit, unit_id)
        if unit is None or not unit.active:
            raise AccountError("unknown_unit")
        membership = session.get(Membership, (staff.id, unit.id))
        if membership is None:
            session.add(Membership(staff_id=staff.id, unit_id=unit.id, leader=leader))
            log.info("staff %s added to unit %s", staff.username, unit.code)
        elif membership.leader != leader:
            membership.leader = leader
            log.info("staff %s leader of unit %s: %s", staff.username, unit.code, leader)


def remove_member(db: Database, staff_uuid: str, unit_id: int) -> None:
    with db.write() as session:
        staff_id = session.scalar(select(Staff.id).where(Staff.uuid == staff_uuid))
        if staff_id is None:
            raise AccountError("unknown_user")
        removed = session.execute(delete(Membership).where(Membership.staff_id == staff_id,
                                                           Membership.unit_id == unit_id))
        if not getattr(removed, "rowcount", 0):
            raise AccountError("not_a_member")
        log.info("staff id %s removed from unit id %s", staff_id, unit_id)


def _username(db: Database, staff_uuid: str) -> str:
    session = db.read_session()
    try:
        username = session.scalar(select(Staff.username).where(Staff.uuid == staff_uuid))
    finally:
        session.close()
    if username is None:
        raise AccountError("unknown_user")
    return username


def disable(db: Database, staff_uuid: str, by_staff_id: int) -> str:
    """Disable an account (every session ends); an administrator cannot disable their own."""
    username = _username(db, staff_uuid)
    if _is_self(db, staff_uuid, by_staff_id):
        raise AccountError("own_account")
    accounts.disable(db, username)
    log.info("staff %s disabled by staff id %s", username, by_staff_id)
    return username


def reset_2fa(db: Database, staff_uuid: str, by_staff_id: int) -> str:
    """Remove an account's second factor (every session ends; the user enrols again)."""
    username = _username(db, staff_uuid)
    if _is_self(db, staff_uuid, by_staff_id):
        raise AccountError("own_account")
    accounts.reset_totp(db, username)
    log.info("two-factor login of staff %s reset by staff id %s", username, by_staff_id)
    return username


def _is_self(db: Database, staff_uuid: str, staff_id: int) -> bool:
    session = db.read_session()
    try:
        return session.scalar(select(Staff.uuid).where(Staff.id == staff_id)) == staff_uuid
    finally:
        session.close()
