"""This application's own codes as FHIR R4 CodeSystem resources.

Our codes appear in the export only where no standard code exists: the options of items
without a LOINC answer list (one code system per item), the conversation checklist's choices,
and Observation codes for instruments, items and totals without a LOINC code.  These resources
make those codes resolvable for a receiver (``flask export-codesystems DIR`` writes them).
Displays are bokmål (the resources' language), with the English as a designation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..conversation import Conversation
from ..instruments import Instrument
from ..pathways import PATHWAYS
from ..texts import Text
from .questionnaire import TOTAL_TEXT, field_system
from .terms import OBSERVATION_SYSTEM, item_system, loinc_answers

OBSERVATION_VERSION = "1"


def _concept(code: str, text: Text) -> dict[str, Any]:
    return {
        "code": code,
        "display": text.nb,
        "designation": [{"language": "en", "value": text.en}],
    }


def _code_system(url: str, version: str, title: Text, concepts: list[dict[str, Any]]
                 ) -> dict[str, Any]:
    cs_id = url.rsplit("/", 1)[1]
    return {
        "resourceType": "CodeSystem",
        "id": cs_id,
        "url": url,
        "version": version,
        "name": "".join(part.capitalize() for part in cs_id.split("-")),
        "title": title.nb,
        "status": "active",
        "language": "nb",
        "caseSensitive": True,
        "content": "complete",
        "count": len(concepts),
        "concept": concepts,
    }


def _instrument_systems(instrument: Instrument) -> list[dict[str, Any]]:
    systems = []
    for item in instrument.items:
        if loinc_answers(item) is not None:
            continue
        title = Text(nb=f"{instrument.title('nb')}, spørsmål {item.number}: svaralternativer",
                     en=f"{instrument.title('en')}, item {item.number}: answers")
        concepts = [_concept(o.code, o.labels) for o in item.options]
        systems.append(_code_system(item_system(instrument.id, item.id),
                                    str(instrument.version), title, concepts))
    return systems


def _conversation_systems(conversation: Conversation) -> list[dict[str, Any]]:
    pathways = [_concept(p.id, p.names) for p in PATHWAYS.values()]
    systems = []
    for item in conversation.items:
        for field in item.fields:
            link = f"{item.id}.{field.id}"
            if field.type in ("choice", "multi_choice"):
                concepts = [_concept(o.code, o.labels) for o in field.options]
            elif field.type in ("pathway", "referrals"):
                concepts = pathways
            else:
                continue
            title = Text(nb=f"{conversation.title('nb')}: {field.label('nb')}",
                         en=f"{conversation.title('en')}: {field.label('en')}")
            systems.append(_code_system(field_system(conversation.id, link),
                                        str(conversation.version), title, concepts))
    return systems


def observation_concepts(instrument: Instrument) -> list[dict[str, Any]]:
    """The Observation codes the bundle of this instrument uses that LOINC does not give."""
    concepts = []
    if not instrument.loinc_panel:
        concepts.append(_concept(instrument.id, instrument.titles))
    for item in instrument.items:
        if not item.loinc:
            concepts.append(_concept(f"{instrument.id}.{item.id}", item.texts))
    for sub in instrument.subscores:
        if not sub.loinc_total:
            concepts.append(_concept(f"{instrument.id}.{sub.id}", sub.titles))
    if not instrument.loinc_total:
        total = Text(nb=f"{instrument.title('nb')}: {TOTAL_TEXT.nb.lower()}",
                     en=f"{instrument.title('en')}: {TOTAL_TEXT.en.lower()}")
        concepts.append(_concept(f"{instrument.id}.total", total))
    return concepts


def code_systems(instruments: Iterable[Instrument],
                 conversations: Iterable[Conversation] = ()) -> list[dict[str, Any]]:
    """Every CodeSystem the Questionnaire and assessment exports of these definitions use."""
    instruments = list(instruments)
    systems: list[dict[str, Any]] = []
    observations: list[dict[str, Any]] = []
    for instrument in instruments:
        systems.extend(_instrument_systems(instrument))
        if instrument.kind == "questionnaire":
            observations.extend(observation_concepts(instrument))
    for conversation in conversations:
        systems.extend(_conversation_systems(conversation))
    if observations:
        title = Text(nb="Observasjonskoder uten LOINC-kode", en="Observation codes without LOINC")
        systems.append(_code_system(OBSERVATION_SYSTEM, OBSERVATION_VERSION, title,
                                    observations))
    return systems


