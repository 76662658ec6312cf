"""FHIR R4: instruments as Questionnaires, assessments as QuestionnaireResponse + Observation
bundles, this application's CodeSystems, and Questionnaires read back into instrument files."""

from __future__ import annotations

from .codesystems import code_systems
from .questionnaire import questionnaire
from .response import assessment_bundle
from .terms import CODE_SYSTEM_BASE, LOINC, ORDINAL_VALUE

__all__ = [
    "CODE_SYSTEM_BASE",
    "LOINC",
    "ORDINAL_VALUE",
    "assessment_bundle",
    "code_systems",
    "questionnaire",
]
