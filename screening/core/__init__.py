"""The framework-free clinical core: instruments and rule sets as data, and the engine.

Standard library only; plain data in, frozen dataclasses out.  Nothing here imports Flask,
SQLAlchemy, WTForms or cryptography.

    from screening.core import PatientFacts, evaluate, load_catalogue

    catalogue = load_catalogue()
    result = evaluate(catalogue, "audit", {"q1": 2, ...}, PatientFacts("female", 72, "home_care"))
"""

from .catalogue import DEFAULT_DIRECTORY, Catalogue, check_directory, load_catalogue
from .engine import Evaluation, evaluate
from .errors import (
    AnswerError,
    IncompleteAnswers,
    InstrumentFileError,
    InvalidAnswer,
    UnknownId,
)
from .facts import PatientFacts
from .scoring import asked_items

__all__ = [
    "DEFAULT_DIRECTORY",
    "AnswerError",
    "Catalogue",
    "Evaluation",
    "IncompleteAnswers",
    "InstrumentFileError",
    "InvalidAnswer",
    "PatientFacts",
    "UnknownId",
    "asked_items",
    "check_directory",
    "evaluate",
    "load_catalogue",
]
