"""Synthetic fødselsnumre and D-numbers for tests and demo data.

Numbers are made here from a random birth date and a random individual number, with the two
mod-11 check digits computed as the standard prescribes; none is copied from anywhere.
(Any valid number may happen to be assigned to someone; these are used only inside throwaway
test databases and never shown outside them.)

Layout: DDMMYY III K1 K2. The individual number III tells the century: 000–499 for
1900–1999, 500–999 for 2000–2039 (and 500–749 for 1854–1899); its last digit is odd for men,
even for women. A D-number adds 4 to the first digit of the day.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def check_digits(first_nine: str) -> str | None:
    """The two check digits for nine digits, or None if that individual number is unusable
    (a check digit would be 10)."""
    k1 = (11 - sum(w * int(d) for w, d in zip(W1, first_nine))) % 11
    if k1 == 10:
        return None
    k2 = (11 - sum(w * int(d) for w, d in zip(W2, first_nine + str(k1)))) % 11
    if k2 == 10:
        return None
    return f"{k1}{k2}"


def individual_range(year: int) -> range:
    if 1900 <= year <= 1999:
        return range(0, 500)
    if 2000 <= year <= 2039:
        return range(500, 1000)
    if 1854 <= year <= 1899:
        return range(500, 750)
    raise ValueError("no individual numbers for that year")


def make_fnr(birth: date, individual: int, *, d_number: bool = False) -> str | None:
    """The number for a birth date and individual number, or None if it has no valid check
    digits."""
    if individual not in individual_range(birth.year):
        raise ValueError("individual number does not fit the birth year")
    day = birth.day + (40 if d_number else 0)
    first_nine = f"{day:02d}{birth.month:02d}{birth.year % 100:02d}{individual:03d}"
    digits = check_digits(first_nine)
    return None if digits is None else first_nine + digits


def random_fnr(rng: random.Random, *, sex: str | None = None, d_number: bool = False,
               born_from: date = date(1925, 1, 1), born_to: date = date(1965, 12, 31)) -> str:
    """A random valid number; ``sex`` "male"/"female" fixes the sex digit."""
    span = (born_to - born_from).days
    while True:
        birth = born_from + timedelta(days=rng.randrange(span + 1))
        allowed = individual_range(birth.year)
        individual = rng.randrange(allowed.start, allowed.stop)
        if sex is not None and (individual % 2 == 1) != (sex == "male"):
            individual = individual + 1 if individual + 1 < allowed.stop else individual - 1
        number = make_fnr(birth, individual, d_number=d_number)
        if number is not None:
            return number


def synthetic_fnrs(count: int, seed: int = 2026, d_share: float = 0.1) -> list[str]:
    """``count`` distinct random numbers, about ``d_share`` of them D-numbers."""
    rng = random.Random(seed)
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen[random_fnr(rng, d_number=rng.random() < d_share)] = None
    return list(seen)


def spaced(number: str) -> str:
    """The 6+5 form, ``DDMMYY NNNNN``."""
    return f"{number[:6]} {number[6:]}"


def with_bad_check_digit(number: str) -> str:
    return number[:10] + str((int(number[10]) + 1) % 10)
