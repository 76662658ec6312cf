"""The worklist of follow-ups for the clinician's units."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from ..forms.base import Form
from ..localtime import local_today
from ..services import conversations, patients
from .context import database, keyring
from .parking import parkable
from .security import roles

bp = Blueprint("worklist", __name__)


@bp.get("/worklist")
@roles("nurse", "gp", "consultant")
def index():
    today = local_today()
    week_end = today + timedelta(days=6 - today.weekday())
    tasks = conversations.worklist(database(), keyring(), g.staff, today)
    groups = {
        "overdue": [t for t in tasks if t.status == "open" and t.due_date < today],
        "this_week": [t for t in tasks if t.status == "open" and today <= t.due_date <= week_end],
        "later": [t for t in tasks if t.status == "open" and t.due_date > week_end],
        "done": [t for t in tasks if t.status == "done"],
    }
    return render_template("worklist/index.html", groups=groups, form=Form(), today=today)


@bp.post("/follow-ups/<uuid:follow_up_uuid>/done")
@parkable(back="worklist.index")
@roles("nurse", "gp", "consultant")
def done(follow_up_uuid):
    form = Form()
    if not form.validate_on_submit():
        abort(400)
    try:
        patient_uuid, repeat = conversations.mark_done(database(), keyring(), g.staff,
                                                       str(follow_up_uuid))
    except patients.PatientError:
        abort(404)
    flash(_("The follow-up is marked as done."), "info")
    if repeat:
        flash(_("A repeat AUDIT was planned: fill it in now."), "info")
        return redirect(url_for("assessments.screen", patient_uuid=patient_uuid,
                                instrument_id="audit"), code=303)
    return redirect(url_for("worklist.index"), code=303)
