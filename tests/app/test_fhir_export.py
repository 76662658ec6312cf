"""The FHIR export of a screening through the Flask client (issue 17, point 6): a valid R4
bundle, LOINC-coded with the AUDIT-C panel, logged as an export, voided screenings as
entered-in-error, and an instrument version no longer installed refused with a message."""

from __future__ import annotations

import json
import random
from datetime import date

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select, update

from screening.core.fhir import questionnaire
from screening.models import AccessLogEntry, Assessment
from tests.app.fnr import random_fnr
from tests.app.staffing import login, make_staff, make_units
from tests.app.test_repeats_and_voids import void
from tests.app.test_screening_flow import audit_form, post_audit, register
from tests.core.fhir_checks import bundle_problems, empty_values, response_problems

RNG = random.Random(1717)

ANSWERS = [3, 1, 1, 1, 0, 3, 1, 0, 0, 0]  # total 10, AUDIT-C 5


@pytest.fixture
def clinic(app):  # type: ignore[no-untyped-def]
    make_units(app)
    return {"nurse": make_staff(app, "nurse.a", "nurse", ("home-a",))}


def _screened(client) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    fnr = random_fnr(RNG, sex="male", born_from=date(1966, 1, 1), born_to=date(1981, 1, 1))
    patient = register(client, fnr, "Gunnar Prøvesen")
    html, token = audit_form(client, patient)
    response = post_audit(client, patient, html, token, ANSWERS, setting="gp_practice")
    assert response.status_code == 303
    return patient, response.headers["Location"].rsplit("/", 1)[1]


def _log(app, action: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    session = app.extensions["screening.db"].read_session()
    try:
        rows = session.execute(select(AccessLogEntry.action, AccessLogEntry.purpose)
                               .where(AccessLogEntry.action == action)
                               .order_by(AccessLogEntry.id)).all()
        return [tuple(r) for r in rows]
    finally:
        session.close()


def test_export_is_a_valid_loinc_coded_bundle_logged_as_an_export(app, client, clinic) -> None:
    login(client, clinic["nurse"])
    _, assessment = _screened(client)
    export = client.get(f"/assessments/{assessment}/fhir.json")
    assert export.status_code == 200
    assert export.headers["Content-Type"].startswith("application/fhir+json")
    assert export.headers["Cache-Control"] == "no-store"
    data = json.loads(export.get_data(as_text=True))
    Bundle.model_validate(data)
    assert empty_values(data) == [] and bundle_problems(data) == []
    resources = {e["resource"]["id"].removesuffix(f"-{assessment}"): e["resource"]
                 for e in data["entry"]}
    audit = app.extensions["screening.catalogue"].instrument("audit")
    assert response_problems(resources["qr"], questionnaire(audit, "nb")) == []
    assert resources["panel"]["code"]["coding"][0]["code"] == "72110-0"
    assert resources["total"]["code"]["coding"][0]["code"] == "75624-7"
    assert resources["total"]["valueQuantity"]["value"] == 10
    assert resources["audit-c"]["code"]["coding"][0]["code"] == "75626-2"
    assert resources["audit-c"]["valueQuantity"]["value"] == 5
    assert resources["audit-c-panel"]["code"]["coding"][0]["code"] == "72109-2"
    assert {e["resource"]["status"] for e in data["entry"]} == {"completed", "final"}
    # the access log: one export row, with the purpose "export"
    assert _log(app, "assessment_export") == [("assessment_export", "export")]


def test_a_voided_screening_exports_entered_in_error(app, client, clinic) -> None:
    login(client, clinic["nurse"])
    _, assessment = _screened(client)
    assert void(client, assessment, "Feil pasient: screeningen gjaldt en annen.").status_code == 303
    data = json.loads(client.get(f"/assessments/{assessment}/fhir.json").get_data(as_text=True))
    assert {e["resource"]["status"] for e in data["entry"]} == {"entered-in-error"}


def test_a_version_no_longer_installed_is_refused_with_a_message(app, client, clinic) -> None:
    login(client, clinic["nurse"])
    _, assessment = _screened(client)
    with app.extensions["screening.db"].write() as session:
        session.execute(update(Assessment).where(Assessment.uuid == assessment)
                        .values(instrument_version="0"))
    refused = client.get(f"/assessments/{assessment}/fhir.json")
    assert refused.status_code == 303
    assert refused.headers["Location"].endswith(f"/assessments/{assessment}")
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "ikke lenger er installert" in page and "eksporteres som FHIR" in page
