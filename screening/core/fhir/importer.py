"""A FHIR Questionnaire that carries its scoring, read into an instrument file of ours.

``import_questionnaire`` takes the parsed JSON and returns the instrument as a mapping in the
format of instruments/*.toml (checked with the instrument parser, so the catalogue loads it),
with notes on what was not carried over; or raises ``ImportRefused`` with every reason.  It
never guesses: a question without answer weights is refused (never scored 0) unless the
author leaves it out by name; an enableWhen it cannot express as a skip rule is reported.
Zones and rules are not in a Questionnaire: they come from a rule set (and [[zones]] added
by hand).  Weights and score items: see weights.py.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..instrument_parser import loinc_problem
from ..instruments import parse_instrument
from ..reader import ID_PATTERN, Problems
from .skip_import import skip_rules
from .terms import LOINC
from .weights import (
    Answer,
    answers,
    calculated_language,
    expression_link_ids,
    helsenorge_scoring,
    is_score_item,
    walk,
)

QUESTION_TYPES = ("choice", "open-choice")


class ImportRefused(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass
class Imported:
    instrument: dict[str, Any]
    notes: list[str] = field(default_factory=list)


@dataclass
class _Question:
    link_id: str
    item_id: str
    text: str
    answers: list[Answer]
    group: str | None
    loinc: str | None
    source: Mapping[str, Any]


def _id(value: str, prefix: str = "q") -> str:
    text = re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")
    if not text or not text[0].isalpha():
        text = f"{prefix}{text}" if text else prefix
    return text


def _loinc(item: Mapping[str, Any]) -> str | None:
    for coding in item.get("code", []):
        if isinstance(coding, Mapping) and coding.get("system") == LOINC:
            code = str(coding.get("code", ""))
            if loinc_problem(code) is None:
                return code
    return None


def _label(item: Mapping[str, Any]) -> str:
    return f"item {item.get('linkId')!r}"


def _points(question: _Question, reasons: list[str]) -> list[int] | None:
    weights = [a.weight for a in question.answers]
    where = f"item {question.link_id!r}"
    if not question.answers:
        reasons.append(f"{where} is a choice without answer options")
        return None
    if all(w is None for w in weights):
        reasons.append(f"{where} has no answer weights (itemWeight/ordinalValue): it cannot "
                       "be scored, and it is not scored as 0; leave it out by name if it is "
                       "not part of the score")
        return None
    missing = [a.code for a in question.answers if a.weight is None]
    if missing:
        reasons.append(f"{where}: the options {', '.join(missing)} have no weight")
        return None
    if any(w is None or w < 0 or w != w.to_integral_value() for w in weights):
        shown = ", ".join(str(w) for w in weights)
        reasons.append(f"{where}: weights must be whole numbers of 0 or more (got {shown})")
        return None
    for name, values in (("codes", [a.code for a in question.answers]),
                         ("labels", [a.label for a in question.answers])):
        if len(set(values)) != len(values) or not all(values):
            reasons.append(f"{where}: the answer {name} are empty or repeat")
            return None
    return [int(w) for w in weights if isinstance(w, Decimal)]


def _questions(resource: Mapping[str, Any], leave_out: Collection[str],
               reasons: list[str], notes: list[str]) -> tuple[list[_Question], list[Any]]:
    questions: list[_Question] = []
    scores: list[tuple[Mapping[str, Any], str | None]] = []
    seen: set[str] = set()
    for item, group in walk(resource.get("item", [])):
        link = str(item.get("linkId", ""))
        kind = item.get("type")
        if kind in ("group", "display"):
            continue
        if link in leave_out:
            notes.append(f"{_label(item)} left out, as asked")
            continue
        if is_score_item(item):
            scores.append((item, group))
            continue
        if kind not in QUESTION_TYPES:
            reasons.append(f"{_label(item)} is a {kind} question: only choices with answer "
                           "weights can be scored; leave it out by name if it is not scored")
            continue
        if item.get("repeats") or _check_box(item):
            reasons.append(f"{_label(item)} takes several answers: only one answer per "
                           "question can be scored")
            continue
        found = answers(resource, item)
        if isinstance(found, str):
            reasons.append(f"{_label(item)}: {found}")
            continue
        item_id = _id(link)
        while item_id in seen:
            item_id += "_"
        seen.add(item_id)
        questions.append(_Question(link, item_id, str(item.get("text") or link), found, group,
                                   _loinc(item), item))
    return questions, scores


def _check_box(item: Mapping[str, Any]) -> bool:
    for extension in item.get("extension", []):
        if isinstance(extension, Mapping) and str(extension.get("url", "")).endswith(
                "questionnaire-itemControl"):
            codings = extension.get("valueCodeableConcept", {}).get("coding", [])
            if any(c.get("code") == "check-box" for c in codings if isinstance(c, Mapping)):
                return True
    return False


def _scores(scores: list[Any], questions: list[_Question], notes: list[str]
            ) -> tuple[str | None, list[dict[str, Any]]]:
    """(LOINC code of the total, subscores) from the score items."""
    by_link = {q.link_id: q for q in questions}
    everything = [q.item_id for q in questions]
    total_code: str | None = None
    subscores: list[dict[str, Any]] = []
    for item, group in scores:
        kind = helsenorge_scoring(item)
        link_ids = expression_link_ids(item)
        members: list[str] | None = None
        if kind == "SS":
            members = [q.item_id for q in questions if q.group == group]
        elif link_ids and all(i in by_link for i in link_ids):
            members = [by_link[i].item_id for i in link_ids]
        if kind == "TS" or (members is not None and sorted(members) == sorted(everything)):
            total_code = total_code or _loinc(item)
            notes.append(f"{_label(item)} is the total: the sum of every scored item")
            continue
        if members is None:
            how = calculated_language(item) or "no expression"
            if len(scores) == 1:
                total_code = _loinc(item)
                notes.append(f"{_label(item)} ({how}) is taken as the total: the sum of every "
                             "scored item")
            else:
                notes.append(f"{_label(item)} not imported: which items it adds cannot be read "
                             f"({how}); add it as a [[subscores]] entry by hand if needed")
            continue
        if not members:
            notes.append(f"{_label(item)} adds no scored item: not imported")
            continue
        title = str(item.get("text") or item.get("linkId"))
        entry: dict[str, Any] = {"id": _id(str(item.get("linkId")), "s"), "items": members,
                                 "title": {"nb": title, "en": title}}
        if _loinc(item):
            entry["loinc_total"] = _loinc(item)
        subscores.append(entry)
    return total_code, subscores


def _scales(questions: list[_Question], points: dict[str, list[int]]
            ) -> tuple[dict[str, Any], dict[str, str]]:
    scales: dict[str, Any] = {}
    names: dict[tuple[Any, ...], str] = {}
    chosen: dict[str, str] = {}
    for question in questions:
        labels = [a.label for a in question.answers]
        key = (tuple(a.code for a in question.answers), tuple(points[question.link_id]),
               tuple(labels))
        if key not in names:
            names[key] = f"s{len(names) + 1}"
            scales[names[key]] = {"codes": list(key[0]), "points": list(key[1]),
                                  "labels": {"nb": labels, "en": labels}}
        chosen[question.link_id] = names[key]
    return scales, chosen


def import_questionnaire(resource: Any, *, instrument_id: str | None = None,
                         leave_out: Collection[str] = (), source: str = "",
                         lang: str | None = None) -> Imported:
    """The instrument mapping for a FHIR Questionnaire, or ImportRefused with the reasons."""
    try:
        return _import(resource, instrument_id, leave_out, source, lang)
    except (AttributeError, TypeError, KeyError) as err:
        # an element of the wrong JSON type (an object where FHIR has an array, ...)
        raise ImportRefused([f"the file is not a well-formed FHIR Questionnaire: an element "
                             f"has the wrong JSON type ({type(err).__name__}: {err})"]) from None


def _import(resource: Any, instrument_id: str | None, leave_out: Collection[str],
            source: str, lang: str | None) -> Imported:
    if not isinstance(resource, Mapping) or resource.get("resourceType") != "Questionnaire":
        raise ImportRefused(["not a FHIR Questionnaire (resourceType must be 'Questionnaire')"])
    reasons: list[str] = []
    notes: list[str] = []
    known = {str(i.get("linkId")) for i, _ in walk(resource.get("item", []))}
    for link in leave_out:
        if link not in known:
            reasons.append(f"--leave-out {link!r}: the Questionnaire has no such linkId")
    questions, scores = _questions(resource, set(leave_out), reasons, notes)
    points = {}
    for question in questions:
        found = _points(question, reasons)
        if found is not None:
            points[question.link_id] = found
    if not questions and not reasons:
        reasons.append("the Questionnaire has no choice questions with answer weights: "
                       "nothing can be scored")
    if reasons:
        raise ImportRefused(reasons)
    total_code, subscores = _scores(scores, questions, notes)
    scales, chosen = _scales(questions, points)
    name = instrument_id or _id(str(resource.get("name") or resource.get("id") or "imported"),
                                "i")
    if not ID_PATTERN.match(name):
        raise ImportRefused([f"{name!r} is not a valid instrument id (a-z, 0-9, _)"])
    title = str(resource.get("title") or resource.get("name") or name)
    origin = source or str(resource.get("url") or resource.get("id") or "a FHIR Questionnaire")
    attribution = str(resource.get("copyright") or resource.get("publisher")
                      or f"Imported from {origin}")
    if lang not in ("nb", "en"):
        given = str(resource.get("language", "en")).lower()
        lang = "nb" if given.startswith(("nb", "no")) else "en"
    other = "en" if lang == "nb" else "nb"
    data: dict[str, Any] = {
        "id": name, "kind": "questionnaire", "version": 1,
        "title": {"nb": title, "en": title},
        "attribution": {"nb": attribution, "en": attribution},
        "languages": {
            lang: {"item_text_version": f"{lang}-imported-1", "status": "published",
                   "source": f"FHIR Questionnaire {origin}"},
            other: {"item_text_version": f"{other}-untranslated-1", "status": "working",
                    "source": f"not translated: the {lang} text of {origin}"},
        },
    }
    notes.append(f"texts are in {lang} only: the {other} texts are copies, marked working")
    codes = {k: v for k, v in (("loinc_panel", _loinc(resource)), ("loinc_total", total_code))
             if v}
    if codes:
        data["codes"] = codes
    data["scales"] = scales
    data["items"] = []
    for number, question in enumerate(questions, start=1):
        entry: dict[str, Any] = {"id": question.item_id, "number": number,
                                 "scale": chosen[question.link_id],
                                 "text": {"nb": question.text, "en": question.text}}
        if question.loinc:
            entry["loinc"] = question.loinc
        data["items"].append(entry)
        if question.item_id != question.link_id:
            notes.append(f"linkId {question.link_id!r} is item {question.item_id!r}")
    rules = skip_rules(questions, points, notes)
    if rules:
        data["skip_rules"] = rules
    if subscores:
        data["subscores"] = subscores
    notes.append("no zones: a Questionnaire has none; add [[zones]] and a rule-set section")
    problems = Problems(f"{name}.toml")
    if parse_instrument(data, problems) is None:
        raise ImportRefused([f"the instrument made from it does not load: {e}"
                             for e in problems.errors])
    return Imported(data, notes)
