"""Forms built from instrument data: one radio group per item, the medication-and-falls
checklist, and the setting. Values are passed to the core unconverted when they are not
plain option numbers, so the core (not the form) decides and explains what is wrong."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, SelectChoice

from ..core.instruments import Instrument
from .base import Form

INDEX_RE = re.compile(r"[0-9]{1,2}\Z")
SETTINGS = [
    SelectChoice(value="home_care", label=_l("Home care (home visit)")),
    SelectChoice(value="gp_practice", label=_l("GP practice")),
]


class ScreeningForm(Form):
    """CSRF, the submission token and the setting; item fields are read from the request
    through :func:`read_answers` because they come from instrument data."""

    submission_token = HiddenField()
    setting = RadioField(
        _l("Where does the screening take place?"), choices=SETTINGS, validate_choice=True
    )


def read_answers(instrument: Instrument, form: Mapping[str, str]) -> dict[str, Any]:
    """Item id -> option index (int), or the raw text when it is not a plain number (the
    core rejects it with a message naming the item). Absent or empty -> not answered."""
    answers: dict[str, Any] = {}
    for item in instrument.items:
        values = form.getlist(item.id) if hasattr(form, "getlist") else [form.get(item.id)]
        values = [v for v in values if v not in (None, "")]
        if not values:
            continue
        if len(values) > 1:
            answers[item.id] = values  # several answers to one item: the core rejects it
            continue
        value = str(values[0])
        answers[item.id] = int(value) if INDEX_RE.match(value) else value
    return answers


def read_checklist(
    checklist: Instrument, form: Mapping[str, str], reasons: tuple[str, ...]
) -> tuple[dict[str, bool], str | None, dict[str, str]]:
    """The medication-and-falls checklist as posted: (item -> yes of the items answered,
    the reason it was not gone through or None, errors by field). ``med_not_asked`` names
    the reason (one of ``reasons``); item values other than 0 and 1 are errors."""
    from flask_babel import gettext as _

    answers: dict[str, bool] = {}
    errors: dict[str, str] = {}
    reason = form.get("med_not_asked", "") or None
    if reason is not None:
        if reason not in reasons:
            errors["med_not_asked"] = _("Choose why the checklist was not gone through.")
        elif any(form.get(f"med_{item.id}") for item in checklist.items):
            errors["med_not_asked"] = _(
                "Either answer the questions of the checklist or say why they were not asked, "
                "not both.")
        return answers, reason, errors
    for item in checklist.items:
        value = form.get(f"med_{item.id}", "")
        if value in ("0", "1"):
            answers[item.id] = value == "1"
        elif value not in ("", None):
            errors[f"med_{item.id}"] = _("Choose yes or no.")
    return answers, None, errors


def partial_answers(instrument: Instrument, raw: Mapping[str, Any]) -> dict[str, int]:
    """Only the valid option indices of a draft (for restoring a form)."""
    out: dict[str, int] = {}
    for item in instrument.items:
        value = raw.get(item.id)
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and 0 <= value < len(item.options)
        ):
            out[item.id] = value
    return out


def answer_error_text(err: Any, instrument: Instrument, lang: str) -> str:
    """The core's rejection of an answer, worded for the person filling in the form: the
    question's number instead of its internal id, the option's label instead of its index.
    Codes without a form wording fall back to the core's own message."""
    from flask_babel import gettext as _

    item = next((i for i in instrument.items if i.id == err.item_id), None)
    if item is None:
        return str(err.message(lang))
    if err.code == "not_asked":
        reason = err.fields.get("reason_nb" if lang == "nb" else "reason", "")
        value = err.fields.get("value", "")
        label = next((o.label(lang) for o in item.options if str(o.index) == value), value)
        return _("Question %(number)d is not asked when %(reason)s. Remove the answer "
                 "“%(label)s”, or change the earlier answer.",
                 number=item.number, reason=reason, label=label)
    if err.code in ("out_of_range", "not_integer", "several_answers", "not_one_answer"):
        return _("Question %(number)d: choose one of the answers shown.", number=item.number)
    return str(err.message(lang))
