"""Forms sent after the login session had ended: kept sealed until their author logs in
again, then put back on the form (``services.parked_forms``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import SEALED, Base, UTCDateTime, new_uuid, utcnow
from .sealing import SealedJSON


class ParkedForm(Base):
    """One posted form, sealed under its author's own data key (the staff key that also
    seals the TOTP secret), so only that staff member's next login opens it. ``path`` is the
    form's own address (random uuids only); the answers are in ``fields``."""

    __tablename__ = "parked_forms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"),
                                          index=True)
    # The patient the form is about, when it is about one: erasing the patient erases it too.
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True, nullable=True)
    endpoint: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    fields_sealed: Mapped[bytes] = mapped_column(LargeBinary, info=SEALED)

    fields = SealedJSON()  # [[name, value], ...] as posted, CSRF token left out
