"""What the conversation form says about a field the core's check refused, in the user's
language and by the field's label from the instrument file (never its internal name such as
``feedback.given``). The core's own messages name the ids: they are for the command line and
the logs of a developer, not for the nurse."""

from __future__ import annotations

from flask_babel import gettext as _

from ..core.conversation import MAX_TEXT, Conversation, Field
from ..core.errors import AnswerError
from ..i18n import current_lang

FORM = "_form"


def field_of(checklist: Conversation, where: str | None) -> Field | None:
    """The field named ``item.field``, or None (an unknown or missing name)."""
    item_id, _dot, field_id = (where or "").partition(".")
    for item in checklist.items:
        if item.id == item_id:
            return next((f for f in item.fields if f.id == field_id), None)
    return None


def problem_text(checklist: Conversation, problem: AnswerError) -> str:
    field = field_of(checklist, problem.item_id)
    if field is None:
        return _("The form had a field that does not belong to it. Reload the page and fill "
                 "it in again.")
    label = field.label(current_lang())
    level = problem.fields.get("level", "")
    if problem.code == "required":
        if field.type == "boolean":
            return _("Tick “%(label)s”: this step is part of the conversation from action "
                     "level %(level)s.", label=label, level=level)
        if field.type in ("choice", "multi_choice", "pathway"):
            return _("Choose “%(label)s”: it is needed from action level %(level)s.",
                     label=label, level=level)
        return _("Fill in “%(label)s”: it is needed from action level %(level)s.",
                 label=label, level=level)
    if problem.code == "required_with":
        other = field_of(checklist, problem.fields.get("field"))
        other_label = other.label(current_lang()) if other is not None else ""
        chosen = other.option(problem.fields.get("value")) if other is not None else None
        verb_choose = field.type in ("choice", "multi_choice", "pathway")
        if chosen is None:  # any value of the other field
            return (_("Choose “%(label)s”: it is needed when “%(other)s” is filled in.",
                      label=label, other=other_label) if verb_choose else
                    _("Fill in “%(label)s”: it is needed when “%(other)s” is filled in.",
                      label=label, other=other_label))
        return (_("Choose “%(label)s”: it is needed when “%(other)s” is “%(value)s”.",
                  label=label, other=other_label, value=chosen.labels.get(current_lang()))
                if verb_choose else
                _("Fill in “%(label)s”: it is needed when “%(other)s” is “%(value)s”.",
                  label=label, other=other_label, value=chosen.labels.get(current_lang())))
    if problem.code == "urgent_route":
        return _("“%(label)s”: suicidal thoughts and withdrawal risk need help the same day: "
                 "the GP the same day, the emergency primary care service (116 117), or 113 "
                 "when life is at risk.", label=label)
    if problem.code == "override_reason":
        return _("Fill in “%(label)s”: you chose a level other than the suggested level "
                 "%(level)s.", label=label, level=level)
    if field.type in ("integer", "level"):
        return _("“%(label)s”: write a whole number from %(low)s to %(high)s.", label=label,
                 low=str(field.minimum), high=str(field.maximum))
    if field.type == "date":
        return _("“%(label)s”: choose a valid date.", label=label)
    if field.type == "text":
        return _("“%(label)s”: write at most %(count)s characters.", label=label,
                 count=str(MAX_TEXT))
    return _("“%(label)s”: choose one of the options shown.", label=label)


def problem_texts(checklist: Conversation, problems: tuple[AnswerError, ...]) -> dict[str, str]:
    """``{"item.field": message}``, and ``"_form"`` for a problem that names no field of the
    checklist (the first such message)."""
    texts: dict[str, str] = {}
    for problem in problems:
        key = problem.item_id or FORM
        if field_of(checklist, key) is None:
            key = FORM
        texts.setdefault(key, problem_text(checklist, problem))
    return texts
