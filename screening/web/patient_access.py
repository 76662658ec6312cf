"""Opening a patient inside a view: the care relationship is checked and the read logged by
the services; a refusal becomes a 403 page offering break-the-glass, an unknown patient 404."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import abort, g

from ..models import Patient
from ..services import patient_reads, patients
from ..services.care import AccessDenied
from .context import database, keyring


class NeedsBreakGlass(Exception):
    """Raised to the error handler: show the break-the-glass page for this patient."""

    def __init__(self, patient_uuid: str) -> None:
        super().__init__("no care relationship")
        self.patient_uuid = patient_uuid


@contextmanager
def opened_patient(
    patient_uuid: str, action: str = "patient_view", afresh: bool = True,
    remember: bool = False,
) -> Iterator[tuple[Any, Any, Patient]]:
    """Yield (record, read session, patient row): the care relationship checked, the fields
    opened and the read logged as ``action`` (committed before the body runs; see
    :mod:`screening.services.patient_reads`). The body only reads: afresh, or, without
    ``afresh``, in the read that opened the patient. ``remember``: list the patient among
    the user's recently opened."""
    try:
        with patient_reads.read_patient(database(), keyring(), g.staff, patient_uuid,
                                        action, afresh=afresh,
                                        remember=remember) as (opened, session):
            yield opened.record, session, opened.row
    except AccessDenied:
        raise NeedsBreakGlass(patient_uuid) from None
    except patients.PatientError:
        abort(404)
