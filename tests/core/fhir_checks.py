"""Checks on exported FHIR that a parser does not make: no empty values, linkIds, answers
against their Questionnaire, enableWhen evaluated the way a form filler does, references
inside a bundle.  Each returns a list of problems (empty: fine), so a test can show them all."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def empty_values(value: Any, path: str = "$") -> list[str]:
    """Paths of empty arrays, objects, strings or nulls anywhere (FHIR JSON forbids them)."""
    if value is None or value == "" or value == [] or value == {}:
        return [path]
    if isinstance(value, str) and value.strip() != value:
        return [f"{path} (surrounding whitespace)"]
    if isinstance(value, Mapping):
        return [p for key, v in value.items() for p in empty_values(v, f"{path}.{key}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in empty_values(v, f"{path}[{i}]")]
    return []


def walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        yield from walk(item.get("item", []))


def _coding_key(coding: Mapping[str, Any]) -> tuple[str, str]:
    return coding.get("system", ""), coding["code"]


def _matches(condition: Mapping[str, Any], answers: list[dict[str, Any]]) -> bool:
    operator = condition["operator"]
    if operator == "exists":
        return bool(answers) == condition["answerBoolean"]
    values = [_coding_key(a["valueCoding"]) for a in answers if "valueCoding" in a]
    wanted = _coding_key(condition["answerCoding"])
    if operator == "=":
        return wanted in values
    if operator == "!=":
        return bool(values) and wanted not in values
    raise AssertionError(f"operator {operator} not handled by this checker")


def enabled_link_ids(questionnaire: Mapping[str, Any],
                     answers: Mapping[str, list[dict[str, Any]]]) -> set[str]:
    """The items a form filler enables for these answers (linkId -> answer list).

    FHIR R4 Questionnaire.item.enableWhen: behaviour 'any' or 'all'; the answers of a
    disabled item count as absent; an item inside a disabled item is disabled."""
    enabled: set[str] = set()

    def visit(items: list[dict[str, Any]]) -> None:
        for item in items:
            conditions = item.get("enableWhen", [])
            results = [
                _matches(c, answers.get(c["question"], []) if c["question"] in enabled else [])
                for c in conditions
            ]
            on = not conditions or (
                all(results) if item.get("enableBehavior") == "all" else any(results)
            )
            if on:
                enabled.add(item["linkId"])
                visit(item.get("item", []))

    visit(questionnaire["item"])
    return enabled


ANSWER_TYPES = {
    "choice": "valueCoding", "open-choice": "valueCoding", "integer": "valueInteger",
    "decimal": "valueDecimal", "boolean": "valueBoolean", "date": "valueDate",
    "string": "valueString", "text": "valueString", "quantity": "valueQuantity",
}  # fmt: skip


def response_problems(response: Mapping[str, Any],
                      questionnaire: Mapping[str, Any]) -> list[str]:
    """The QuestionnaireResponse against its Questionnaire: canonical, linkIds, answer types,
    answer codes among the item's answerOptions, no ordinalValue on answers, answered items
    enabled and enabled required items answered."""
    problems = []
    wanted = f"{questionnaire['url']}|{questionnaire['version']}"
    if response.get("questionnaire") != wanted:
        problems.append(f"questionnaire {response.get('questionnaire')} is not {wanted}")
    defined = {item["linkId"]: item for item in walk(questionnaire["item"])}
    given = list(walk(response.get("item", [])))
    link_ids = [item["linkId"] for item in given]
    if len(link_ids) != len(set(link_ids)):
        problems.append(f"linkIds repeat in the response: {link_ids}")
    answers = {item["linkId"]: item.get("answer", []) for item in given}
    enabled = enabled_link_ids(questionnaire, answers)
    for item in given:
        link = item["linkId"]
        definition = defined.get(link)
        if definition is None:
            problems.append(f"{link}: not an item of the Questionnaire")
            continue
        if item.get("text") not in (None, definition.get("text")):
            problems.append(f"{link}: text differs from the Questionnaire's")
        if link not in enabled:
            problems.append(f"{link}: answered but disabled by enableWhen")
        options = {_coding_key(o["valueCoding"]) for o in definition.get("answerOption", [])}
        for answer in item.get("answer", []):
            if "extension" in answer:
                problems.append(f"{link}: extension on an answer ({answer['extension']})")
            kind = ANSWER_TYPES.get(definition["type"])
            if kind is None or set(answer) - {"item"} != {kind}:
                problems.append(f"{link}: answer {set(answer)} for type {definition['type']}")
            elif kind == "valueCoding" and _coding_key(answer[kind]) not in options:
                problems.append(f"{link}: answer {_coding_key(answer[kind])} not an option")
    for link, definition in defined.items():
        if definition.get("required") and link in enabled and not answers.get(link):
            problems.append(f"{link}: required, enabled and not answered")
    return problems


def bundle_problems(bundle: Mapping[str, Any]) -> list[str]:
    """Ids unique, fullUrl = base/type/id, every reference resolves inside the bundle."""
    problems = []
    entries = bundle["entry"]
    keys = [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in entries]
    if len(keys) != len(set(keys)):
        problems.append(f"resources repeat: {keys}")
    for entry, key in zip(entries, keys, strict=True):
        if not entry["fullUrl"].endswith("/" + key):
            problems.append(f"{entry['fullUrl']} does not name {key}")

    def references(value: Any) -> Iterator[str]:
        if isinstance(value, Mapping):
            if isinstance(value.get("reference"), str):
                yield value["reference"]
            for v in value.values():
                yield from references(v)
        elif isinstance(value, list):
            for v in value:
                yield from references(v)

    for entry in entries:
        for ref in references(entry["resource"]):
            if ref not in keys:
                problems.append(f"{entry['resource']['id']}: reference {ref} not in the bundle")
    return problems
