"""The medication-and-falls checklist as filled in with a screening: its values checked, and
from the rule set's older age required in full (or marked as not gone through, with a
reason) for the instruments it is part of (AUDIT and AUDIT-C)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..core.catalogue import Catalogue
from .assessment_errors import AssessmentError

# Why the medication-and-falls checklist was not gone through (instead of its answers).
NOT_ASKED_REASONS = ("declined", "unable", "done_recently", "other")
MEDICATION_CHECKLIST = "medication_falls"
# Instruments of which the checklist is part from the rule set's older age.
WITH_CHECKLIST = ("audit", "audit_c")


class ChecklistRequired(Exception):
    """An AUDIT or AUDIT-C of a patient at or above the rule set's older age, without the
    medication-and-falls checklist answered in full or marked as not asked with a reason.
    ``missing`` names the items not answered."""

    def __init__(self, missing: tuple[str, ...]) -> None:
        super().__init__("checklist required")
        self.missing = missing


@dataclass(frozen=True)
class Checklist:
    """The medication-and-falls checklist as the clinician filled it in: ``answers`` (item
    id -> True for yes, False for no) of the items answered, or ``not_asked`` with a reason
    (one of ``NOT_ASKED_REASONS``)."""

    answers: Mapping[str, bool] = field(default_factory=dict)
    not_asked: str | None = None

    @property
    def yes(self) -> frozenset[str]:
        return frozenset(item for item, answer in self.answers.items() if answer)


def check_values(catalogue: Catalogue, checklist: Checklist) -> None:
    items = {item.id for item in catalogue.instrument(MEDICATION_CHECKLIST).items}
    if (set(checklist.answers) - items
            or any(not isinstance(v, bool) for v in checklist.answers.values())
            or (checklist.not_asked is not None
                and (checklist.not_asked not in NOT_ASKED_REASONS or checklist.answers))):
        raise AssessmentError("bad_checklist")


def require_checklist(catalogue: Catalogue, rule_set_id: str | None, age: int,
                      checklist: Checklist) -> None:
    """From the rule set's older age the checklist is part of the AUDIT and the AUDIT-C:
    every item answered, or the whole checklist marked as not asked with a reason."""
    rule_set = catalogue.rule_set(rule_set_id) if rule_set_id else catalogue.default_rule_set
    if not rule_set.is_older(age) or checklist.not_asked:
        return
    missing = tuple(item.id for item in catalogue.instrument(MEDICATION_CHECKLIST).items
                    if item.id not in checklist.answers)
    if missing:
        raise ChecklistRequired(missing)
