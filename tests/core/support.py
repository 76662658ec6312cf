"""Helpers shared by the clinical-core tests (case files, answer vectors, the catalogue)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from screening.core.catalogue import DEFAULT_DIRECTORY, Catalogue, load_catalogue
from screening.core.instruments import Instrument

CASES_DIRECTORY = Path(__file__).parent / "cases"

_CATALOGUE: Catalogue | None = None


def shared_catalogue() -> Catalogue:
    """The repository's catalogue, loaded once (also usable outside fixtures, e.g. Hypothesis)."""
    global _CATALOGUE
    if _CATALOGUE is None:
        _CATALOGUE = load_catalogue(DEFAULT_DIRECTORY)
    return _CATALOGUE


def answers_from(instrument: Instrument, vector: Sequence[Any]) -> dict[str, Any]:
    """A case vector (indices, "-" for not asked) as an answers mapping (not-asked omitted)."""
    return {
        item_id: value
        for item_id, value in zip(instrument.item_ids, vector, strict=False)
        if value != "-"
    }


def answers_text(vector: Sequence[Any]) -> str:
    """A case vector in command-line syntax: ``2,1,-,...``."""
    return ",".join(str(v) for v in vector)


def case_files() -> list[Path]:
    return sorted(CASES_DIRECTORY.rglob("*.toml"))


def load_case_file(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def case_params(kind: str) -> list[Any]:
    """pytest params (id ``file:case``) for every case of the given kind in every case file."""
    params = []
    for path in case_files():
        data = load_case_file(path)
        if data.get("kind", "evaluation") != kind:
            continue
        name = path.relative_to(CASES_DIRECTORY).as_posix()
        for case in data["cases"]:
            merged: Mapping[str, Any] = {**data.get("defaults", {}), **case}
            params.append(pytest.param(dict(merged), id=f"{name}:{case['id']}"))
    return params
