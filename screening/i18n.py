"""Language choice: the signed-in user's preference, else the session's, else bokmål."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, session

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


def _translations() -> Any:
    """This request's catalogue, looked up once per request (Flask-Babel looks it up again
    for every string, which costs more than drawing the rest of a page's text)."""
    try:
        return g._screening_translations
    except AttributeError:
        from flask_babel import get_translations

        found = g._screening_translations = get_translations()
        return found


def install_template_gettext(app: Flask) -> None:
    """Give templates ``_``/``gettext``/``ngettext`` that use :func:`_translations`. Call
    after ``babel.init_app``; the language is chosen before any template is drawn."""
    env = app.jinja_env
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
    )
    # ``_`` is Jinja's alias that looks ``gettext`` up in the context on every call; no
    # template or view here ever overrides ``gettext``, so ``_`` is that function itself
    # (a page calls it 20-30 times).
    env.globals["_"] = env.globals["gettext"]
