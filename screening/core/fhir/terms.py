"""Terminology the FHIR export uses: LOINC's own displays and answer lists, the FHIR and SDC
extension URLs, and the canonical base of this application's own code systems.

LOINC displays are LOINC's Long Common Names, never our titles.  Each entry says where it was
read; a code whose Long Common Name could not be confirmed from a published source carries no
display at all (FHIR allows a Coding without display; a wrong one is worse than none):

* [L]   loinc.org term pages: 72110-0 (with its panel hierarchy), 75624-7, 75626-2.
* [USC] HL7 US Core 7.0.0, Questionnaire/AUDIT-C and Observation/AUDIT-C-panel-example-72109-2
        (github.com/HL7/US-Core, input/examples; CC0-1.0): 72109-2, 68519-8, 68520-6, 75626-2
        and the answers of LL2180-9 and LL2181-7.
* [PT]  HL7 Portugal Terminologias 1.0.0, ValueSet cpe-auditcresult-vs: the answers of
        LL2179-1 (same codes and English designations as [USC] where they overlap).
* [MY]  MyHIE (Malaysia) Questionnaire q-audit-10, packages2.fhir.org XIG: 68518-0 and 72110-0,
        agreeing with [L].

Items 4-10 of the AUDIT (97734-8 ... 97740-5) have LOINC codes [L], but neither their Long
Common Names nor their answer lists were found in a published source: they are exported with
the code only, and their answers in this application's code systems.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..instruments import Instrument, Item, Option

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SCORE_UNIT = "{score}"  # UCUM annotation for a score, LOINC's example unit of 75624-7 [L]

# R4 core extension (http://hl7.org/fhir/R4/extension-ordinalvalue.html), on answerOption.
# Chosen over its renamed successor itemWeight (FHIR extensions pack, R5-based): an R4 receiver
# resolves ordinalValue from the R4 specification itself, and LHC-Forms, Helsenorge's refero and
# the US Core 7 examples read it.  The importer accepts both.
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
QUESTIONNAIRE_UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
CALCULATED_EXPRESSION = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression"
)
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# This application's own code systems and resources.  ".invalid" is reserved (RFC 2606) and
# never resolves: the CodeSystem resources are published with `flask export-codesystems`.
FHIR_BASE = "https://screening.invalid/fhir"
CODE_SYSTEM_BASE = f"{FHIR_BASE}/CodeSystem"
# Observation codes where no LOINC code exists (the DUDIT, the checklists).
OBSERVATION_SYSTEM = f"{CODE_SYSTEM_BASE}/observation"

LOINC_DISPLAYS: Mapping[str, str] = MappingProxyType(
    {
        "72110-0": "Alcohol Use Disorder Identification Test [AUDIT]",  # [L] [MY]
        "75624-7": "Total score [AUDIT]",  # [L]
        "72109-2": "Alcohol Use Disorder Identification Test - Consumption [AUDIT-C]",  # [USC] [L]
        "75626-2": "Total score [AUDIT-C]",  # [L] [USC]
        "68518-0": "How often do you have a drink containing alcohol",  # [MY]
        # [USC]
        "68519-8": "How many standard drinks containing alcohol do you have on a typical day",
        "68520-6": "How often do you have 6 or more drinks on 1 occasion",  # [USC]
    }
)

# LOINC answer lists: the answers in their LOINC order, which is the order of our options.
LOINC_ANSWER_LISTS: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType(
    {
        "LL2179-1": (  # AUDIT item 1 [PT]
            ("LA6270-8", "Never"),
            ("LA18926-8", "Monthly or less"),
            ("LA18927-6", "2-4 times a month"),
            ("LA18928-4", "2-3 times a week"),
            ("LA18929-2", "4 or more times a week"),
        ),
        "LL2180-9": (  # AUDIT item 2 [USC] [PT]
            ("LA15694-5", "1 or 2"),
            ("LA15695-2", "3 or 4"),
            ("LA18930-0", "5 or 6"),
            ("LA18931-8", "7 to 9"),
            ("LA18932-6", "10 or more"),
        ),
        "LL2181-7": (  # AUDIT item 3 [USC] [PT]
            ("LA6270-8", "Never"),
            ("LA18933-4", "Less than monthly"),
            ("LA18876-5", "Monthly"),
            ("LA18891-4", "Weekly"),
            ("LA18934-2", "Daily or almost daily"),
        ),
    }
)


def loinc_coding(code: str) -> dict[str, str]:
    """A LOINC Coding with LOINC's display where it is known (see the module docstring)."""
    coding = {"system": LOINC, "code": code}
    display = LOINC_DISPLAYS.get(code)
    if display:
        coding["display"] = display
    return coding


def resource_id(name: str) -> str:
    """A FHIR id (letters, digits, '-' and '.') from an instrument or item id."""
    return name.replace("_", "-")


def item_system(instrument_id: str, item_id: str) -> str:
    """This application's code system for the options of one item."""
    return f"{CODE_SYSTEM_BASE}/{resource_id(instrument_id)}-{resource_id(item_id)}"


def questionnaire_url(instrument_id: str) -> str:
    return f"{FHIR_BASE}/Questionnaire/{resource_id(instrument_id)}"


def loinc_answers(item: Item) -> tuple[tuple[str, str], ...] | None:
    """The LOINC answers of the item's answer list, or None when it has none we know.

    Raises ValueError when the list and the item's options differ in number: the options
    would be mapped to the wrong LOINC answers."""
    if item.loinc_answer_list is None or item.loinc_answer_list not in LOINC_ANSWER_LISTS:
        return None
    answers = LOINC_ANSWER_LISTS[item.loinc_answer_list]
    if len(answers) != len(item.options):
        raise ValueError(
            f"item {item.id}: answer list {item.loinc_answer_list} has {len(answers)} answers "
            f"but the item has {len(item.options)} options"
        )
    return answers


def option_coding(instrument: Instrument, item: Item, option: Option, lang: str) -> dict[str, Any]:
    """The Coding of one option: LOINC's answer code where the item has a LOINC answer list,
    else this application's code system for the item (display in ``lang``)."""
    answers = loinc_answers(item)
    if answers is not None:
        code, display = answers[option.index]
        return {"system": LOINC, "code": code, "display": display}
    return {
        "system": item_system(instrument.id, item.id),
        "code": option.code,
        "display": option.label(lang),
    }
