"""The find page's work for ``patients.find`` and ``patients.emergency``: one search field
for a name, a birth date or a fødselsnummer, the lists to pick a patient from, and the
neutral answer for a number that is not registered in the user's units.

That answer is the same page, status and text whether nobody has the number or a patient
of another unit has it (``services.patient_search``); it offers registration and emergency
access ("Nødtilgang") with a reason, which is the only way to learn more.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ..forms.patients import EmergencyForm, RegisterForm, SearchForm
from ..models import Unit
from ..models.sealing import Undecryptable
from ..services import care, patient_lists, patient_search, patients
from .context import database, db_session, keyring

EMERGENCY_PREFIX = "emergency"

FNR_MESSAGES = {
    "invalid_fnr": lambda: _("This is not a valid fødselsnummer or D-number. Check the 11 digits."),
    "duplicate_fnr": lambda: _("A patient with this fødselsnummer is already registered."),
    "fnr_unavailable": lambda: _(
        "No patient with this number can be registered in your units. If the person may be "
        "registered in another unit, you can ask for emergency access below."),
    "bad_name": lambda: _("Enter the patient's name (1 to 200 characters)."),
    "unknown_unit": lambda: _("Choose one of your units."),
}
SEARCH_MESSAGES = {
    "empty": lambda: _("Type a name, a birth date or a fødselsnummer."),
    "too_long": lambda: _("Type at most six words (100 characters)."),
    "bad_date": lambda: _("There is no such birth date. Type it as dd.mm.åååå."),
    "bad_query": lambda: _(
        "Type a name, a birth date as dd.mm.åååå (or ddmmåå), or the 11 digits of a "
        "fødselsnummer."),
    "two_dates": lambda: _("Type one birth date only."),
}
REASON_MESSAGE = lambda: _("Give a reason of 10 to 500 characters.")  # noqa: E731


def fnr_message(code: str) -> str:
    return FNR_MESSAGES.get(code, FNR_MESSAGES["invalid_fnr"])()


def register_form(**kwargs: object) -> RegisterForm:
    form = RegisterForm(**kwargs)
    units = db_session().execute(
        select(Unit.id, Unit.name).where(Unit.id.in_(g.staff.unit_ids)).order_by(Unit.name)
    ).all()
    form.unit.choices = [SelectChoice(value=unit_id, label=name) for unit_id, name in units]
    return form


def emergency_form(fnr: str | None = None) -> EmergencyForm:
    form = EmergencyForm(prefix=EMERGENCY_PREFIX)
    if fnr is not None:
        form.fnr.data = fnr
    return form


def find_page() -> str:
    """The find page as first shown: the search field and the lists (each patient listed
    is logged)."""
    lists = patient_lists.find_page_lists(database(), keyring(), g.staff)
    return render_template("patients/find.html", form=SearchForm(), lists=lists)


def searched(form: SearchForm) -> Response | tuple[str, int]:
    """The answer to a search that passed the form's checks."""
    try:
        query = patient_search.parse_query(form.query.data or "")
    except patient_search.SearchError as err:
        form.query.errors = [SEARCH_MESSAGES[err.code]()]
        return render_template("patients/find.html", form=form), 422
    if query.fnr is None:
        found = patient_search.search_names(database(), keyring(), g.staff, query)
        return render_template("patients/find.html", form=form, found=found), 200
    try:
        patient_uuid = patient_search.search_fnr(database(), keyring(), g.staff, query.fnr)
    except patients.PatientError as err:
        form.query.errors = [fnr_message(err.code)]
        return render_template("patients/find.html", form=form), 422
    if patient_uuid is not None:
        return redirect(url_for("patients.page", patient_uuid=patient_uuid), code=303)
    return not_in_your_units(form, query.fnr), 200


def not_in_your_units(form: SearchForm, fnr: str, emergency: EmergencyForm | None = None,
                      unknown: bool = False) -> str:
    """The neutral page for a number not registered in the user's units. ``unknown``:
    after emergency access was asked for, no patient has the number at all."""
    return render_template(
        "patients/find.html", form=form, unknown_fnr=fnr, unknown_anywhere=unknown,
        register_form=register_form(fnr=fnr),
        emergency=None if unknown else (emergency or emergency_form(fnr)))


def emergency() -> Response | tuple[str, int]:
    """Emergency access by fødselsnummer (``POST /patients/emergency``)."""
    form = emergency_form()
    search = SearchForm(formdata=None)
    fnr = (form.fnr.data or "").strip()
    search.query.data = fnr
    if not form.validate_on_submit():
        if form.fnr.errors or not fnr:
            search.query.errors = [FNR_MESSAGES["invalid_fnr"]()]
            return render_template("patients/find.html", form=search), 422
        form.reason.errors = [REASON_MESSAGE()]
        return not_in_your_units(search, fnr, form), 422
    try:
        found = patient_search.emergency_by_fnr(database(), keyring(), g.staff, fnr,
                                                form.reason.data or "")
    except patients.PatientError as err:
        search.query.errors = [fnr_message(err.code)]
        return render_template("patients/find.html", form=search), 422
    except care.CareError as err:
        if err.code == "undecryptable":
            raise Undecryptable("patients", "data_key") from None
        if err.code == "not_clinician":
            abort(403)
        form.reason.errors = [REASON_MESSAGE()]
        return not_in_your_units(search, fnr, form), 422
    if found is None:
        return not_in_your_units(search, fnr, unknown=True), 200
    if found.granted:
        flash(_("Emergency access granted for 24 hours. It is logged and will be reviewed."),
              "info")
    return redirect(url_for("patients.page", patient_uuid=found.uuid), code=303)
