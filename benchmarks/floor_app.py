"""The floor of ``benchmarks/http.py``: the app itself, with one extra route that does only
the work every patient page must do, and nothing else.

``GET /floor/patients/<uuid>`` goes through the app's whole request handling (the signed
session cookie, the session looked up in the database, the login and role checks, the
security headers) and then opens the patient as every patient page does
(:func:`screening.web.patient_access.opened_patient`: the care relationship checked, the
sealed fields opened, the read appended to the hash-chained access log and committed). It
answers a short text line: no template, no form, no scoring, no submission.

So the floor's throughput is a ceiling for any page of the app that shows a patient, set
by what the design requires of every such page (issue 5: sessions in the database;
issue 4: sealed fields; every access logged). ``benchmarks/http.py`` reports it beside the
bare baseline and the submission path: the bare/floor ratio is what the requirements cost,
floor/app what the pages add on top.

The route exists only in this module; the app that ``wsgi.py`` serves has no such route.
It runs with the app's settings from the environment, like ``wsgi.py``:

    SCREENING_ENV=production ... gunicorn -c deploy/gunicorn.conf.py benchmarks.floor_app:app
"""

from __future__ import annotations

from uuid import UUID

from flask import Response

from screening import create_app
from screening.web.patient_access import opened_patient
from screening.web.security import roles

app = create_app()


@app.get("/floor/patients/<uuid:patient_uuid>")
@roles("nurse", "gp", "consultant")
def floor(patient_uuid: UUID) -> Response:
    with opened_patient(str(patient_uuid)) as (record, _session, _row):
        return Response(f"{record.age}\n", mimetype="text/plain")
