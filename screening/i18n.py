"""Language choice: the signed-in user's preference, else the session's, else bokmål."""

from __future__ import annotations

from flask import current_app, g, session

LANGUAGES = {"nb": "Norsk bokmål", "en": "English"}


def select_locale() -> str:
    user = getattr(g, "staff", None)
    preferred = getattr(user, "locale", None)
    if preferred in LANGUAGES:
        return str(preferred)
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    return str(current_app.extensions["screening.settings"].default_locale)


def current_lang() -> str:
    """The language of this request: ``nb`` or ``en``."""
    from flask_babel import get_locale

    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "nb"
