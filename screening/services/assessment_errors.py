"""The refusal of a screening submission that is no answer error of the core: ``code`` names
it (``bad_token``, ``bad_checklist``, ``bad_extension``, ``carried_answer``)."""

from __future__ import annotations


class AssessmentError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
