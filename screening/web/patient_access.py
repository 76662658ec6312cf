"""Opening a patient inside a view: the care relationship is checked and the read logged by
the service; a refusal becomes a 403 page offering break-the-glass, an unknown patient 404."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import abort, g

from ..models import Patient
from ..services import patients
from ..services.care import AccessDenied
from .context import database, keyring


class NeedsBreakGlass(Exception):
    """Raised to the error handler: show the break-the-glass page for this patient."""

    def __init__(self, patient_uuid: str) -> None:
        super().__init__("no care relationship")
        self.patient_uuid = patient_uuid


@contextmanager
def opened_patient(
    patient_uuid: str, action: str = "patient_view"
) -> Iterator[tuple[Any, Any, Patient]]:
    """Yield (record, session, patient row) inside one write transaction."""
    try:
        with database().write() as session:
            record, row = patients.load_patient(session, keyring(), g.staff, patient_uuid,
                                                action=action)
            yield record, session, row
    except AccessDenied:
        raise NeedsBreakGlass(patient_uuid) from None
    except patients.PatientError:
        abort(404)
