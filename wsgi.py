"""WSGI entry point: ``app = create_app()``. A start-up problem ends the process with one
line on standard error and a non-zero exit status, before any port is served."""

from screening import StartupError, create_app

try:
    app = create_app()
except StartupError as err:
    raise SystemExit(f"screening: cannot start: {err}") from None
