"""Finding and registering patients (the find page's work is in ``web.finding``), the
patient page, break-the-glass, and the list of who has seen the record (the patient's right
of access)."""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..forms.patients import BreakGlassForm, SearchForm
from ..models import Unit
from ..models.sealing import Undecryptable
from ..services import assessments, care, follow_ups, patients, referrals
from . import finding
from .access_history import render as access_page
from .charts import trend_svg
from .context import database, keyring, older_age
from .patient_access import opened_patient
from .security import roles

bp = Blueprint("patients", __name__)
CLINICIANS = ("nurse", "gp", "consultant")


@bp.route("/patients", methods=["GET", "POST"])
@roles(*CLINICIANS)
def find():
    form = SearchForm()
    if form.validate_on_submit():
        return finding.searched(form)
    if request.method == "POST":
        code = "too_long" if (form.query.data or "").strip() else "empty"
        form.query.errors = [finding.SEARCH_MESSAGES[code]()]
        return render_template("patients/find.html", form=form), 422
    return finding.find_page()


@bp.post("/patients/emergency")
@roles(*CLINICIANS)
def emergency():
    return finding.emergency()


@bp.route("/patients/new", methods=["GET", "POST"])
@roles(*CLINICIANS)
def register():
    form = finding.register_form()
    emergency_form = None
    if not form.unit.choices:
        flash(_("You are not a member of any unit. Ask an administrator."), "error")
    if form.validate_on_submit():
        try:
            new_uuid = patients.register(
                database(),
                keyring(),
                g.staff,
                fnr=form.fnr.data or "",
                name=form.name.data or "",
                unit_id=form.unit.data,
            )
        except patients.PatientError as err:
            target = (
                form.name
                if err.code == "bad_name"
                else form.unit
                if err.code == "unknown_unit"
                else form.fnr
            )
            target.errors = [finding.fnr_message(err.code)]
            if err.code == "fnr_unavailable":
                emergency_form = finding.emergency_form(form.fnr.data or "")
        else:
            flash(_("The patient is registered."), "info")
            return redirect(url_for("patients.page", patient_uuid=new_uuid), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("patients/register.html", form=form,
                           emergency=emergency_form), status


@bp.get("/patients/<uuid:patient_uuid>")
@roles(*CLINICIANS)
def page(patient_uuid):
    with opened_patient(str(patient_uuid), remember=True) as (record, session, row):
        history = assessments.history(session, row)
        tasks = follow_ups.follow_ups_of(session, row)
        referral_lines = referrals.lines(session, keyring(), row)
        unit_names = dict(session.execute(select(Unit.id, Unit.name)).all())
        talked = {c.assessment_id for c in _conversations(session, row)}
    audits = [a for a in history if a.instrument == "audit" and a.voided_at is None]
    chart = (
        trend_svg(
            [(a.created_at, a.total, a.zone) for a in audits],
            _("AUDIT totals over time, on the zone bands"),
        )
        if audits
        else None
    )
    return render_template(
        "patients/page.html",
        record=record,
        history=history,
        chart=chart,
        follow_ups=tasks,
        referrals=referral_lines,
        unit_names=unit_names,
        talked=talked,
        flags_of=lambda a: json.loads(a.flags),
        pathways_of=lambda a: json.loads(a.pathways),
        older=record.age >= older_age(),
    )


def _conversations(session, row):
    from ..models import Conversation

    return session.scalars(select(Conversation).where(Conversation.patient_id == row.id)).all()


@bp.route("/patients/<uuid:patient_uuid>/break-glass", methods=["GET", "POST"])
@roles(*CLINICIANS)
def break_glass(patient_uuid):
    form = BreakGlassForm()
    if form.validate_on_submit():
        try:
            care.break_glass(
                database(), keyring(), g.staff, str(patient_uuid), form.reason.data or ""
            )
        except patients.PatientError:
            abort(404)
        except care.CareError as err:
            if err.code == "unknown_patient":
                abort(404)
            if err.code == "not_clinician":
                abort(403)
            if err.code == "undecryptable":
                raise Undecryptable("patients", "data_key") from None
            form.reason.errors = [_("Give a reason of 10 to 500 characters.")]
        else:
            flash(
                _("Emergency access granted for 24 hours. It is logged and will be reviewed."),
                "info",
            )
            return redirect(url_for("patients.page", patient_uuid=patient_uuid), code=303)
    return render_template(
        "patients/break_glass.html", form=form, patient_uuid=str(patient_uuid)
    ), (403 if request.method == "GET" else 422)


@bp.get("/patients/<uuid:patient_uuid>/access-log")
@roles(*CLINICIANS)
def access_history(patient_uuid):
    return access_page(str(patient_uuid))
