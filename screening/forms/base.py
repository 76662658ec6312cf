"""The base of every form: Flask-WTF's, with WTForms' own messages translated from a
catalogue loaded once per language (Flask-WTF reads the catalogue file on every request)."""

from __future__ import annotations

from functools import lru_cache

from babel import support
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path


@lru_cache(maxsize=8)
def _catalogue(locale: str) -> support.NullTranslations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form: object) -> support.NullTranslations:
            return _catalogue(str(get_locale() or "nb"))
