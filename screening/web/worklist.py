"""The worklist of follow-ups for the clinician's units (filters: mine or my units; all,
due today or overdue), the referrals waiting for those units, and one follow-up's page,
where it is closed with its outcome."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..forms.base import Form
from ..forms.follow_ups import CloseForm
from ..localtime import format_date, local_today
from ..services import follow_ups, patients, worklist
from .context import database, keyring
from .parking import parkable, restored_form
from .security import roles

bp = Blueprint("worklist", __name__)
CLINICIANS = ("nurse", "gp", "consultant")


def follow_up_messages() -> dict[str, str]:
    return {
        "past_date": _("The date cannot be in the past. Choose today or a later date."),
        "date_missing": _("Choose the new date."),
        "note_too_long": _("The note is too long (at most 2000 characters)."),
        "bad_outcome": _("Choose the outcome."),
    }


@bp.get("/worklist")
@roles(*CLINICIANS)
def index():
    today = local_today()
    week_end = today + timedelta(days=6 - today.weekday())
    shown = worklist.worklist(database(), keyring(), g.staff,
                              who=request.args.get("who", "unit"),
                              when=request.args.get("when", "all"), today=today)
    tasks = shown.open
    if shown.when == "all":
        groups = [
            ("overdue", _("Overdue"), [t for t in tasks if t.due_date < today]),
            ("this_week", _("Due this week"),
             [t for t in tasks if today <= t.due_date <= week_end]),
            ("later", _("Later"), [t for t in tasks if t.due_date > week_end]),
        ]
    elif shown.when == "today":
        groups = [("today", _("Due today"), tasks)]
    else:
        groups = [("overdue", _("Overdue"), tasks)]
    return render_template("worklist/index.html", shown=shown, groups=groups, today=today)


@bp.get("/follow-ups/<uuid:follow_up_uuid>")
@roles(*CLINICIANS)
def follow_up(follow_up_uuid):
    sent = restored_form()  # an outcome sent after the session had ended (web.parking)
    return _page(str(follow_up_uuid), CloseForm(formdata=sent))


def _page(follow_up_uuid: str, form: CloseForm, status: int = 200):
    try:
        task = follow_ups.view(database(), keyring(), g.staff, follow_up_uuid)
    except patients.PatientError:
        abort(404)
    return render_template("worklist/follow_up.html", task=task, form=form, today=local_today(),
                           take_form=Form()), status


@bp.post("/follow-ups/<uuid:follow_up_uuid>/close")
@parkable(back="worklist.follow_up")
@roles(*CLINICIANS)
def close(follow_up_uuid):
    form = CloseForm()
    if not form.validate():
        return _page(str(follow_up_uuid), form, 422)
    try:
        closed = follow_ups.close(database(), keyring(), g.staff, str(follow_up_uuid),
                                  form.outcome.data or "", new_date=form.new_date.data,
                                  note=form.note.data)
    except patients.PatientError:
        abort(404)
    except follow_ups.FollowUpError as err:
        message = follow_up_messages().get(err.code, _("Choose the outcome."))
        target = form.note if err.code == "note_too_long" else \
            form.outcome if err.code == "bad_outcome" else form.new_date
        target.errors = [message]
        return _page(str(follow_up_uuid), form, 422)
    if closed.already:
        flash(_("This follow-up was already closed. Nothing was changed."), "info")
    elif closed.outcome == "rescheduled":
        flash(_("The follow-up is moved to %(date)s.", date=format_date(form.new_date.data)),
              "info")
    else:
        flash(_("The outcome is saved."), "info")
    return redirect(url_for("worklist.follow_up", follow_up_uuid=follow_up_uuid), code=303)


@bp.post("/follow-ups/<uuid:follow_up_uuid>/take")
@roles(*CLINICIANS)
def take(follow_up_uuid):
    try:
        follow_ups.take_over(database(), keyring(), g.staff, str(follow_up_uuid))
    except patients.PatientError:
        abort(404)
    flash(_("You are now responsible for this follow-up."), "info")
    return redirect(url_for("worklist.follow_up", follow_up_uuid=follow_up_uuid), code=303)
