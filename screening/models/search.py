"""Finding a patient again: the keyed search terms of a patient's name and birth date, and
the patients each staff member opened last. Neither holds a name, a number or a date.

``patient_search_terms``: one row per term of a patient, see
:mod:`screening.services.search_terms` for what a term is and what the table leaks.
``recent_patients``: (staff member, patient, when opened) for the "Nylig åpnet" list, at
most a few rows per staff member; internal ids only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, PrimaryKeyConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class PatientSearchTerm(Base):
    """A keyed, deliberately short hash (16 bits) of a normalised name prefix or of the
    birth date of a patient, under a key bound to the patient's unit; plus random filler
    terms, so that every patient has as many rows as most others. The primary key starts
    with (unit, term): the search reads one range of the index per term."""

    __tablename__ = "patient_search_terms"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), autoincrement=False)
    term: Mapped[int] = mapped_column(Integer, autoincrement=False)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"),
                                            index=True, autoincrement=False)

    __table_args__ = (PrimaryKeyConstraint("unit_id", "term", "patient_id"),)


class RecentPatient(Base):
    """A patient a staff member opened (the patient page), and when: the newest few per
    staff member are kept (``services.recent_patients``)."""

    __tablename__ = "recent_patients"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"),
                                          autoincrement=False)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"),
                                            index=True, autoincrement=False)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (PrimaryKeyConstraint("staff_id", "patient_id"),)
