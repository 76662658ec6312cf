"""The read-only catalogue of instruments, conversation checklists and rule sets, by id.

Layout of the instruments directory::

    instruments/*.toml           instruments (questionnaire, checklist) and conversation
                                 checklists: the versions used for new results
    instruments/rules/*.toml     rule sets
    instruments/versions/*.toml  earlier versions of instruments, named ``<id>-<version>.toml``:
                                 a result made with one is shown with its own texts

Every loaded object carries the fingerprint of its file (core.fingerprint); `Catalogue.files`
lists them all for the record of fingerprints seen.

`load_catalogue` checks every file completely and raises InstrumentFileError listing every
problem; `check_directory` gives the same verdict per file without raising.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .conversation import Conversation
from .conversation_parser import parse_conversation
from .errors import InstrumentFileError, UnknownId
from .fingerprint import FileFingerprint
from .instruments import Instrument, parse_instrument
from .reader import Problems
from .rulesets import RuleSet, parse_rule_set

DEFAULT_DIRECTORY: Path = Path(__file__).resolve().parents[2] / "instruments"
RULES_FOLDER = "rules"
VERSIONS_FOLDER = "versions"
MEDICATION_CHECKLIST_ID = "medication_falls"
CATALOGUE_KEY = "(catalogue)"


@dataclass(frozen=True)
class Catalogue:
    directory: Path
    instruments: Mapping[str, Instrument]
    conversations: Mapping[str, Conversation]
    rule_sets: Mapping[str, RuleSet]
    default_rule_set_id: str
    medication_checklist_id: str = MEDICATION_CHECKLIST_ID
    # Earlier versions of instruments, by (id, version); never used for new results.
    earlier: Mapping[tuple[str, int], Instrument] = field(
        default_factory=lambda: MappingProxyType({}))
    medication_ids: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        checklist = self.instruments[self.medication_checklist_id]
        object.__setattr__(self, "medication_ids", frozenset(checklist.item_ids))

    def instrument(self, instrument_id: str) -> Instrument:
        try:
            return self.instruments[instrument_id]
        except (KeyError, TypeError):
            raise UnknownId("instrument", instrument_id, self.instruments) from None

    def instrument_version(self, instrument_id: str, version: int | str) -> Instrument | None:
        """The instrument as it was in ``version`` (the current file or an earlier version's
        file), or None when no file holds that version."""
        try:
            number = int(version)
        except (TypeError, ValueError):
            return None
        current = self.instruments.get(instrument_id)
        if current is not None and current.version == number:
            return current
        return self.earlier.get((instrument_id, number))

    def files(self) -> tuple[FileFingerprint, ...]:
        """Every loaded file with its fingerprint, earlier versions included."""
        found = [FileFingerprint("instrument", i.id, i.version, i.fingerprint, i.source_file)
                 for i in (*self.instruments.values(), *self.earlier.values())]
        found += [FileFingerprint("conversation", c.id, c.version, c.fingerprint, c.source_file)
                  for c in self.conversations.values()]
        found += [FileFingerprint("rule_set", r.id, r.version, r.fingerprint, r.source_file)
                  for r in self.rule_sets.values()]
        return tuple(sorted(found, key=lambda f: f.key))

    def conversation(self, conversation_id: str) -> Conversation:
        try:
            return self.conversations[conversation_id]
        except (KeyError, TypeError):
            raise UnknownId("conversation", conversation_id, self.conversations) from None

    def rule_set(self, rule_set_id: str) -> RuleSet:
        try:
            return self.rule_sets[rule_set_id]
        except (KeyError, TypeError):
            raise UnknownId("rule set", rule_set_id, self.rule_sets) from None

    @property
    def default_rule_set(self) -> RuleSet:
        return self.rule_sets[self.default_rule_set_id]


def _read(path: Path, problems: Problems) -> dict[str, Any] | None:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        problems.add("(syntax)", f"not valid TOML: {error}")
    except UnicodeDecodeError as error:
        problems.add("(syntax)", f"not UTF-8 text: {error.reason} at byte {error.start}")
    except OSError as error:
        problems.add("(file)", f"cannot be read: {error.strerror or error}")
    return None


def _files(directory: Path, folder: str | None) -> list[tuple[str, Path]]:
    base = directory / folder if folder else directory
    if not base.is_dir():
        return []
    return [
        (path.relative_to(directory).as_posix(), path)
        for path in sorted(base.glob("*.toml"))
        if path.is_file()
    ]


def _load(directory: Path) -> tuple[Catalogue | None, list[tuple[str, list[str]]]]:
    results: list[tuple[str, list[str]]] = []
    catalogue_problems = Problems(CATALOGUE_KEY)
    instruments: dict[str, Instrument] = {}
    conversations: dict[str, Conversation] = {}
    owners: dict[str, str] = {}
    broken: set[str] = set()
    if not directory.is_dir():
        catalogue_problems.add("(directory)", f"{directory} is not a directory")
    for name, path in _files(directory, None):
        problems = Problems(name)
        data = _read(path, problems)
        if data is not None:
            loaded: Instrument | Conversation | None
            if data.get("kind") == "conversation":
                loaded = parse_conversation(data, problems)
            else:
                loaded = parse_instrument(data, problems)
            file_id = data.get("id")
            if isinstance(file_id, str) and loaded is None:
                broken.add(file_id)
            if loaded is not None:
                if loaded.id in owners:
                    problems.add("id", f"duplicate id {loaded.id!r} (also in {owners[loaded.id]})")
                else:
                    owners[loaded.id] = name
                    if isinstance(loaded, Conversation):
                        conversations[loaded.id] = loaded
                    else:
                        instruments[loaded.id] = loaded
        results.append((name, problems.errors))
    rule_sets: dict[str, RuleSet] = {}
    rule_owners: dict[str, str] = {}
    for name, path in _files(directory, RULES_FOLDER):
        problems = Problems(name)
        data = _read(path, problems)
        if data is not None:
            for section in sorted(broken & set(data)):
                problems.add(section, f"cannot be checked: instrument {section!r} failed to load")
            if not problems:
                rule_set = parse_rule_set(data, problems, instruments)
                if rule_set is not None and rule_set.id in rule_owners:
                    other = rule_owners[rule_set.id]
                    problems.add("id", f"duplicate rule set id {rule_set.id!r} (also in {other})")
                elif rule_set is not None:
                    rule_owners[rule_set.id] = name
                    rule_sets[rule_set.id] = rule_set
        results.append((name, problems.errors))
    earlier = _load_earlier(directory, instruments, results)
    if not rule_owners and not any(n.startswith(RULES_FOLDER) for n, _ in results):
        catalogue_problems.add("rules", f"no rule sets in {RULES_FOLDER}/")
    checklist = instruments.get(MEDICATION_CHECKLIST_ID)
    if checklist is None and MEDICATION_CHECKLIST_ID not in broken:
        catalogue_problems.add(
            MEDICATION_CHECKLIST_ID, "the medication-and-falls checklist instrument is missing"
        )
    elif checklist is not None and checklist.kind != "checklist":
        catalogue_problems.add(MEDICATION_CHECKLIST_ID, "must be of kind 'checklist'")
    defaults = sorted(r.id for r in rule_sets.values() if r.default)
    if rule_sets and len(defaults) != 1:
        found = ", ".join(defaults) or "none"
        catalogue_problems.add(
            "default", f"exactly one rule set must have default = true (found: {found})"
        )
    if catalogue_problems:
        results.append((CATALOGUE_KEY, catalogue_problems.errors))
    if any(errors for _, errors in results):
        return None, results
    catalogue = Catalogue(
        directory=directory,
        instruments=MappingProxyType(instruments),
        conversations=MappingProxyType(conversations),
        rule_sets=MappingProxyType(rule_sets),
        default_rule_set_id=defaults[0],
        earlier=MappingProxyType(earlier),
    )
    return catalogue, results


def _load_earlier(directory: Path, current: Mapping[str, Instrument],
                  results: list[tuple[str, list[str]]]) -> dict[tuple[str, int], Instrument]:
    """The files in ``versions/``: earlier versions of instruments, ``<id>-<version>.toml``,
    each below the current version of its id (an id no longer in use is allowed: its old
    results are still shown)."""
    earlier: dict[tuple[str, int], Instrument] = {}
    for name, path in _files(directory, VERSIONS_FOLDER):
        problems = Problems(name)
        data = _read(path, problems)
        loaded = None
        if data is not None and data.get("kind") == "conversation":
            problems.add("kind", f"{VERSIONS_FOLDER}/ holds earlier versions of instruments only")
        elif data is not None:
            loaded = parse_instrument(data, problems)
        if loaded is not None:
            expected = f"{loaded.id}-{loaded.version}.toml"
            now = current.get(loaded.id)
            if path.name != expected:
                problems.add("(file)", f"an earlier version of {loaded.id!r} version "
                                       f"{loaded.version} must be named {expected}")
            elif now is not None and loaded.version >= now.version:
                problems.add("version", f"{loaded.version} is not earlier than the current "
                                        f"version {now.version} of {loaded.id!r} "
                                        f"({now.source_file})")
            else:
                earlier[(loaded.id, loaded.version)] = loaded
        results.append((name, problems.errors))
    return earlier


def check_directory(directory: Path = DEFAULT_DIRECTORY) -> list[tuple[str, list[str]]]:
    """Every file (relative name) with its problems; an empty list of problems means OK.

    Problems that belong to no single file are listed under ``"(catalogue)"``.
    """
    return _load(Path(directory))[1]


def load_catalogue(directory: Path = DEFAULT_DIRECTORY) -> Catalogue:
    """Load and check every file; raise InstrumentFileError listing every problem."""
    catalogue, results = _load(Path(directory))
    if catalogue is None:
        errors = [error for _, file_errors in results for error in file_errors]
        raise InstrumentFileError(errors or [f"{directory}: no instruments"])
    return catalogue
