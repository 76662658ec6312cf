"""What the rules need to know about the patient besides the answers."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from .errors import InvalidAnswer
from .texts import shown

SEXES: tuple[str, ...] = ("male", "female")
SETTINGS: tuple[str, ...] = ("home_care", "gp_practice")
MIN_AGE = 0
MAX_AGE = 130


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """Sex, age in whole years, setting, and the medication-and-falls items answered yes.

    The setting may be None (not given, on the command line): pathway rows that depend on
    the setting then do not apply."""

    sex: str
    age: int
    setting: str | None
    medication: frozenset[str] = frozenset()


def check_facts(facts: object, medication_ids: Collection[str]) -> PatientFacts:
    """Return the facts if every field is valid; raise InvalidAnswer naming the field if not."""
    if not isinstance(facts, PatientFacts):
        raise InvalidAnswer("bad_facts", None, value=shown(facts))
    if not isinstance(facts.sex, str) or facts.sex not in SEXES:
        raise InvalidAnswer("bad_sex", "sex", value=shown(facts.sex))
    age = facts.age
    if type(age) is not int or not MIN_AGE <= age <= MAX_AGE:
        raise InvalidAnswer("bad_age", "age", value=shown(age), low=str(MIN_AGE), high=str(MAX_AGE))
    if facts.setting is not None and (
            not isinstance(facts.setting, str) or facts.setting not in SETTINGS):
        raise InvalidAnswer("bad_setting", "setting", value=shown(facts.setting))
    medication = facts.medication
    if not isinstance(medication, (frozenset, set, tuple, list)):
        raise InvalidAnswer("bad_medication", "medication", value=shown(medication))
    for entry in medication:
        if not isinstance(entry, str) or entry not in medication_ids:
            raise InvalidAnswer(
                "unknown_medication",
                "medication",
                value=shown(entry),
                known=", ".join(sorted(medication_ids)),
            )
    if not isinstance(medication, frozenset):
        facts = PatientFacts(facts.sex, facts.age, facts.setting, frozenset(medication))
    return facts
