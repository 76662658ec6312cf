"""Fødselsnummer checking at volume: 100,000 generated valid numbers (and D-numbers) are
accepted by ``services.patients.validate_fnr``; every single-digit substitution and every
adjacent transposition of 10,000 of them is rejected.

Why none can slip through: a number d1..d11 is valid when
``sum(W1[i] * d[i], i = 1..10) ≡ 0`` and ``sum(W2[i] * d[i], i = 1..11) ≡ 0 (mod 11)``, with
W1 = 3 7 6 1 8 9 4 5 2 1 and W2 = 5 4 3 2 7 6 5 4 3 2 1. Changing one digit by e (0 < |e| < 10)
changes the first sum by W1[i]·e for i ≤ 10, or the second by e for i = 11; 11 is prime
and divides neither factor, so the sum is no longer ≡ 0. Swapping d[i] and d[i+1] (unequal)
changes the first sum by (W1[i] − W1[i+1])·(d[i+1] − d[i]) for i ≤ 9, and by d11 − d10 for
i = 10; every adjacent difference of W1 is non-zero mod 11 (checked below), so again the
sum moves off 0. Both kinds of error are always caught by the check digits alone; the test
shows the implementation agrees (it runs in a few seconds, so it is not marked slow).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from screening.services.patients import PatientError, validate_fnr
from tests.app.fnr import W1, W2, random_fnr

# No database is involved: run once, in the SQLite pass of the suite.
pytestmark = pytest.mark.no_database

VALID_COUNT = 100_000
MUTATED_COUNT = 10_000
FULL_W1 = (*W1, 1)  # the first check digit itself has weight 1 in the first sum
FULL_W2 = (*W2, 1)


def _numbers(count: int, seed: int) -> list[str]:
    """Distinct valid numbers, born 1900 to yesterday (both centuries of individual numbers),
    both sexes, one in ten a D-number."""
    rng = random.Random(seed)
    latest = date.today() - timedelta(days=1)
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen[random_fnr(rng, d_number=rng.random() < 0.1, born_from=date(1900, 1, 1),
                        born_to=latest)] = None
    return list(seen)


@pytest.fixture(scope="module")
def numbers() -> list[str]:
    return _numbers(VALID_COUNT, seed=20_260_801)


def _accepted(number: str) -> bool:
    try:
        validate_fnr(number)
    except PatientError as err:
        assert err.code == "invalid_fnr"
        return False
    return True


def test_the_weights_catch_every_substitution_and_adjacent_transposition() -> None:
    assert all(w % 11 for w in FULL_W1) and all(w % 11 for w in FULL_W2)
    assert all((a - b) % 11 for a, b in zip(FULL_W1, FULL_W1[1:], strict=False))


def test_100000_generated_numbers_are_accepted(numbers: list[str]) -> None:
    assert len(set(numbers)) == VALID_COUNT
    refused = [n for n in numbers if not _accepted(n)]
    assert not refused, f"{len(refused)} valid numbers refused"
    infos = [validate_fnr(n) for n in numbers[:5000]]
    assert {i.sex for i in infos} == {"male", "female"}
    assert any(i.d_number for i in infos) and not all(i.d_number for i in infos)
    years = [i.birth_date.year for i in infos]
    assert min(years) < 1950 and max(years) >= 2000


def test_every_substitution_and_adjacent_transposition_of_10000_is_rejected(
        numbers: list[str]) -> None:
    substitutions = transpositions = 0
    slipped: list[tuple[str, str]] = []
    for number in numbers[:MUTATED_COUNT]:
        for i, digit in enumerate(number):
            for other in "0123456789":
                if other != digit:
                    substitutions += 1
                    changed = number[:i] + other + number[i + 1:]
                    if _accepted(changed):
                        slipped.append(("substitution", changed))
        for i in range(10):
            if number[i] != number[i + 1]:  # swapping equal digits is the same number
                transpositions += 1
                changed = number[:i] + number[i + 1] + number[i] + number[i + 2:]
                if _accepted(changed):
                    slipped.append(("transposition", changed))
    assert substitutions == MUTATED_COUNT * 99
    assert transpositions > MUTATED_COUNT * 8
    assert not slipped, f"{len(slipped)} mutated numbers accepted (first kind: {slipped[0][0]})"
