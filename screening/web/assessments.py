"""Screening a patient: the questionnaire (AUDIT, AUDIT-C, DUDIT) with the medication-and-falls
checklist, drafts, the result page, the printable patient sheet and the FHIR export."""

from __future__ import annotations

import json
import logging
import re
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
    read_checklist,
)
from ..i18n import current_lang as lang
from ..localtime import local_date, local_today
from ..services import assessments, patients
from ..services.care import AccessDenied
from ..services.provenance import ProvenanceError
from .context import catalogue, database, keyring, older_age, provenance, settings
from .parking import parkable, restored_form
from .patient_access import NeedsBreakGlass, opened_patient
from .security import roles

bp = Blueprint("assessments", __name__)
log = logging.getLogger("screening.web")

QUESTIONNAIRES = ("audit", "audit_c", "dudit")
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,64}")
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
@parkable()
@roles(*CLINICIANS)
def screen(patient_uuid, instrument_id: str):
    instrument = _instrument(instrument_id)
    checklist = catalogue().instrument(MEDICATION)
    form = ScreeningForm()
    if request.method == "GET":
        sent = restored_form()  # answers sent after the session had ended (web.parking)
        record, draft = _open_for_form(str(patient_uuid), instrument_id,
                                       with_draft=sent is None)
        if sent is not None:
            token = sent.get("submission_token", "")
            form.submission_token.data = (token if TOKEN_SHAPE.fullmatch(token)
                                          else secrets.token_urlsafe(32))
            form.setting.data = sent.get("setting") or _default_setting()
            return _form_page(form, record, instrument, checklist,
                              partial_answers(instrument, read_answers(instrument, sent)),
                              _posted_medication(checklist, sent), {}, [], 200)
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
    refused = False  # the files differ from the record (services.provenance): 503 too
    if not form.validate_on_submit():
        summary.append(_("Choose where the screening takes place."))
    else:
        checked, not_asked, med_errors = read_checklist(
            checklist, request.form, assessments.NOT_ASKED_REASONS)
        errors.update(med_errors)
        filled = assessments.Checklist(answers=checked, not_asked=not_asked)
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
                    checklist=filled,
                    submission_token=form.submission_token.data or "",
                    lang=lang(),
                    rule_set_id=settings().rule_set,
                    confirm_repeat=request.form.get("confirm_repeat") or None,
                    book=provenance(),
                )
                return redirect(url_for("assessments.result", assessment_uuid=done.uuid), code=303)
            except assessments.PossibleRepeat as earlier:
                return _repeat_page(instrument, earlier)
            except assessments.ChecklistRequired as missing:
                for item_id in missing.missing:
                    errors[f"med_{item_id}"] = _("Choose yes or no.")
                summary.append(_(
                    "From 65 years the medication-and-falls checklist is part of the AUDIT: "
                    "answer every question of it, or mark it as not gone through and say why."))
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
            except ProvenanceError:
                log.error("result not stored at %s: instrument files differ from the record",
                          request.endpoint)
                summary.append(_("The result cannot be stored: the questionnaire files on this "
                                 "server differ from those on record. Tell the administrator. "
                                 "The answers are still here."))
                refused = True
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
                      summary, 503 if unsaved or refused else 422)


def _repeat_page(instrument, earlier):
    """The form was sent although the same user stored this instrument for this patient a
    short while ago: ask before storing a second one. The answers travel back in the POST
    body (hidden fields of a no-store page), never in a URL."""
    fields = [(name, value) for name, value in request.form.items(multi=True)
              if name not in ("csrf_token", "confirm_repeat", "action")]
    return render_template(
        "assessments/repeat.html",
        instrument=instrument,
        earlier=earlier,
        fields=fields,
        lang=lang(),
        stored_today=local_date(earlier.created_at) == local_today(),
    ), 409


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
        not_asked=medication_answers.get(NOT_ASKED_FIELD),
        not_asked_reasons=assessments.NOT_ASKED_REASONS,
        asked=asked_items(instrument, shown_answers),
        errors=errors,
        summary=summary,
        lang=lang(),
        skip_rules=json.dumps(
            [{"if_zero": list(r.if_zero), "skip": list(r.skip)} for r in instrument.skip_rules]
        ),
    ), status


NOT_ASKED_FIELD = "not_asked"  # beside the item ids in a draft's "_medication"


def _posted_medication(checklist, form=None) -> dict:
    """The checklist fields as posted (item id -> "0"/"1", and the not-asked reason)."""
    form = request.form if form is None else form
    posted = {k: form.get(f"med_{k}") for k in (i.id for i in checklist.items)
              if form.get(f"med_{k}")}
    if form.get("med_not_asked") in assessments.NOT_ASKED_REASONS:
        posted[NOT_ASKED_FIELD] = form["med_not_asked"]
    return posted


def _save_draft(
    patient_uuid: str,
    instrument,
    answers: dict,
    medication: dict,
    setting: str | None,
) -> None:
    data: dict[str, object] = dict(partial_answers(instrument, answers))
    data["_medication"] = {k: v for k, v in medication.items()
                           if v in ("0", "1") or (k == NOT_ASKED_FIELD
                                                  and v in assessments.NOT_ASKED_REASONS)}
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
    medication = _posted_medication(checklist)
    try:
        _save_draft(str(patient_uuid), instrument, answers, medication, request.form.get("setting"))
    except patients.PatientError:
        abort(404)
    return Response(status=204)
