"""Report pages, the summary, CSV and XLSX carry no fødselsnummer, name, uuid or access-log
pseudonym: patients are registered and screened through the services (synthetic numbers and
names), then every output is searched for every planted value. No download holds a count
from 1 to 4 (k = 5) as a number: small counts show only their mark "<5"."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import select

from screening.models import AccessLogEntry, Assessment
from screening.services import assessments
from tests.app.clinic import register_many, setup_clinic
from tests.app.staffing import sign_in


def _answers(instrument, rng_value: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Every item answered with the same option index (bounded by the item's options)."""
    return {item.id: item.options[min(rng_value, len(item.options) - 1)].index
            for item in instrument.items}


def test_no_identifier_reaches_a_report(app) -> None:
    clinic = setup_clinic(app)
    patients = register_many(clinic, 24, unit="home-a", seed=4242)
    catalogue = app.extensions["screening.catalogue"]
    audit = catalogue.instrument("audit")
    nurse = clinic.people["nurse-a"]
    for i, patient in enumerate(patients):
        assessments.submit(clinic.db, clinic.keyring, catalogue, nurse,
                           patient_uuid=patient.uuid, instrument_id="audit",
                           answers=_answers(audit, 0 if i % 3 else 2), setting="home_care",
                           medication=frozenset(),
                           submission_token=f"privacy-token-{i:04d}-abcdef")
    session = clinic.db.read_session()
    try:
        assessment_uuids = list(session.scalars(select(Assessment.uuid)))
        pseudonyms = [p for p in session.scalars(select(AccessLogEntry.patient_pseudonym)) if p]
    finally:
        session.close()
    assert len(assessment_uuids) == len(patients) and pseudonyms

    planted = set(assessment_uuids) | set(pseudonyms)
    for patient in patients:
        planted |= {patient.fnr, patient.uuid, patient.name}
        planted |= {part for part in patient.name.split() if len(part) >= 4}

    from tests.app.staffing import Person

    analyst = clinic.people["analyst"]
    client = app.test_client()
    sign_in(app, client, Person(analyst.username, "analyst", "", analyst.id))
    year = date.today().year
    outputs: dict[str, str] = {}
    numbers: list[object] = []  # every number the CSV and XLSX tables hold
    for query in (f"kind=year&year={year}", f"kind=month&month={date.today():%Y-%m}",
                  f"kind=year&year={year}&units={clinic.units['home-a']}&setting=home_care"):
        for path in ("/reports", "/reports/summary", "/reports/report.csv"):
            response = client.get(f"{path}?{query}")
            assert response.status_code == 200, (path, query)
            outputs[f"{path}?{query}"] = response.get_data().decode("utf-8", "replace")
        text = outputs[f"/reports/report.csv?{query}"].removeprefix("\ufeff")
        header = 8  # report, period, instrument, setting, units, made on, two marks at least
        numbers += [field for row in list(csv.reader(io.StringIO(text), delimiter=";"))[header:]
                    for field in row[1:] if field.isdigit()]
        response = client.get(f"/reports/report.xlsx?{query}")
        assert response.status_code == 200
        numbers += [cell.value for line in load_workbook(io.BytesIO(response.data)).active
                    .iter_rows() for cell in line if isinstance(cell.value, int)]
        with zipfile.ZipFile(io.BytesIO(response.data)) as book:
            outputs[f"xlsx?{query}"] = "".join(book.read(n).decode("utf-8", "replace")
                                               for n in book.namelist())
    assert any(">24<" in text or ";24" in text for text in outputs.values()), \
        "the screenings should be counted"
    assert any("&lt;5" in text for text in outputs.values()), "small counts are marked <5"
    assert numbers and not [n for n in numbers if 0 < int(str(n)) < 5]
    for where, text in outputs.items():
        lowered = text.lower()
        leaked = sorted(value for value in planted if value.lower() in lowered)
        assert not leaked, f"{where} contains {leaked}"
