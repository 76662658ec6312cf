"""Fixtures for the clinical-core tests (no app, no database: milliseconds)."""

from __future__ import annotations

import pytest

from screening.core.catalogue import Catalogue
from screening.core.instruments import Instrument

from .support import shared_catalogue


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return shared_catalogue()


@pytest.fixture(scope="session")
def audit(catalogue: Catalogue) -> Instrument:
    return catalogue.instrument("audit")


@pytest.fixture(scope="session")
def dudit(catalogue: Catalogue) -> Instrument:
    return catalogue.instrument("dudit")
