"""Flask extension objects, bound to an app in ``factory.assemble``."""

from flask_babel import Babel
from flask_wtf import CSRFProtect

csrf = CSRFProtect()
babel = Babel()
