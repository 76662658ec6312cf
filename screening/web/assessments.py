"""Screening a patient: the questionnaire (AUDIT, DUDIT) with the medication-and-falls
checklist, drafts, the result page, the printable patient sheet and the FHIR export."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..core.errors import AnswerError, IncompleteAnswers, UnknownId
from ..core.scoring import asked_items
from ..forms.instruments import (
    ScreeningForm,
    answer_error_text,
    partial_answers,
    read_answers,
    read_medication,
)
from ..i18n import current_lang as lang
from ..services import assessments, patients
from ..services.care import AccessDenied
from ..services.conversations import agreed_goal
from .context import catalogue, database, keyring, older_age, settings
from .patient_access import NeedsBreakGlass, opened_patient
from .security import roles

bp = Blueprint("assessments", __name__)
log = logging.getLogger("screening.web")

QUESTIONNAIRES = ("audit", "dudit")
MEDICATION = "medication_falls"
CLINICIANS = ("nurse", "gp", "consultant")


def _instrument(instrument_id: str):
    if instrument_id not in QUESTIONNAIRES:
        abort(404)
    try:
        return catalogue().instrument(instrument_id)
    except UnknownId:
        abort(404)


def _default_setting() -> str:
    return "gp_practice" if g.staff.role == "gp" else "home_care"


# The database cannot take the write just now (disk full, database down or overloaded).
UNAVAILABLE = (OperationalError, PoolTimeout)


@dataclass(frozen=True)
class _Unopened:
    """Stands in for the patient when the record could not be opened (its read could not be
    logged): the form comes back with the answers, without the patient's name."""

    uuid: str
    name: str = ""
    age: int = 0


@bp.route("/patients/<uuid:patient_uuid>/screen/<instrument_id>", methods=["GET", "POST"])
@roles(*CLINICIANS)
def screen(patient_uuid, instrument_id: str):
    instrument = _instrument(instrument_id)
    checklist = catalogue().instrument(MEDICATION)
    form = ScreeningForm()
    if request.method == "GET":
        record, draft = _open_for_form(str(patient_uuid), instrument_id, with_draft=True)
        form.submission_token.data = secrets.token_urlsafe(32)
        form.setting.data = (draft or {}).get("_setting") or _default_setting()
        if draft:
            flash(_("Your unsaved answers were restored."), "info")
        saved = draft or {}
        return _form_page(form, record, instrument, checklist, partial_answers(instrument, saved),
                          saved.get("_medication", {}), {}, [], 200)
    try:
        return _receive(patient_uuid, instrument, checklist, form)
    except patients.PatientError:
        abort(404)
    except AccessDenied:
        raise NeedsBreakGlass(str(patient_uuid)) from None


def _receive(patient_uuid, instrument, checklist, form: ScreeningForm):
    """A posted form: submit it (the service opens the patient, checks the care relationship
    and logs the creation, once), save it as a draft, or show it again with what is wrong.
    The patient is opened here only when the form is shown again."""
    answers: dict = read_answers(instrument, request.form)
    medication_answers = _posted_medication(checklist)
    errors: dict[str, str] = {}
    summary: list[str] = []
    unsaved = False  # the database refused the write: show the answers again, with 503
    if not form.validate_on_submit():
        summary.append(_("Choose where the screening takes place."))
    else:
        medication, med_errors = read_medication(checklist, request.form)
        for item_id in med_errors:
            errors[f"med_{item_id}"] = _("Choose yes or no.")
        if request.form.get("action") == "draft":
            try:
                _save_draft(
                    str(patient_uuid), instrument, answers, medication_answers, form.setting.data
                )
            except UNAVAILABLE:
                unsaved = True
            else:
                flash(_("The answers are saved as a draft."), "info")
                return redirect(
                    url_for(
                        "assessments.screen",
                        patient_uuid=patient_uuid,
                        instrument_id=instrument.id,
                    )
                )
        elif not errors:
            try:
                done = assessments.submit(
                    database(),
                    keyring(),
                    catalogue(),
                    g.staff,
                    patient_uuid=str(patient_uuid),
                    instrument_id=instrument.id,
                    answers=answers,
                    setting=form.setting.data or "",
                    medication=medication,
                    submission_token=form.submission_token.data or "",
                    lang=lang(),
                    rule_set_id=settings().rule_set,
                )
                return redirect(url_for("assessments.result", assessment_uuid=done.uuid), code=303)
            except IncompleteAnswers as err:
                for item_id in err.missing:
                    errors[item_id] = _("Please answer this question.")
                summary.append(
                    _("%(count)d question(s) are not answered yet.", count=len(err.missing))
                )
            except AnswerError as err:
                text = answer_error_text(err, instrument, lang())
                errors[err.item_id or "_form"] = text
                summary.append(text)
            except assessments.AssessmentError:
                abort(400)
            except UNAVAILABLE:
                # Rolled back as a whole; the same submission token is kept in the form, so
                # sending it again stores the assessment exactly once.
                unsaved = True
    record: object = _Unopened(str(patient_uuid))
    if not unsaved:
        try:
            record, _draft = _open_for_form(str(patient_uuid), instrument.id, with_draft=False)
        except UNAVAILABLE:
            unsaved = True
    if unsaved:
        log.warning("answers not saved at %s: database unavailable", request.endpoint)
        summary.insert(
            0,
            _(
                "The answers could not be saved just now. They are still here: "
                "wait a minute and send them again."
            ),
        )
    shown = {k: v for k, v in answers.items() if isinstance(v, int)}
    return _form_page(form, record, instrument, checklist, shown, medication_answers, errors,
                      summary, 503 if unsaved else 422)


def _open_for_form(patient_uuid: str, instrument_id: str, with_draft: bool):
    """The patient (read logged as ``draft_view``) and, if asked, this user's draft."""
    opening = opened_patient(patient_uuid, action="draft_view", afresh=False)
    with opening as (record, session, row):
        draft = (assessments.load_draft(session, keyring(), g.staff, row, instrument_id)
                 if with_draft else None)
    return record, draft


def _form_page(form, record, instrument, checklist, answers: dict, medication_answers: dict,
               errors: dict[str, str], summary: list[str], status: int):
    shown_answers = {k: v for k, v in answers.items() if isinstance(v, int)}
    return render_template(
        "assessments/screen.html",
        form=form,
        record=record,
        instrument=instrument,
        checklist=checklist,
        show_checklist_open=isinstance(record, _Unopened) or record.age >= older_age(),
        answers=shown_answers,
        medication_answers=medication_answers,
        asked=asked_items(instrument, shown_answers),
        errors=errors,
        summary=summary,
        lang=lang(),
        skip_rules=json.dumps(
            [{"if_zero": list(r.if_zero), "skip": list(r.skip)} for r in instrument.skip_rules]
        ),
    ), status


def _posted_medication(checklist) -> dict:
    return {
        k: request.form.get(f"med_{k}")
        for k in (i.id for i in checklist.items)
        if request.form.get(f"med_{k}")
    }


def _save_draft(
    patient_uuid: str,
    instrument,
    answers: dict,
    medication: dict,
    setting: str | None,
) -> None:
    data: dict[str, object] = dict(partial_answers(instrument, answers))
    data["_medication"] = {k: v for k, v in medication.items() if v in ("0", "1")}
    if setting in ("home_care", "gp_practice"):
        data["_setting"] = setting
    assessments.save_draft(database(), keyring(), g.staff, patient_uuid, instrument.id, data)


@bp.post("/patients/<uuid:patient_uuid>/screen/<instrument_id>/draft")
@roles(*CLINICIANS)
def autosave(patient_uuid, instrument_id: str) -> Response:
    """Called by the form's script on every change (CSRF header), so that an expired
    session or a lost connection loses nothing."""
    instrument = _instrument(instrument_id)
    checklist = catalogue().instrument(MEDICATION)
    answers = read_answers(instrument, request.form)
    medication = {i.id: request.form.get(f"med_{i.id}", "") for i in checklist.items}
    try:
        _save_draft(str(patient_uuid), instrument, answers, medication, request.form.get("setting"))
    except patients.PatientError:
        abort(404)
    return Response(status=204)


@bp.get("/assessments/<uuid:assessment_uuid>")
@roles(*CLINICIANS)
def result(assessment_uuid):
    shown = _view(str(assessment_uuid))
    instrument = catalogue().instrument(shown.instrument)
    return render_template("assessments/result.html", a=shown, instrument=instrument, lang=lang())


@bp.get("/assessments/<uuid:assessment_uuid>/sheet")
@roles(*CLINICIANS)
def sheet(assessment_uuid):
    shown = _view(str(assessment_uuid))
    goal = agreed_goal(shown.conversation.record if shown.conversation else None)
    return render_template(
        "assessments/sheet.html",
        a=shown,
        instrument=catalogue().instrument(shown.instrument),
        goal=goal,
    )


@bp.get("/assessments/<uuid:assessment_uuid>/fhir.json")
@roles(*CLINICIANS)
def fhir_export(assessment_uuid):
    from ..core.fhir_response import assessment_bundle

    shown = _view(str(assessment_uuid), action="assessment_export")
    bundle = assessment_bundle(
        catalogue().instrument(shown.instrument),
        shown.uuid,
        shown.answers,
        shown.total,
        shown.created_at.isoformat(),
        shown.context.get("explanation", {}).get("subscores", {}),
        fnr=shown.patient.fnr,
        name=shown.patient.name,
        lang=lang(),
    )
    response = Response(
        json.dumps(bundle, ensure_ascii=False, indent=2), mimetype="application/fhir+json"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{shown.instrument}-{shown.uuid}.fhir.json"'
    )
    return response


def _view(assessment_uuid: str, action: str = "assessment_view"):
    try:
        return assessments.view(database(), keyring(), g.staff, assessment_uuid, action=action)
    except patients.PatientError:
        abort(404)
