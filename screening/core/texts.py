"""Bilingual text values and the core's own messages (bokmål and English).

Instrument and rule texts live in the instrument files; only the messages the core itself
produces (rejections of answers and facts) are written here.
"""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES: tuple[str, ...] = ("nb", "en")
DEFAULT_LANGUAGE = "nb"


@dataclass(frozen=True, slots=True)
class Text:
    """A text in every supported language."""

    nb: str
    en: str

    def get(self, lang: str) -> str:
        if lang == "nb":
            return self.nb
        if lang == "en":
            return self.en
        from .errors import UnknownId

        raise UnknownId("language", lang, LANGUAGES)


def shown(value: object, limit: int = 40) -> str:
    """A short, single-line rendering of an arbitrary value for a message."""
    if isinstance(value, str):
        text = repr(value[:limit] + ("…" if len(value) > limit else ""))
    else:
        try:
            text = repr(value)
        except Exception:  # a hostile __repr__ must not break the message
            text = "<unprintable>"
        if len(text) > limit:
            text = text[:limit] + "…"
    kind = type(value).__name__
    one_line = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return f"{one_line} ({kind})"


# code -> (bokmål template, English template); fields are filled with str.format from values
# the core has already rendered safely (see `shown`).
MESSAGES: dict[str, tuple[str, str]] = {
    "not_mapping": (
        "svarene må være en tabell fra spørsmål til svaralternativ, fikk {value}",
        "answers must be a mapping from item id to option index, got {value}",
    ),
    "unknown_item": (
        "{item}: {instrument} har ikke dette spørsmålet (spørsmål: {known})",
        "{item}: {instrument} has no such item (items: {known})",
    ),
    "not_integer": (
        "{item}: svaret må være nummeret på et svaralternativ (heltall {low}–{high}), fikk {value}",
        "{item}: the answer must be an option index (a whole number {low}–{high}), got {value}",
    ),
    "out_of_range": (
        "{item}: svaralternativ {value} finnes ikke (gyldige: {low}–{high})",
        "{item}: option index {value} does not exist (valid: {low}–{high})",
    ),
    "not_asked": (
        "{item}: spørsmålet stilles ikke ({reason}), så det kan ikke besvares med {value}",
        "{item}: this item is not asked ({reason}), so it cannot be answered {value}",
    ),
    "incomplete": (
        "{item}: mangler svar; ufullstendig utfylling er et utkast og gir ingen skår "
        "(mangler: {missing})",
        "{item}: no answer; an incomplete questionnaire is a draft and gets no score "
        "(missing: {missing})",
    ),
    "bad_facts": (
        "pasientopplysningene må være PatientFacts, fikk {value}",
        "patient facts must be PatientFacts, got {value}",
    ),
    "bad_sex": (
        "sex: kjønn må være 'male' eller 'female', fikk {value}",
        "sex: must be 'male' or 'female', got {value}",
    ),
    "bad_age": (
        "age: alder må være et heltall {low}–{high}, fikk {value}",
        "age: must be a whole number {low}–{high}, got {value}",
    ),
    "bad_setting": (
        "setting: arena må være 'home_care' eller 'gp_practice', fikk {value}",
        "setting: must be 'home_care' or 'gp_practice', got {value}",
    ),
    "bad_medication": (
        "medication: må være en mengde av sjekkliste-id-er, fikk {value}",
        "medication: must be a set of checklist item ids, got {value}",
    ),
    "unknown_medication": (
        "medication: ukjent punkt {value} i sjekklisten (kjente: {known})",
        "medication: unknown checklist item {value} (known: {known})",
    ),
    "wrong_count": (
        "--answers: forventet {expected} svar ({first}–{last}), fikk {count}",
        "--answers: expected {expected} answers ({first}–{last}), got {count}",
    ),
    "unknown_id": (
        "{value}",
        "{value}",
    ),
    # Conversation (brief-intervention) checks.
    "unknown_field": (
        "{item}: ukjent felt (felter: {known})",
        "{item}: unknown field (fields: {known})",
    ),
    "bad_value": (
        "{item}: ugyldig verdi {value}; forventet {expected}",
        "{item}: invalid value {value}; expected {expected}",
    ),
    "required": (
        "{item}: må fylles ut når tiltaksnivået er {level} eller høyere",
        "{item}: required when the action level is {level} or higher",
    ),
    "required_with": (
        "{item}: må fylles ut når {field} er {value}",
        "{item}: required when {field} is {value}",
    ),
    "urgent_route": (
        "{item}: et akutt funn må sendes videre samme dag (fastlege samme dag, legevakt "
        "116 117, eller 113)",
        "{item}: an urgent finding must be routed the same day (GP the same day, emergency "
        "primary care 116 117, or 113)",
    ),
    "override_reason": (
        "{item}: et annet nivå enn det foreslåtte ({level}) krever en begrunnelse",
        "{item}: a level other than the suggested one ({level}) needs a reason",
    ),
}


def message(code: str, lang: str, fields: dict[str, str]) -> str:
    templates = MESSAGES.get(code)
    if templates is None:
        return f"{code}: {fields}"
    template = templates[0] if lang == "nb" else templates[1]
    if lang == "nb":  # a field may carry its own bokmål rendering as <name>_nb
        fields = {key: fields.get(f"{key}_nb", value) for key, value in fields.items()}
    try:
        return template.format(**fields)
    except (KeyError, IndexError):
        return f"{code}: {fields}"
