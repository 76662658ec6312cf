"""The form that marks an assessment as void (entered wrongly)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField

from .base import Form


class VoidForm(Form):
    # Length and characters are checked by services.voiding (one message for each case).
    reason = TextAreaField(_l("Why is this screening wrong?"),
                           render_kw={"maxlength": "500", "rows": "3"})
