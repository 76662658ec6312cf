"""Checked access to a parsed TOML document.

Every accessor records the key as known; `Table.finish()` reports any key that nobody asked
for.  Problems are collected (never raised) as ``"file: dotted.key: problem"`` so that one run
reports everything that is wrong with a file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .texts import LANGUAGES, Text

ID_PATTERN = re.compile(r"[a-z][a-z0-9_]*\Z")
RULE_SET_ID_PATTERN = re.compile(r"[a-z][a-z0-9-]*\Z")

_MISSING = object()


def describe(value: object) -> str:
    """The TOML type of a value, for messages."""
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "an array",
        dict: "a table",
    }
    name = names.get(type(value), f"a {type(value).__name__}")
    if isinstance(value, (bool, int, float)) or (isinstance(value, str) and len(value) < 30):
        return f"{name} ({value!r})"
    return name


class Problems:
    """The problems found in one file."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.errors: list[str] = []

    def add(self, key: str, problem: str) -> None:
        self.errors.append(f"{self.name}: {key or '(file)'}: {problem}")

    def __bool__(self) -> bool:
        return bool(self.errors)


class Table:
    """One TOML table with checked accessors."""

    def __init__(self, problems: Problems, data: Mapping[str, Any], path: str = "") -> None:
        self.problems = problems
        self.data = data
        self.path = path
        self._known: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def error(self, name: str, problem: str) -> None:
        self.problems.add(self.key(name), problem)

    def has(self, name: str) -> bool:
        self._known.add(name)
        return name in self.data

    def _get(self, name: str, required: bool) -> Any:
        self._known.add(name)
        if name in self.data:
            return self.data[name]
        if required:
            self.error(name, "missing")
        return _MISSING

    def _typed(self, name: str, required: bool, check: Callable[[Any], bool], expected: str) -> Any:
        value = self._get(name, required)
        if value is _MISSING:
            return None
        if not check(value):
            self.error(name, f"must be {expected}, not {describe(value)}")
            return None
        return value

    def string(
        self,
        name: str,
        *,
        required: bool = True,
        choices: tuple[str, ...] | None = None,
        pattern: re.Pattern[str] | None = None,
    ) -> str | None:
        value = self._typed(name, required, lambda v: isinstance(v, str) and v != "", "a string")
        if value is None:
            return None
        if choices is not None and value not in choices:
            self.error(name, f"{value!r} is not one of {', '.join(choices)}")
            return None
        if pattern is not None and not pattern.match(value):
            self.error(name, f"{value!r} is not a valid id (pattern {pattern.pattern})")
            return None
        return str(value)

    def integer(
        self,
        name: str,
        *,
        required: bool = True,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        value = self._typed(name, required, lambda v: type(v) is int, "an integer")
        if value is None:
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            low = "" if minimum is None else str(minimum)
            high = "" if maximum is None else str(maximum)
            self.error(name, f"{value} is outside the allowed range {low}..{high}")
            return None
        return int(value)

    def boolean(self, name: str, *, default: bool = False) -> bool:
        value = self._typed(name, False, lambda v: type(v) is bool, "a boolean (true/false)")
        return default if value is None else bool(value)

    def strings(self, name: str, *, required: bool = True) -> tuple[str, ...] | None:
        """A non-empty array of distinct non-empty strings."""
        value = self._typed(name, required, lambda v: isinstance(v, list), "an array of strings")
        if value is None:
            return None
        if not value:
            self.error(name, "must not be empty")
            return None
        bad = [i for i, v in enumerate(value) if not isinstance(v, str) or v == ""]
        for i in bad:
            self.problems.add(
                f"{self.key(name)}[{i}]", f"must be a string, not {describe(value[i])}"
            )
        if bad:
            return None
        if len(set(value)) != len(value):
            self.error(name, "contains duplicates")
            return None
        return tuple(value)

    def integers(self, name: str, *, required: bool = True) -> tuple[int, ...] | None:
        value = self._typed(name, required, lambda v: isinstance(v, list), "an array of integers")
        if value is None:
            return None
        if not value:
            self.error(name, "must not be empty")
            return None
        bad = [i for i, v in enumerate(value) if type(v) is not int]
        for i in bad:
            self.problems.add(
                f"{self.key(name)}[{i}]", f"must be an integer, not {describe(value[i])}"
            )
        return None if bad else tuple(value)

    def table(self, name: str, *, required: bool = True) -> Table | None:
        value = self._typed(name, required, lambda v: isinstance(v, dict), "a table")
        return None if value is None else Table(self.problems, value, self.key(name))

    def tables(self, name: str, *, required: bool = True) -> list[Table]:
        """An array of tables (``[[name]]``); empty when missing and not required."""
        value = self._typed(name, required, lambda v: isinstance(v, list), "an array of tables")
        if value is None:
            return []
        if required and not value:
            self.error(name, "must not be empty")
        result = []
        for i, element in enumerate(value):
            key = f"{self.key(name)}[{i}]"
            if isinstance(element, dict):
                result.append(Table(self.problems, element, key))
            else:
                self.problems.add(key, f"must be a table, not {describe(element)}")
        return result

    def text(self, name: str, *, required: bool = True) -> Text | None:
        """A table with a non-empty string for every language (nb, en)."""
        table = self.table(name, required=required)
        if table is None:
            return None
        return table.as_text()

    def as_text(self) -> Text | None:
        values = [self.string(lang) for lang in LANGUAGES]
        self.finish()
        if any(v is None for v in values):
            return None
        return Text(nb=str(values[0]), en=str(values[1]))

    def raw(self, name: str) -> Any:
        """The value as is (the caller checks it); None when missing."""
        value = self._get(name, False)
        return None if value is _MISSING else value

    def finish(self) -> None:
        """Report every key that no accessor asked for."""
        for name in self.data:
            if name not in self._known:
                allowed = ", ".join(sorted(self._known)) or "none"
                self.error(name, f"unknown key (allowed here: {allowed})")
        self._known.update(self.data)
