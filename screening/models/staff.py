"""Staff accounts, care units, membership, login sessions and login attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import SEALED, Base, UTCDateTime, new_uuid, utcnow

ROLES = ("nurse", "gp", "consultant", "analyst", "admin")
CLINICAL_ROLES = ("nurse", "gp", "consultant")
UNIT_KINDS = ("home_care", "gp_office", "substance_use_service")


class Unit(Base):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        CheckConstraint(f"kind IN {UNIT_KINDS!r}", name="kind"),
    )


class Membership(Base):
    __tablename__ = "memberships"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"),
                                          primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    # A unit leader sees the anonymised reports of this unit.
    leader: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    hpr_number: Mapped[str | None] = mapped_column(String(9), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # The staff member's own data key, wrapped by the key-encryption key; seals the TOTP secret.
    data_key_wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True,
                                                             info=SEALED)
    totp_enrolled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    locale: Mapped[str] = mapped_column(String(2), default="nb")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    units: Mapped[list[Unit]] = relationship(secondary="memberships", lazy="selectin",
                                             order_by=Unit.code)

    __table_args__ = (
        CheckConstraint(f"role IN {ROLES!r}", name="role"),
        CheckConstraint("locale IN ('nb', 'en')", name="locale"),
    )

    memberships: Mapped[list[Membership]] = relationship(lazy="selectin", viewonly=True)

    @property
    def unit_ids(self) -> frozenset[int]:
        return frozenset(unit.id for unit in self.units)

    @property
    def led_unit_ids(self) -> frozenset[int]:
        return frozenset(m.unit_id for m in self.memberships if m.leader)


class StaffSession(Base):
    """A server-side login session; the cookie carries only a random token whose hash is the id.
    ``stage`` is ``password`` (second factor pending), ``enrol`` (TOTP set-up pending) or
    ``full``."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        CheckConstraint("stage IN ('password', 'enrol', 'full')", name="stage"),
    )


class LoginAttempt(Base):
    """Failed logins, for throttling per account and per address."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"),
                                                 nullable=True)
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_login_attempts_staff_at", "staff_id", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )
