"""Assembly of the Flask application (called by ``create_app``)."""

from __future__ import annotations

import logging
import os
from datetime import timedelta

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from .core.catalogue import Catalogue, load_catalogue
from .core.errors import InstrumentFileError
from .crypto.keys import KeyFileError, load_key_file
from .database import Database
from .extensions import babel, csrf
from .i18n import install_template_gettext, select_locale
from .services.passwords import Hasher
from .services.provenance import Book, ProvenanceError
from .services.provenance import check as check_fingerprints
from .settings import PROJECT_ROOT, Settings, SettingsError
from .startup import StartupError


def assemble(settings: Settings | None = None) -> Flask:
    try:
        settings = settings if settings is not None else Settings.from_env()
    except SettingsError as err:
        raise StartupError(str(err)) from None
    _check_instance_dir(settings)
    try:
        keyring = load_key_file(settings.resolved_key_file)
    except KeyFileError as err:
        missing = err.problem == "does not exist"
        hint = " (create it with: flask --app wsgi keys init)" if missing else ""
        raise StartupError(f"{err}{hint}") from None
    try:
        catalogue = load_catalogue(settings.instruments_dir)
    except InstrumentFileError as err:
        first = err.errors[0] if err.errors else str(err)
        more = f" (and {len(err.errors) - 1} more)" if len(err.errors) > 1 else ""
        raise StartupError(
            f"invalid instrument file: {first}{more}; run: flask --app wsgi check-instruments"
        ) from None
    try:
        catalogue.rule_set(settings.rule_set)
    except LookupError:
        raise StartupError(f"SCREENING_RULE_SET: no rule set named {settings.rule_set!r}") from None

    database = Database(settings)
    _check_database(database, settings)
    book = _check_fingerprints(database, catalogue)

    app = Flask(
        "screening",
        root_path=str(PROJECT_ROOT / "screening"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "screening" / "static"),
        instance_path=str(settings.instance_dir),
    )
    app.config.update(
        SECRET_KEY=keyring.session_secret,
        DEBUG=settings.debug,
        SESSION_COOKIE_NAME="screening_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        # The cookie outlives the server's absolute session limit by a day (set at login):
        # a form sent after the session ended must still show whose it was, so that it is
        # kept for her (web.parking). The server decides whether a session is live
        # (services.accounts.resume: idle and absolute limits). Re-signing the cookie on
        # every response would only push its date on, and cost a signature per request.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_max_hours + 24),
        SESSION_REFRESH_EACH_REQUEST=False,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        MAX_FORM_MEMORY_SIZE=1024 * 1024 + 4096,
        WTF_CSRF_TIME_LIMIT=None,  # tokens are bound to the session, which expires itself
        # CSRF is checked by web.security after the login check, not before it (web.parking).
        WTF_CSRF_CHECK_DEFAULT=False,
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_TRANSLATION_DIRECTORIES=str(PROJECT_ROOT / "screening" / "translations"),
        TEMPLATES_AUTO_RELOAD=settings.debug,
    )
    app.extensions["screening.settings"] = settings
    app.extensions["screening.keys"] = keyring
    app.extensions["screening.catalogue"] = catalogue
    app.extensions["screening.db"] = database
    app.extensions["screening.provenance"] = book
    app.extensions["screening.hasher"] = Hasher(
        settings.argon2_time_cost, settings.argon2_memory_kib
    )

    _configure_logging(settings)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    install_template_gettext(app)

    from .web import register_blueprints
    from .web.errors import register_error_handlers
    from .web.security import register_security
    from .web.templating import register_templating

    register_security(app)
    register_templating(app)
    register_error_handlers(app)
    register_blueprints(app)

    from .cli import register_commands

    register_commands(app)
    if settings.trusted_proxies:
        # The client address (login throttling) and scheme as the reverse proxy saw them.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    return app


def _check_instance_dir(settings: Settings) -> None:
    folder = settings.instance_dir
    if not folder.is_dir():
        raise StartupError(
            f"SCREENING_INSTANCE_DIR: {folder} is not a folder (make run creates it)"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StartupError(f"SCREENING_INSTANCE_DIR: {folder} is not writable")


def _check_database(database: Database, settings: Settings) -> None:
    """Fail fast on a database the app cannot use. SQLite: the folder of the file must be
    writable (the file itself is created by ``db upgrade``). PostgreSQL: one connection."""
    if database.is_sqlite:
        path = database.engine.url.database or ""
        if path in ("", ":memory:"):
            raise StartupError("SCREENING_DATABASE_URL: an in-memory SQLite database is not usable")
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
            raise StartupError(
                f"SCREENING_DATABASE_URL: folder {parent} is missing or not writable"
            )
        return
    try:
        database.ping()
        database.dispose()  # no connection is carried into forked server workers
    except Exception as err:  # noqa: BLE001 - any driver error means: cannot start
        kind = type(getattr(err, "orig", err)).__name__
        url = database.engine.url.render_as_string(hide_password=True)
        database.dispose()
        raise StartupError(f"SCREENING_DATABASE_URL: cannot connect to {url} ({kind})") from None


def _check_fingerprints(database: Database, catalogue: Catalogue) -> Book:
    """Refuse to start when a file's content differs from what was recorded under its id and
    version, or an instrument version recorded earlier has no file now. Reads only; no
    connection is left open (forked server workers make their own)."""
    try:
        return check_fingerprints(database, catalogue)
    except ProvenanceError as err:
        raise StartupError(f"instrument files differ from the record: {err}; run: flask --app wsgi "
                           "check-instruments") from None
    except SQLAlchemyError as err:
        # The app starts and reports itself unhealthy (/healthz), as on any database it
        # cannot read; the first result it stores compares its files with the record then.
        logging.getLogger("screening").warning(
            "the record of instrument files could not be read (%s)",
            type(getattr(err, "orig", err)).__name__)
        return Book()
    finally:
        database.dispose()


def _configure_logging(settings: Settings) -> None:
    logger = logging.getLogger("screening")
    logger.setLevel(settings.log_level)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
