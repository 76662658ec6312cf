"""The brief-intervention conversation checklist for one assessment."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms import HiddenField

from ..core.pathways import PATHWAYS
from ..forms.base import Form
from ..forms.conversation import field_values, read_record
from ..forms.conversation_messages import problem_texts
from ..i18n import current_lang
from ..localtime import local_today
from ..services import assessments, conversations, patients
from .context import catalogue, database, keyring
from .parking import parkable, restored_form
from .referrals import referral_actions
from .security import roles

bp = Blueprint("conversations", __name__)


class ConversationForm(Form):
    version = HiddenField()


@bp.route("/assessments/<uuid:assessment_uuid>/conversation", methods=["GET", "POST"])
@parkable()
@roles("nurse", "gp", "consultant")
def edit(assessment_uuid):
    try:
        shown = assessments.view(
            database(), keyring(), g.staff, str(assessment_uuid), action="conversation_view"
        )
    except patients.PatientError:
        abort(404)
    if shown.instrument != "audit":
        abort(404)
    if shown.void:
        flash(_("This screening is void: no conversation is recorded for it."), "info")
        return redirect(url_for("assessments.result", assessment_uuid=shown.uuid), code=303)
    checklist = catalogue().conversation(conversations.CHECKLIST)
    form = ConversationForm()
    existing = shown.conversation
    values = field_values(existing.record if existing else None)
    problems: dict[str, str] = {}
    conflict = False
    sent = restored_form() if request.method == "GET" else None
    if sent is not None:  # sent after the session had ended (web.parking): as it was sent
        values = field_values(read_record(checklist, sent))
        form.version.data = sent.get("version", "")
    elif request.method == "GET":
        form.version.data = str(existing.version) if existing else ""
        if not existing:
            weeks = conversations.weeks_for_level(
                catalogue(), shown.rule_set, shown.instrument, shown.level
            )
            if weeks:
                values["follow_up.date"] = (local_today() + timedelta(weeks=weeks)).isoformat()
            if shown.pathways:
                values["follow_up.by"] = shown.pathways[0]
            values["follow_up.repeat_audit"] = True
    elif form.validate_on_submit():
        record = read_record(checklist, request.form)
        version = form.version.data
        expected = int(version) if version and version.isascii() and version.isdigit() else None
        try:
            saved = conversations.save(
                database(),
                keyring(),
                catalogue(),
                g.staff,
                assessment_uuid=shown.uuid,
                record=record,
                expected_version=expected,
            )
        except conversations.ConversationError as err:
            values = field_values(record)
            if err.code == "conflict":
                conflict = True
                flash(
                    _(
                        "Someone else saved this conversation while you were editing it. "
                        "Nothing was overwritten: check their version below and save again."
                    ),
                    "error",
                )
                latest = assessments.view(
                    database(), keyring(), g.staff, shown.uuid, action="conversation_view"
                ).conversation
                form.version.data = str(latest.version) if latest else ""
                values = field_values(latest.record if latest else record)
            elif err.code == "past_date":
                problems["follow_up.date"] = _(
                    "The follow-up date cannot be in the past. Choose today or a later date.")
            else:
                problems.update(problem_texts(checklist, err.problems))
        else:
            flash(_("The conversation is saved."), "info")
            return _after_save(shown, saved, request.form.get("then") == "referral")
    else:
        abort(400)
    status = 409 if conflict else 422 if problems else 200
    actions = referral_actions(shown)
    return render_template(
        "conversations/edit.html",
        a=shown,
        checklist=checklist,
        form=form,
        values=values,
        problems=problems,
        lang=current_lang(),
        # the higher of the suggested level and the one chosen by clinical judgement
        required=set(checklist.required_items(max(
            shown.level or 1, checklist.chosen_level(existing.record if existing else {}) or 0))),
        referral_pathways=[action["pathway"] for action in actions],
    ), status


def _after_save(shown, saved, then_referral: bool):
    """To the result page; a plan for a pathway of another unit is a referral to send (the
    conversation itself sends nothing), and "save and send a referral" goes to the first
    referral not yet sent."""
    for pathway in saved.needs_referral:
        flash(_("The follow-up by %(pathway)s is another unit's: send a referral. The unit "
                "gets the follow-up when it accepts the referral.",
                pathway=PATHWAYS[pathway].name(current_lang())), "info")
    if then_referral:
        waiting = [action for action in referral_actions(shown)
                   if action["status"] not in ("sent", "accepted", "external")]
        if waiting:
            return redirect(waiting[0]["url"], code=303)
    return redirect(url_for("assessments.result", assessment_uuid=shown.uuid), code=303)
