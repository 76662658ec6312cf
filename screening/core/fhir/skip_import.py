"""enableWhen read back as skip rules (the inverse of questionnaire.enable_when).

Two shapes mean "asked unless the deciding items are answered with their first option", our
skip rule (clinical-rules S3):

* one deciding item T: ``T != <T's first option>`` (with or without ``T exists``), all true;
* deciding items T1..Tn: ``Ti = <option>`` for every option but the first of each, any true.

In both, FHIR treats the answer to a disabled item as absent, and our rules count a skipped
item as answered 0: the two agree.  Any other enableWhen is reported and not carried over
(the item is then always asked).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _code(condition: Mapping[str, Any]) -> str | None:
    coding = condition.get("answerCoding")
    return str(coding.get("code")) if isinstance(coding, Mapping) else None


def _triggers(conditions: list[Mapping[str, Any]], behaviour: str,
              by_link: Mapping[str, Any]) -> list[str] | str:
    """The deciding items' linkIds, or why the enableWhen is not a skip rule."""
    questions = [str(c.get("question")) for c in conditions]
    unknown = [q for q in questions if q not in by_link]
    if unknown:
        return f"it depends on {', '.join(sorted(set(unknown)))}, which is not a scored question"
    operators = {str(c.get("operator")) for c in conditions}
    if len(set(questions)) == 1 and (len(conditions) == 1 or behaviour == "all"):
        trigger = by_link[questions[0]]
        first = trigger.answers[0].code
        shapes = {(str(c.get("operator")), _code(c), c.get("answerBoolean")) for c in conditions}
        if ("!=", first, None) in shapes and shapes <= {("!=", first, None),
                                                        ("exists", None, True)}:
            return [trigger.link_id]
    if operators == {"="} and (len(conditions) == 1 or behaviour == "any"):
        wanted: dict[str, set[str]] = {}
        for condition in conditions:
            code = _code(condition)
            if code is None:
                return "a condition is not on an answer code"
            wanted.setdefault(str(condition.get("question")), set()).add(code)
        for link, codes in wanted.items():
            if codes != {a.code for a in by_link[link].answers[1:]}:
                return f"its conditions on {link} are not 'any answer but the first'"
        return list(wanted)
    return "its conditions are not of the form 'the deciding items are not answered 0'"


def skip_rules(questions: list[Any], points: Mapping[str, list[int]],
               notes: list[str]) -> list[dict[str, Any]]:
    by_link = {q.link_id: q for q in questions}
    order = {q.link_id: i for i, q in enumerate(questions)}
    rules: dict[tuple[str, ...], list[str]] = {}
    for question in questions:
        conditions = question.source.get("enableWhen") or []
        if not conditions:
            continue
        behaviour = str(question.source.get("enableBehavior", "any"))
        found = _triggers([c for c in conditions if isinstance(c, Mapping)], behaviour, by_link)
        if isinstance(found, list) and any(order[t] >= order[question.link_id] for t in found):
            found = "a deciding item comes after it"
        if isinstance(found, list) and any(points[t][0] != 0 for t in found):
            found = "the first option of a deciding item does not give 0 points"
        if isinstance(found, str):
            notes.append(f"the enableWhen of item {question.link_id!r} is not carried over "
                         f"({found}): the item is always asked")
            continue
        key = tuple(sorted(found, key=order.__getitem__))
        rules.setdefault(key, []).append(question.link_id)
    result = []
    for number, (triggers, skipped) in enumerate(rules.items(), start=1):
        numbers = ", ".join(str(order[t] + 1) for t in triggers)
        result.append({
            "id": f"skip_{number}",
            "if_zero": [by_link[t].item_id for t in triggers],
            "skip": [by_link[s].item_id for s in skipped],
            "reason": {
                "nb": f"spørsmål {numbers} er besvart med første svaralternativ (0 poeng)",
                "en": f"item(s) {numbers} answered with the first option (0 points)",
            },
        })
    return result
