"""Cached renderings of the questionnaire's item fieldsets.

An item's fieldset (question, hint, five answer options) depends only on the item, the
language, the field name, which option is checked and the error text: nothing about the
patient beyond the index of the checked option, so the same inputs give the same markup for
everyone. The AUDIT form draws about twenty of them on every page; drawing each once per
combination (a few hundred in all) takes most of the form's rendering off every request.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from markupsafe import Markup

_MAX_ENTRIES = 4096
_cache: dict[tuple[Any, ...], tuple[Any, Markup]] = {}


def item_fieldset(item: Any, lang: str, name: str, selected: int | None,
                  error: str | None = None, hidden: bool = False, prefix: str = "") -> Markup:
    """The ``item_fieldset`` macro of ``macros.html``, cached. The cache holds the item
    itself beside the markup, so an item object that is gone (instruments loaded again)
    can never be mistaken for a new one at the same address."""
    key = (id(item), lang, name, selected, None if error is None else str(error), hidden, prefix)
    found = _cache.get(key)
    if found is not None and found[0] is item:
        return found[1]
    macro = current_app.jinja_env.get_template("macros.html").module.item_fieldset  # type: ignore[attr-defined]
    markup = macro(item, lang, name, selected, error, hidden=hidden, prefix=prefix)
    assert isinstance(markup, Markup)  # the macro's output, escaped by Jinja
    if len(_cache) >= _MAX_ENTRIES:
        _cache.clear()
    _cache[key] = (item, markup)
    return markup
