"""The stored result of a screening: the result page (every answer, the level and its
reasons, urgent safety findings of the conversation), the printable patient sheet, voiding,
and the FHIR export. Routes of the ``assessments`` blueprint."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from flask import Response, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from ..core.conversation import META
from ..core.errors import UnknownId
from ..forms.voiding import VoidForm
from ..i18n import current_lang as lang
from ..services import assessments, conversations, patients, voiding
from ..services.conversations import agreed_goal
from .assessments import CLINICIANS, MEDICATION, bp
from .context import catalogue, database, keyring
from .parking import parkable, restored_form
from .security import roles


@bp.get("/assessments/<uuid:assessment_uuid>")
@roles(*CLINICIANS)
def result(assessment_uuid):
    sent = restored_form()  # a void reason sent after the session had ended
    form = VoidForm(formdata=sent) if sent is not None else VoidForm()
    return _result_page(_view(str(assessment_uuid)), form, 200)


def _result_page(shown, void_form: VoidForm, status: int):
    instrument, texts_note = instrument_of(shown)
    return render_template(
        "assessments/result.html",
        a=shown,
        instrument=instrument,
        texts_note=texts_note,
        checklist=catalogue().instrument(MEDICATION),
        lang=lang(),
        void_form=void_form,
        may_void=not shown.void and voiding.may_void(g.staff, shown),
        rule_set_title=_rule_set_title(shown),
        urgent=_urgent(shown),
    ), status


@dataclass(frozen=True)
class _Urgent:
    """An urgent safety finding of the conversation, with the route recorded for it."""

    findings: tuple[str, ...]
    route: str | None
    routed_at: datetime | None


def _urgent(shown) -> _Urgent | None:
    record = shown.conversation.record if shown.conversation else None
    if not isinstance(record, dict):
        return None
    checklist = catalogue().conversation(conversations.CHECKLIST)
    found = checklist.urgent_findings(record)
    if not found:
        return None
    item = found[0][0]
    route_field = next((f for f in item.fields if f.type == "choice"
                        and any(o.urgent for o in f.options)), None)
    route = route_field.option((record.get(item.id) or {}).get(route_field.id)) \
        if route_field else None
    stamps = ((record.get(META) or {}).get("routed_at") or {}) if route_field else {}
    stamp = stamps.get(f"{item.id}.{route_field.id}") if route_field else None
    at = None
    if isinstance(stamp, dict) and isinstance(stamp.get("at"), str):
        try:
            at = datetime.fromisoformat(stamp["at"])
        except ValueError:
            at = None
    return _Urgent(tuple(o.labels.get(lang()) for _item, o in found),
                   route.labels.get(lang()) if route else None, at)


def instrument_of(shown) -> tuple:
    """The instrument as it was in the result's version (its item and option texts), and a
    note when that cannot be shown exactly: no file holds that version any more (the current
    version's texts are shown), or the file's content differs from what produced it."""
    kept = catalogue().instrument_version(shown.instrument, shown.instrument_version)
    if kept is None:
        current = catalogue().instrument(shown.instrument)
        return current, _("The file of version %(old)s is no longer installed: the questions "
                          "are shown as worded in version %(new)s.",
                          old=shown.instrument_version, new=current.version)
    if shown.instrument_fingerprint and shown.instrument_fingerprint != kept.fingerprint:
        return kept, _("The questionnaire file of this version has changed since this result "
                       "was made: the wording shown may differ from what was asked.")
    return kept, None


def _rule_set_title(shown) -> str:
    frozen = (shown.context.get("explanation") or {}).get("rule_set_title")
    if isinstance(frozen, dict) and frozen.get(lang()):
        return str(frozen[lang()])  # the title it had when it scored this result
    try:
        rule_set = catalogue().rule_set(shown.rule_set)
    except UnknownId:
        return shown.rule_set  # a rule set no longer installed: its id is all there is
    if str(rule_set.version) != str(shown.rule_set_version):
        return shown.rule_set  # the title installed now names another version
    return rule_set.title(lang())


VOID_MESSAGES = {
    "reason_too_short": lambda: _("Give a reason of at least 5 characters."),
    "reason_too_long": lambda: _("The reason can be at most 500 characters."),
    "bad_reason": lambda: _("The reason contains characters that cannot be stored."),
}


@bp.post("/assessments/<uuid:assessment_uuid>/void")
@parkable(back="assessments.result")
@roles(*CLINICIANS)
def void(assessment_uuid):
    """Mark the assessment as entered wrongly, with a reason: kept, shown as void, logged,
    and left out of the reports."""
    form = VoidForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        voiding.void(database(), keyring(), g.staff, str(assessment_uuid), form.reason.data or "")
    except voiding.VoidError as err:
        if err.code == "not_found":
            abort(404)
        if err.code == "not_allowed":
            abort(403)
        if err.code == "already_void":
            flash(_("This screening was already marked as void."), "info")
            return redirect(url_for("assessments.result", assessment_uuid=assessment_uuid),
                            code=303)
        if err.code == "extended":
            flash(_("This screening was extended to a full questionnaire, which holds the same "
                    "answers: mark that one as void first."), "info")
            return redirect(url_for("assessments.result", assessment_uuid=assessment_uuid),
                            code=303)
        form.reason.errors = [VOID_MESSAGES[err.code]()]
        return _result_page(_view(str(assessment_uuid)), form, 422)
    flash(_("The screening is marked as void. It is kept, and left out of the reports."), "info")
    return redirect(url_for("assessments.result", assessment_uuid=assessment_uuid), code=303)


@bp.get("/assessments/<uuid:assessment_uuid>/sheet")
@roles(*CLINICIANS)
def sheet(assessment_uuid):
    shown = _view(str(assessment_uuid))
    goal = agreed_goal(shown.conversation.record if shown.conversation else None)
    return render_template(
        "assessments/sheet.html",
        a=shown,
        instrument=instrument_of(shown)[0],
        goal=goal,
    )


@bp.get("/assessments/<uuid:assessment_uuid>/fhir.json")
@roles(*CLINICIANS)
def fhir_export(assessment_uuid):
    """The screening as a FHIR R4 bundle, as a download; logged as an export."""
    from ..core.fhir import assessment_bundle

    shown = _view(str(assessment_uuid), action="assessment_export")
    instrument = catalogue().instrument(shown.instrument)
    if str(instrument.version) != str(shown.instrument_version):
        # The answers' codes belong to the version they were given in: never export them
        # under another version's definitions.
        flash(_("This screening was made with a version of the questionnaire that is no "
                "longer installed, so it cannot be exported as FHIR."), "error")
        return redirect(url_for("assessments.result", assessment_uuid=assessment_uuid),
                        code=303)
    bundle = assessment_bundle(
        instrument,
        shown.uuid,
        shown.answers,
        shown.total,
        shown.created_at.isoformat(),
        fnr=shown.patient.fnr,
        name=shown.patient.name,
        lang=lang(),
        voided=shown.void,
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
