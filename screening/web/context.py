"""Access to the app's assembled parts from inside a request."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from ..core.catalogue import Catalogue
from ..crypto.keys import KeyRing
from ..database import Database
from ..services.provenance import Book
from ..settings import Settings


def settings() -> Settings:
    return current_app.extensions["screening.settings"]


def database() -> Database:
    return current_app.extensions["screening.db"]


def keyring() -> KeyRing:
    return current_app.extensions["screening.keys"]


def catalogue() -> Catalogue:
    return current_app.extensions["screening.catalogue"]


def provenance() -> Book:
    """The instrument files this process knows to be recorded (services.provenance)."""
    return current_app.extensions["screening.provenance"]


def db_session() -> Session:
    """The request's read session, closed at teardown."""
    if "db_session" not in g:
        g.db_session = database().read_session()
    return g.db_session


def close_db_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def older_age() -> int:
    """From this age the medication-and-falls checklist is part of the screening."""
    return catalogue().rule_set(settings().rule_set).older_age
