"""Extending a screening to the longer instrument its result offers (a positive AUDIT-C to
the full AUDIT): items 1-3 are shown as answered in the AUDIT-C, not asked again (they are
changed only by going back to the AUDIT-C); the items asked now are those the AUDIT's skip
rules ask given them. One AUDIT is stored, linked to the AUDIT-C (services.extensions)."""

from __future__ import annotations

import json
import logging
import secrets

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..core.errors import AnswerError, IncompleteAnswers
from ..forms.instruments import ScreeningForm, answer_error_text, partial_answers, read_answers
from ..i18n import current_lang as lang
from ..services import assessments, extensions, patients, provenance
from .assessments import CLINICIANS, MEDICATION, TOKEN_SHAPE, UNAVAILABLE
from .context import catalogue, database, keyring, settings
from .context import provenance as provenance_book
from .parking import parkable, restored_form
from .security import roles

bp = Blueprint("extensions", __name__)
log = logging.getLogger("screening.web")

EXTENSION_MESSAGES = {
    "void": lambda: _("This screening is void: it cannot be extended."),
    "changed": lambda: _("The questions of this screening differ from those of the current "
                         "version of the longer questionnaire, so its answers cannot be "
                         "carried over. Fill in the whole questionnaire from the patient page."),
}


@bp.route("/assessments/<uuid:assessment_uuid>/extend", methods=["GET", "POST"])
@parkable()
@roles(*CLINICIANS)
def form(assessment_uuid):
    source_uuid = str(assessment_uuid)
    try:
        source = extensions.start(database(), keyring(), catalogue(), g.staff, source_uuid)
    except patients.PatientError:
        abort(404)
    except assessments.AlreadyExtended as done:
        flash(_("This screening was already extended: here is the result."), "info")
        return redirect(url_for("assessments.result", assessment_uuid=done.uuid), code=303)
    except extensions.ExtensionError as err:
        return _refused(err, source_uuid)
    screening_form = ScreeningForm()
    if request.method == "GET":
        sent = restored_form()  # sent after the session had ended (web.parking)
        if sent is not None:
            token = sent.get("submission_token", "")
            screening_form.submission_token.data = (
                token if TOKEN_SHAPE.fullmatch(token) else secrets.token_urlsafe(32))
            answers = partial_answers(source.target, read_answers(source.target, sent))
        else:
            screening_form.submission_token.data = secrets.token_urlsafe(32)
            answers = partial_answers(source.target, source.draft or {})
            if source.draft:
                flash(_("Your unsaved answers were restored."), "info")
        return _page(screening_form, source, answers, {}, [], 200)
    return _receive(screening_form, source)


def _refused(err: extensions.ExtensionError, source_uuid: str):
    if err.code == "not_offered":
        abort(404)
    flash(EXTENSION_MESSAGES[err.code](), "info")
    return redirect(url_for("assessments.result", assessment_uuid=source_uuid), code=303)


def _receive(screening_form: ScreeningForm, source: extensions.Source):
    target = source.target
    posted = read_answers(target, request.form)  # an item carried over: refused (400)
    answers = {k: v for k, v in posted.items() if k not in source.carried}
    errors: dict[str, str] = {}
    summary: list[str] = []
    status = 422
    if request.form.get("action") == "draft":
        try:
            extensions.save_draft(database(), keyring(), g.staff, source.uuid,
                                  partial_answers(target, answers))
        except UNAVAILABLE:
            summary.append(_unsaved_text())
            return _page(screening_form, source, answers, errors, summary, 503)
        flash(_("The answers are saved as a draft."), "info")
        return redirect(url_for("extensions.form", assessment_uuid=source.uuid), code=303)
    try:
        done = extensions.extend(
            database(), keyring(), catalogue(), g.staff,
            source_uuid=source.uuid, answers=posted,
            submission_token=screening_form.submission_token.data or "",
            lang=lang(), rule_set_id=settings().rule_set, book=provenance_book())
        return redirect(url_for("assessments.result", assessment_uuid=done.uuid), code=303)
    except assessments.AlreadyExtended as other:
        flash(_("This screening was already extended: here is the result."), "info")
        return redirect(url_for("assessments.result", assessment_uuid=other.uuid), code=303)
    except extensions.ExtensionError as err:
        return _refused(err, source.uuid)
    except assessments.ChecklistRequired:
        summary.append(_("From 65 years the medication-and-falls checklist is part of the "
                         "AUDIT, and it was not gone through with this screening. Fill in "
                         "the whole AUDIT from the patient page."))
    except IncompleteAnswers as err:
        for item_id in err.missing:
            errors[item_id] = _("Please answer this question.")
        summary.append(_("%(count)d question(s) are not answered yet.", count=len(err.missing)))
    except AnswerError as err:
        text = answer_error_text(err, target, lang())
        errors[err.item_id or "_form"] = text
        summary.append(text)
    except assessments.AssessmentError:
        abort(400)
    except provenance.ProvenanceError:
        log.error("result not stored at %s: instrument files differ from the record",
                  request.endpoint)
        summary.append(_("The result cannot be stored: the questionnaire files on this server "
                         "differ from those on record. Tell the administrator. The answers "
                         "are still here."))
        status = 503
    except UNAVAILABLE:
        log.warning("answers not saved at %s: database unavailable", request.endpoint)
        summary.append(_unsaved_text())
        status = 503
    return _page(screening_form, source, answers, errors, summary, status)


def _unsaved_text() -> str:
    return _("The answers could not be saved just now. They are still here: wait a minute and "
             "send them again.")


def _page(screening_form: ScreeningForm, source: extensions.Source, answers: dict,
          errors: dict[str, str], summary: list[str], status: int):
    target = source.target
    shown = {k: v for k, v in answers.items() if isinstance(v, int)}
    asked = source.asked(shown)
    carried = [(item, source.carried.get(item.id)) for item in target.items
               if item.id in source.carried]
    context = {"checklist": ({"not_asked": source.checklist.not_asked}
                             if source.checklist and source.checklist.not_asked
                             else {"answers": dict(source.checklist.answers)}
                             if source.checklist else {}),
               "medication": sorted(source.medication)}
    return render_template(
        "assessments/extend.html",
        form=screening_form,
        source=source,
        record=source.record,
        instrument=target,
        carried=carried,
        asked=asked,
        answers=shown,
        errors=errors,
        summary=summary,
        checklist=catalogue().instrument(MEDICATION),
        checklist_context=context,
        lang=lang(),
        skip_rules=json.dumps([{"if_zero": list(r.if_zero), "skip": list(r.skip)}
                               for r in target.skip_rules]),
    ), status


@bp.post("/assessments/<uuid:assessment_uuid>/extend/draft")
@roles(*CLINICIANS)
def autosave(assessment_uuid) -> Response:
    """The extension form's answers in progress (the form's script, on every change)."""
    target_id = request.form.get("_target", "audit")
    try:
        target = catalogue().instrument(target_id)
    except LookupError:
        abort(404)
    answers = partial_answers(target, read_answers(target, request.form))
    try:
        extensions.save_draft(database(), keyring(), g.staff, str(assessment_uuid), answers)
    except patients.PatientError:
        abort(404)
    return Response(status=204)
