"""Correcting a patient's details ("Endre pasientopplysninger"): the name, and a changed
fødselsnummer or D-number. The page opens the patient as every patient page does (care
relationship checked, the read logged); the change is ``services.patient_edits``."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..forms.patients import DetailsForm
from ..services import patient_edits, patients
from ..services.care import AccessDenied
from . import finding
from .context import database, keyring
from .patient_access import NeedsBreakGlass, opened_patient
from .security import roles

bp = Blueprint("patient_details", __name__)


@bp.route("/patients/<uuid:patient_uuid>/details", methods=["GET", "POST"])
@roles("nurse", "gp", "consultant")
def edit(patient_uuid):
    form = DetailsForm()
    emergency = None
    if form.validate_on_submit():
        try:
            done = patient_edits.correct(database(), keyring(), g.staff, str(patient_uuid),
                                         name=form.name.data or "", fnr=form.fnr.data or None)
        except AccessDenied:
            raise NeedsBreakGlass(str(patient_uuid)) from None
        except patients.PatientError as err:
            if err.code == "not_found":
                abort(404)
            target = form.name if err.code == "bad_name" else form.fnr
            target.errors = [finding.fnr_message(err.code)]
            if err.code == "fnr_unavailable":
                emergency = finding.emergency_form(form.fnr.data or "")
        else:
            if not done.changed:
                flash(_("Nothing was changed."), "info")
            else:
                flash(_("The patient's details are corrected."), "info")
            if done.details and done.screenings:
                flash(_("Birth date or sex changed. The screenings made before (%(num)d) were "
                        "scored with the old details: check their results, and mark those "
                        "that are wrong.", num=done.screenings), "info")
            return redirect(url_for("patients.page", patient_uuid=patient_uuid), code=303)
    with opened_patient(str(patient_uuid)) as (record, _session, _row):
        pass
    if request.method == "GET":
        form.name.data = record.name
    status = 422 if request.method == "POST" else 200
    return render_template("patients/details.html", form=form, record=record,
                           emergency=emergency), status
