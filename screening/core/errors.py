"""Exceptions of the clinical core.

- `InstrumentFileError`: an instrument or rule-set file is invalid (raised at load time).
- `UnknownId`: an instrument, rule set, rule or language id that does not exist.
- `AnswerError` and its subclasses: submitted answers or patient facts that cannot be scored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .texts import message


class InstrumentFileError(Exception):
    """One or more instrument files failed to load; `.errors` lists every problem.

    Each entry reads ``"path/to/file.toml: dotted.key: problem"``.
    """

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors: list[str] = list(errors)
        super().__init__("\n".join(self.errors))

    def __str__(self) -> str:
        return "\n".join(self.errors)


class UnknownId(LookupError):
    """An id that the catalogue (or a registry) does not know."""

    def __init__(
        self, kind: str, id: object, known: Iterable[str] = (), detail: str | None = None
    ) -> None:
        self.kind = kind
        self.id = id
        self.known: tuple[str, ...] = tuple(sorted(known))
        if detail is None:
            detail = f"unknown {kind} {id!r}"
            if self.known:
                detail += f" (known: {', '.join(self.known)})"
        self.detail = detail
        super().__init__(detail)

    def __str__(self) -> str:
        return self.detail


class UnknownRule(UnknownId):
    """A rule name that is not registered in core."""


class AnswerError(ValueError):
    """Answers or patient facts that cannot be scored.

    `.code` is a short machine code, `.item_id` the item (or fact) concerned or None, and
    `.message(lang)` a one-line explanation in bokmål ("nb") or English ("en").
    """

    def __init__(self, code: str, item_id: str | None = None, **fields: str) -> None:
        self.code = code
        self.item_id = item_id
        self.fields: dict[str, str] = {"item": item_id or "-", **fields}
        super().__init__(self.message("en"))

    def message(self, lang: str = "nb") -> str:
        return message(self.code, lang, self.fields)

    def __str__(self) -> str:
        return self.message("en")


class InvalidAnswer(AnswerError):
    """A value that is not allowed: out of range, not an integer, not asked, unknown id ..."""


class IncompleteAnswers(AnswerError):
    """Required answers are missing: the questionnaire is a draft, not a score of 0."""

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing: tuple[str, ...] = tuple(missing)
        super().__init__(
            "incomplete",
            self.missing[0] if self.missing else None,
            missing=", ".join(self.missing),
        )
