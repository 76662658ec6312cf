"""Referrals: sending one from an assessment's pathway (the receiving unit, the reason, the
patient's consent), and the receiving unit's page, where it is accepted or returned."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms import SelectChoice

from ..forms.follow_ups import AcceptForm, ReferralForm, ReturnForm
from ..i18n import current_lang
from ..localtime import local_today
from ..services import patients, referral_answers, referrals
from ..services.follow_ups import PATHWAY_UNIT_KIND
from .context import catalogue, database, db_session, keyring
from .parking import parkable, restored_form
from .security import roles

bp = Blueprint("referrals", __name__)
CLINICIANS = ("nurse", "gp", "consultant")
PATHWAY = "any(" + ", ".join(PATHWAY_UNIT_KIND) + "):pathway"


def messages() -> dict[str, str]:
    return {
        "no_receiver": _("There is no active unit to send this referral to. Ask an "
                         "administrator."),
        "bad_unit": _("Choose one of the receiving units."),
        "reason_missing": _("Give the reason for the referral."),
        "reason_too_long": _("The reason is too long (at most 2000 characters)."),
        "consent_missing": _("Record whether the patient consents."),
        "note_missing": _("Write a note to the sender."),
        "note_too_long": _("The note is too long (at most 2000 characters)."),
        "past_date": _("The date cannot be in the past. Choose today or a later date."),
        "bad_mode": _("Choose the mode."),
    }


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"referral_actions": referral_actions}


def referral_actions(shown: Any) -> list[dict[str, Any]]:
    """For the result page: each recommended pathway of the assessment that goes to another
    unit (or, for a GP, to specialist care), with the newest referral's status, if any."""
    user = g.get("staff")
    unit_id = getattr(getattr(shown, "patient", None), "unit_id", None)
    if user is None or user.role not in CLINICIANS or not shown.pathways or unit_id is None:
        return []
    session = db_session()
    kinds = referrals.own_kinds(session, user, unit_id)
    statuses = referrals.statuses_of(session, shown.uuid)
    out = []
    for pathway in shown.pathways:
        found = referrals.route(pathway, user.role, kinds)
        if found is not None:
            out.append({"pathway": pathway, "external": found.kind == "external",
                        "status": statuses.get(pathway),
                        "url": url_for("referrals.new", assessment_uuid=shown.uuid,
                                       pathway=pathway)})
    return out


def _prepare(assessment_uuid: str, pathway: str) -> referrals.Prepared:
    try:
        return referrals.prepare(database(), keyring(), g.staff, assessment_uuid, pathway)
    except patients.PatientError:
        abort(404)
    except referrals.ReferralError:
        abort(404)  # followed up by the patient's own unit: there is nothing to send


def _default_reason(prepared: referrals.Prepared) -> str:
    reason = prepared.reasons.get(current_lang()) or prepared.reasons.get("nb") or ""
    if prepared.pathway == "specialist_referral" and not prepared.route.kind == "external":
        return _("Referral to specialist care (TSB) recommended: %(reason)s", reason=reason)
    return reason


@bp.route(f"/assessments/<uuid:assessment_uuid>/referrals/<{PATHWAY}>",
          methods=["GET", "POST"])
@parkable()
@roles(*CLINICIANS)
def new(assessment_uuid, pathway):
    prepared = _prepare(str(assessment_uuid), pathway)
    sent_before = restored_form() if request.method == "GET" else None
    form = ReferralForm(formdata=sent_before) if sent_before is not None else ReferralForm()
    form.unit.choices = [SelectChoice(value=unit_id, label=name)
                         for unit_id, name in prepared.units]
    external = prepared.route.kind == "external"
    if external:
        del form.unit
    status = 200
    if sent_before is not None:
        pass  # as sent after the session had ended (web.parking): shown to be sent again
    elif not form.is_submitted():
        if not external and prepared.default_unit is not None:
            form.unit.data = prepared.default_unit
        form.reason.data = _default_reason(prepared)
        if prepared.consent is not None:
            form.consent.data = "yes" if prepared.consent else "no"
    elif form.validate():
        try:
            sent = referrals.send(
                database(), keyring(), g.staff, prepared.assessment_uuid, pathway,
                unit_id=None if external else form.unit.data, reason=form.reason.data or "",
                consent=form.consent.data == "yes")
        except referrals.ReferralError as err:
            target = {"bad_unit": "unit", "no_receiver": "unit", "consent_missing": "consent"}\
                .get(err.code, "reason")
            getattr(form, target, form.reason).errors = [messages().get(err.code, "")]
            status = 422
        except patients.PatientError:
            abort(404)
        else:
            if sent.duplicate:
                flash(_("This referral was sent already. Nothing new was sent."), "info")
            elif sent.status == "consent_refused":
                flash(_("The patient did not consent. That is recorded, and nothing was sent."),
                      "info")
            elif sent.status == "external":
                flash(_("Your referral to specialist care is recorded."), "info")
            else:
                flash(_("The referral is sent to %(unit)s. The unit gets access to the patient "
                        "when it accepts the referral.", unit=sent.to_unit_name or ""), "info")
            return redirect(url_for("assessments.result",
                                    assessment_uuid=prepared.assessment_uuid), code=303)
    else:
        status = 422
    return render_template("referrals/new.html", prepared=prepared, form=form,
                           external=external), status


@bp.get("/referrals/<uuid:referral_uuid>")
@roles(*CLINICIANS)
def view(referral_uuid):
    return _page(str(referral_uuid), AcceptForm(formdata=None), ReturnForm(formdata=None))


def _page(referral_uuid: str, accept_form: AcceptForm, return_form: ReturnForm,
          status: int = 200, fresh_accept: bool = True):
    """The referral's page; re-shown after a refused answer (``status`` 422) only to the
    receiving unit: anyone else posting an answer is refused (and logged) as the answer
    itself would be."""
    try:
        shown = referral_answers.view(database(), keyring(), catalogue(), g.staff, referral_uuid,
                               receiver_only=status != 200)
    except patients.PatientError:
        abort(404)
    if fresh_accept:
        accept_form.due_date.data = shown.default_due
        accept_form.mode.data = shown.default_mode
    return render_template("referrals/view.html", r=shown, accept_form=accept_form,
                           return_form=return_form, today=local_today()), status


@bp.post("/referrals/<uuid:referral_uuid>/accept")
@roles(*CLINICIANS)
def accept(referral_uuid):
    form = AcceptForm()
    if not form.validate():
        return _page(str(referral_uuid), form, ReturnForm(formdata=None), 422, False)
    try:
        answered = referral_answers.accept(database(), keyring(), g.staff, str(referral_uuid),
                                    due_date=form.due_date.data, mode=form.mode.data or "",
                                    note=form.accept_note.data)
    except patients.PatientError:
        abort(404)
    except referrals.ReferralError as err:
        target = form.due_date if err.code == "past_date" else \
            form.mode if err.code == "bad_mode" else form.accept_note
        target.errors = [messages().get(err.code, "")]
        return _page(str(referral_uuid), form, ReturnForm(formdata=None), 422, False)
    if answered.already:
        flash(_("This referral was answered already. Nothing was changed."), "info")
    else:
        flash(_("The referral is accepted. The patient's record is now open to your unit, "
                "and the follow-up is on your worklist."), "info")
    return redirect(url_for("referrals.view", referral_uuid=referral_uuid), code=303)


@bp.post("/referrals/<uuid:referral_uuid>/return")
@roles(*CLINICIANS)
def give_back(referral_uuid):
    form = ReturnForm()
    if not form.validate():
        return _page(str(referral_uuid), AcceptForm(formdata=None), form, 422)
    try:
        answered = referral_answers.give_back(database(), keyring(), g.staff, str(referral_uuid),
                                       form.return_note.data or "")
    except patients.PatientError:
        abort(404)
    except referrals.ReferralError as err:
        form.return_note.errors = [messages().get(err.code, "")]
        return _page(str(referral_uuid), AcceptForm(formdata=None), form, 422)
    if answered.already:
        flash(_("This referral was answered already. Nothing was changed."), "info")
    else:
        flash(_("The referral is returned to the sender with your note."), "info")
    return redirect(url_for("worklist.index"), code=303)
