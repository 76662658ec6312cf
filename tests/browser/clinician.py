"""What a clinician does in the browser, step by step, for the round tests: log in with a
TOTP code, register a patient, answer AUDIT items by their visible labels.

Locators go by role and accessible name (the legend of an item's fieldset, the label of an
option), as a screen-reader user would find them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from playwright.sync_api import Locator, Page, expect

from tests.app.fnr import random_fnr
from tests.app.staffing import PASSWORD, Person, next_code

# The bokmål option labels of instruments/audit.toml, by item number.
FREQUENCY = [
    "Aldri",
    "Månedlig eller sjeldnere",
    "To til fire ganger i måneden",
    "To til tre ganger i uken",
    "Fire ganger i uken eller mer",
]
QUANTITY = ["1–2", "3–4", "5–6", "7–9", "10 eller flere"]
OCCASION = ["Aldri", "Sjelden", "Noen ganger i måneden", "Noen ganger i uken", "Nesten daglig"]
INJURY = ["Nei", "Ja, men ikke i løpet av siste år", "Ja, i løpet av siste år"]
AUDIT_LABELS = {
    1: FREQUENCY,
    2: QUANTITY,
    **{n: OCCASION for n in range(3, 9)},
    9: INJURY,
    10: INJURY,
}
YES_NO = ["Nei", "Ja"]


def log_in(page: Page, person: Person, step: int = 0) -> None:
    """Fill the login form on the current page. Each TOTP code is accepted once, so a second
    login of the same account in one test passes ``step=1`` (the next 30-second code, which
    the server accepts as within one step of now)."""
    expect(page.get_by_role("heading", name="Logg inn")).to_be_visible()
    page.get_by_label("Brukernavn").fill(person.username)
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_label("Kode fra autentiseringsappen").fill(next_code(person.secret, step))
    page.get_by_role("button", name="Logg inn").click()
    expect(page.get_by_text(f"{person.username.title()} (")).to_be_visible()


def register_patient(page: Page, name: str, fnr: str) -> str:
    """From the home page: find-or-register, the registration form; returns the uuid."""
    page.get_by_role("link", name="Finn eller registrer pasient").click()
    page.get_by_role("link", name="Registrer ny pasient").click()
    page.get_by_label("Fødselsnummer").fill(fnr)
    page.get_by_label("Fullt navn").fill(name)
    page.get_by_role("button", name="Registrer", exact=True).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    return page.url.rstrip("/").rsplit("/", 1)[1]


def older_fnr(rng, sex: str) -> str:  # type: ignore[no-untyped-def]
    """Born 1945-1952: 65 or older, so the medication-and-falls checklist is part of it."""
    return random_fnr(rng, sex=sex, born_from=date(1945, 1, 1), born_to=date(1952, 12, 31))


def younger_fnr(rng, sex: str) -> str:  # type: ignore[no-untyped-def]
    return random_fnr(rng, sex=sex, born_from=date(1966, 1, 1), born_to=date(1981, 1, 1))


def item(page: Page, number: int | str, include_hidden: bool = False) -> Locator:
    """An item's fieldset, by the number its legend starts with ("3." or "M2.")."""
    return page.get_by_role(
        "group", name=re.compile(rf"^{re.escape(str(number))}\. "), include_hidden=include_hidden
    )


def option(page: Page, number: int, index: int) -> Locator:
    return item(page, number).get_by_role("radio", name=AUDIT_LABELS[number][index], exact=True)


def answer(page: Page, answers: dict[int, int]) -> None:
    """Tick AUDIT answers by item number and option index (points order)."""
    for number, index in answers.items():
        option(page, number, index).check()


def answer_all(page: Page, indices: Sequence[int | None]) -> None:
    answer(page, {n + 1: i for n, i in enumerate(indices) if i is not None})


def answer_medication(page: Page, yes: set[int] = frozenset()) -> None:  # type: ignore[assignment]
    """Answer every question of the medication-and-falls checklist (M1-M6): yes for the
    numbers in ``yes``, no for the others."""
    for number in range(1, 7):
        item(page, f"M{number}").get_by_role(
            "radio", name=YES_NO[1 if number in yes else 0], exact=True
        ).check()


def checked_items(page: Page) -> dict[int, int]:
    """{item number: checked option index} of the AUDIT items, hidden ones included."""
    out = {}
    for number in range(1, 11):
        checked = page.locator(f'input[name="q{number}"]:checked')
        if checked.count():
            out[number] = int(checked.get_attribute("value") or "-1")
    return out
