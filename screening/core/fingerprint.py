"""Fingerprints of instrument and rule-set files: what a stored result was produced with.

A fingerprint is the SHA-256 of the file's *canonical content*: the parsed TOML mapping
written as JSON with sorted keys, no insignificant whitespace and UTF-8 text. Comments,
blank lines, key order, quoting styles and inline-versus-standard tables therefore do not
count; every value does (a text, a point, a threshold, a reason). The parsed mapping, not the
file's bytes, because it is exactly what the loader turned into the instrument: a comment
corrected, or a file re-indented, changes nothing a result or its page depends on, and must
not stop the app, while one changed value must.

`compare` checks the files loaded now against the fingerprints recorded earlier (by
``flask instruments record`` or ``flask db upgrade``, and by the first result made with a
file): the same kind, id and version with other content is a changed file, and an
instrument version recorded earlier with no file now can no longer show its results with
their own texts.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SHORT = 8  # characters shown to people (as a short git commit id)
KINDS = ("instrument", "conversation", "rule_set")


def _plain(value: object) -> object:
    """TOML dates and times as ISO text (JSON has no such type)."""
    if isinstance(value, (datetime.date, datetime.time)):  # datetime is a date
        return value.isoformat()
    raise TypeError(f"not a TOML value: {type(value).__name__}")


def canonical_json(data: Mapping[str, Any]) -> bytes:
    """The canonical content of a parsed file (see the module's docstring)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False, default=_plain)
    return text.encode("utf-8")


def fingerprint(data: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical content, 64 lowercase hex digits."""
    return hashlib.sha256(canonical_json(data)).hexdigest()


def short(value: str | None) -> str:
    return (value or "")[:SHORT]


@dataclass(frozen=True, slots=True)
class FileFingerprint:
    """One loaded file: its kind (instrument, conversation, rule_set), id and version, and
    its fingerprint; ``source`` is the file's name in the instruments folder."""

    kind: str
    id: str
    version: int
    fingerprint: str
    source: str = ""

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.kind, self.id, self.version)

    def named(self) -> str:
        what = {"instrument": "instrument", "conversation": "conversation checklist",
                "rule_set": "rule set"}[self.kind]
        return f"{what} {self.id!r} version {self.version}"


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A file that disagrees with what was recorded: ``changed`` (other content under the
    same id and version) or ``missing`` (an instrument version recorded, no file now)."""

    code: str
    recorded: FileFingerprint
    loaded: FileFingerprint | None = None

    def line(self) -> str:
        """One line naming the file, its id and version, and what to do."""
        if self.code == "changed" and self.loaded is not None:
            return (f"{self.loaded.source}: {self.loaded.named()} differs from the content "
                    f"recorded for that version (recorded {short(self.recorded.fingerprint)}, "
                    f"file now {short(self.loaded.fingerprint)}): raise its version, or put "
                    f"back the recorded content")
        return (f"{self.recorded.named()} was recorded (results may use it) but no file holds "
                f"it now: keep it as versions/{self.recorded.id}-{self.recorded.version}.toml "
                f"(recorded from {self.recorded.source or 'an earlier file'})")


def compare(recorded: Iterable[FileFingerprint],
            loaded: Iterable[FileFingerprint]) -> tuple[list[Mismatch], list[FileFingerprint]]:
    """(mismatches, files not recorded yet). Rule sets and conversation checklists need not
    stay installed (a result keeps their names and reasons); instruments do (a result shows
    its answers with its own version's item and option texts)."""
    now = {f.key: f for f in loaded}
    before = {f.key: f for f in recorded}
    problems: list[Mismatch] = []
    for key, earlier in sorted(before.items()):
        file = now.get(key)
        if file is None:
            if earlier.kind == "instrument":
                problems.append(Mismatch("missing", earlier))
        elif file.fingerprint != earlier.fingerprint:
            problems.append(Mismatch("changed", earlier, file))
    new = [f for key, f in sorted(now.items()) if key not in before]
    return problems, new
