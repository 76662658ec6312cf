"""Registries of named rules, and typed parameter parsing.

A rule is a small frozen dataclass registered under a name; its dataclass fields are its
parameters.  A rule set names the rule and gives the parameters; `build_rule` checks that
every parameter belongs to the rule, that none is missing and that each has the declared
type.  An unknown name is an error: there is no fallback and no expression language.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType, NoneType, UnionType
from typing import Any, ClassVar, Generic, TypeVar

from .errors import UnknownRule
from .facts import PatientFacts
from .instruments import Instrument
from .reader import Table, describe
from .scoring import Score

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RuleContext:
    """Everything a rule may look at."""

    score: Score
    facts: PatientFacts
    older: bool  # age >= the rule set's older_age
    level: int | None = None  # the action level, once decided (AUDIT)
    outcome: str | None = None  # negative / positive / dependence (DUDIT)


class Rule:
    """Base of all rules: `check` validates parameters against the instrument they run on."""

    name: ClassVar[str] = ""

    def check(self, instrument: Instrument, levels: int) -> list[tuple[str, str]]:
        """Problems as (parameter name, problem); `levels` is the number of action levels."""
        return []


def unknown_items(
    instrument: Instrument, param: str, ids: tuple[str, ...]
) -> list[tuple[str, str]]:
    return [
        (param, f"unknown item {item_id!r} in {instrument.id}")
        for item_id in ids
        if item_id not in instrument.positions
    ]


def unknown_subscore(instrument: Instrument, param: str, name: str) -> list[tuple[str, str]]:
    if any(s.id == name for s in instrument.subscores):
        return []
    return [(param, f"unknown subscore {name!r} in {instrument.id}")]


class Registry(Generic[T]):
    """Rule classes of one kind, by name.  Lookup of an unknown name raises UnknownRule."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._classes: dict[str, type[T]] = {}

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        def decorate(cls: type[T]) -> type[T]:
            if name in self._classes:
                raise RuntimeError(f"{self.kind} rule {name!r} registered twice")
            self._classes[name] = cls
            cls.name = name  # type: ignore[attr-defined]
            return cls

        return decorate

    def lookup(self, name: str) -> type[T]:
        try:
            return self._classes[name]
        except KeyError:
            raise UnknownRule(f"{self.kind} rule", name, self._classes) from None

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._classes))


def _convert(value: Any, hint: Any) -> tuple[Any, str | None]:
    """Convert a TOML value to the declared parameter type, or explain why it does not fit."""
    origin = typing.get_origin(hint)
    if origin is UnionType or origin is typing.Union:
        (inner,) = [a for a in typing.get_args(hint) if a is not NoneType]
        return _convert(value, inner)
    found = f", not {describe(value)}"
    if hint is bool:
        return (value, None) if type(value) is bool else (None, f"must be true or false{found}")
    if hint is int:
        return (value, None) if type(value) is int else (None, f"must be an integer{found}")
    if hint is str:
        ok = isinstance(value, str) and value != ""
        return (value, None) if ok else (None, f"must be a non-empty string{found}")
    args = typing.get_args(hint)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        if not isinstance(value, list) or not value:
            return None, f"must be a non-empty array{found}"
        converted = []
        for index, element in enumerate(value):
            result, problem = _convert(element, args[0])
            if problem:
                return None, f"element {index} {problem}"
            converted.append(result)
        if len(set(converted)) != len(converted):
            return None, "must not contain duplicates"
        return tuple(converted), None
    if origin in (dict, Mapping):
        if not isinstance(value, dict) or not value:
            return None, f"must be a non-empty table{found}"
        result_map = {}
        for key, element in value.items():
            result, problem = _convert(element, args[1])
            if problem:
                return None, f"entry {key!r} {problem}"
            result_map[key] = result
        return MappingProxyType(result_map), None
    raise TypeError(f"unsupported parameter type {hint!r}")  # a programming error in core


def parameter_names(cls: Any) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


def build_rule(registry: Registry[T], name: str, entry: Table) -> T | None:
    """Instantiate rule `name` from the ``params`` table of a rule entry.

    Problems are reported as ``<entry>.params.<parameter>: problem``.  An unknown name
    raises UnknownRule (the caller reports it on the ``rule`` key).
    """
    cls: Any = registry.lookup(name)
    params = entry.table("params", required=False)
    data: Mapping[str, Any] = params.data if params is not None else {}
    hints = typing.get_type_hints(cls)
    names = parameter_names(cls)
    where = entry.key("params")
    values: dict[str, Any] = {}
    ok = True
    for field in dataclasses.fields(cls):
        if not field.init:
            continue
        if field.name not in data:
            if field.default is dataclasses.MISSING:
                entry.problems.add(f"{where}.{field.name}", f"missing parameter of rule {name}")
                ok = False
            continue
        value, problem = _convert(data[field.name], hints[field.name])
        if problem:
            entry.problems.add(f"{where}.{field.name}", problem)
            ok = False
        else:
            values[field.name] = value
    for key in data:
        if key not in names:
            allowed = ", ".join(names) or "none"
            entry.problems.add(
                f"{where}.{key}", f"not a parameter of rule {name} (parameters: {allowed})"
            )
            ok = False
    result: T | None = cls(**values) if ok else None
    return result
