"""Patients: every identifying field sealed, a keyed blind index for lookup by
fødselsnummer, a random uuid for URLs, and the patient's wrapped data key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import IDENTIFYING, SEALED, Base, UTCDateTime, new_uuid, utcnow
from .sealing import Sealed

IDENTIFYING_SEALED = {**IDENTIFYING, **SEALED}


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    # HMAC-SHA256 of the normalised fødselsnummer under the blind-index key.
    fnr_index: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True, info=IDENTIFYING)
    fnr_sealed: Mapped[bytes] = mapped_column(LargeBinary, info=IDENTIFYING_SEALED)
    name_sealed: Mapped[bytes] = mapped_column(LargeBinary, info=IDENTIFYING_SEALED)
    birth_date_sealed: Mapped[bytes] = mapped_column(LargeBinary, info=IDENTIFYING_SEALED)
    sex_sealed: Mapped[bytes] = mapped_column(LargeBinary, info=SEALED)
    data_key_wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    fnr = Sealed()
    name = Sealed()
    birth_date = Sealed()  # ISO date
    sex = Sealed()  # "male" | "female"
