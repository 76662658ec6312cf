"""``flask keys init | check | rotate | retire``.

Registered as a Flask plugin command, so that ``keys init`` and ``keys check`` run without
the app (which refuses to start without a valid key file). ``rotate`` and ``retire`` load
the app, because they touch the database.
"""

from __future__ import annotations

import click
from flask.cli import ScriptInfo

from .crypto.keys import KeyFileError, init_key_file, load_key_file, retire_kek, rotate_key_file
from .settings import Settings, SettingsError
from .startup import StartupError


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as err:
        raise click.ClickException(str(err)) from None


def _load_app():
    info = click.get_current_context().ensure_object(ScriptInfo)
    try:
        return info.load_app()
    except StartupError as err:
        raise click.ClickException(str(err)) from None


@click.group("keys", help="The key file: create, check, rotate, retire.")
def keys() -> None:
    pass


@keys.command("init")
@click.option("--if-missing", is_flag=True, help="Do nothing when a key file exists.")
def init(if_missing: bool) -> None:
    """Create a new key file (mode 0600) at SCREENING_KEY_FILE."""
    path = _settings().resolved_key_file
    if if_missing and (path.exists() or path.is_symlink()):
        load_or_fail(path)
        click.echo(f"key file {path} exists and is valid")
        return
    try:
        ring = init_key_file(path)
    except KeyFileError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"created key file {path} (key-encryption key {ring.kek_id})")
    click.echo("Keep a copy in escrow: without this file, all sealed data is lost.")


def load_or_fail(path):
    try:
        return load_key_file(path)
    except KeyFileError as err:
        raise click.ClickException(str(err)) from None


@keys.command("check")
def check() -> None:
    """Check the key file: permissions, lengths, key-check values, distinct keys."""
    path = _settings().resolved_key_file
    ring = load_or_fail(path)
    click.echo(f"key file {path} is valid; current key-encryption key {ring.kek_id}; "
               f"{len(ring.keks)} key-encryption key(s)")


@keys.command("rotate")
@click.option("--batch-size", default=200, show_default=True, type=click.IntRange(1, 10000))
def rotate(batch_size: int) -> None:
    """Add a new key-encryption key and re-wrap every data key under it, in small batches,
    while the app keeps serving."""
    path = _settings().resolved_key_file
    load_or_fail(path)
    try:
        ring = rotate_key_file(path)
    except KeyFileError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"new key-encryption key {ring.kek_id}; re-wrapping data keys")
    app = _load_app()
    from .services.key_rotation import rewrap_all

    with app.app_context():
        count = rewrap_all(app.extensions["screening.db"], app.extensions["screening.keys"],
                           batch_size=batch_size)
    click.echo(f"re-wrapped {count} data key(s); the web app must be restarted to pick up "
               "the new key file before old keys are retired")


@keys.command("retire")
@click.argument("kek_id")
def retire(kek_id: str) -> None:
    """Remove an old key-encryption key; refused while any row still uses it."""
    app = _load_app()
    from .services.key_rotation import rows_using

    with app.app_context():
        remaining = rows_using(app.extensions["screening.db"], kek_id)
    if remaining:
        raise click.ClickException(
            f"{remaining} data key(s) still use {kek_id}; run: flask --app wsgi keys rotate")
    try:
        retire_kek(_settings().resolved_key_file, kek_id)
    except KeyFileError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"retired key-encryption key {kek_id}")
