"""The one exception that stops the application from starting."""


class StartupError(Exception):
    """Something the app needs at start is missing or invalid; ``str()`` is one line
    that names the setting, file or variable, and never shows secret material."""
