"""Flask commands that need the assembled app: database, staff accounts, demo data.

``keys`` and ``check-instruments`` are registered as plugin commands (see pyproject.toml):
they must work when the app cannot start (no key file yet, a broken instrument file).
"""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app

from . import migrate
from .cli_instruments import record_fingerprints
from .services import accounts, demo
from .services.passwords import PasswordRejected

PASSWORD_MESSAGES = {
    "too_short": "the password must have at least 12 characters",
    "too_long": "the password must have at most 256 characters",
    "common": "the password is too common or too simple",
    "contains_username": "the password must not contain the username",
}
ACCOUNT_MESSAGES = {
    "bad_username": "the username may contain letters, digits, '.' and '-' only",
    "bad_role": "the role must be nurse, gp, consultant, analyst or admin",
    "bad_hpr": "an HPR number has 6 to 9 digits",
    "username_taken": "that username is already taken",
    "unknown_unit": "no unit has that code",
    "unknown_user": "no account has that username",
}


def _ext(name: str):
    return current_app.extensions[f"screening.{name}"]


def register_commands(app: Flask) -> None:
    from .cli_access import access_log_group
    from .cli_backup import backup_command, restore_command
    from .cli_instruments import instruments_group
    from .cli_patients import patients_group

    app.cli.add_command(access_log_group)
    app.cli.add_command(backup_command)
    app.cli.add_command(instruments_group)
    app.cli.add_command(restore_command)
    app.cli.add_command(patients_group)
    app.cli.add_command(db_group)
    app.cli.add_command(staff_group)
    app.cli.add_command(demo_group)


@click.group("db", help="Database schema (Alembic migrations).")
def db_group() -> None:
    pass


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the database to REVISION (default: head)."""
    try:
        migrate.upgrade(_ext("settings"), revision)
    except Exception as err:  # noqa: BLE001
        raise click.ClickException(f"database upgrade failed: {type(err).__name__}") from None
    click.echo(f"database upgraded to {revision}")
    if revision == "head":
        record_fingerprints()  # the files' fingerprints, recorded by the same command


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the database to REVISION."""
    migrate.downgrade(_ext("settings"), revision)
    click.echo(f"database downgraded to {revision}")


@click.group("staff", help="Staff accounts.")
def staff_group() -> None:
    pass


@staff_group.command("create")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True, help="Full name shown in the app.")
@click.option("--role", required=True,
              type=click.Choice(["nurse", "gp", "consultant", "analyst", "admin"]))
@click.option("--unit", "units", multiple=True, help="Unit code; repeat for several units.")
@click.option("--leader-of", "leader_of", multiple=True,
              help="Unit code (also given with --unit) whose anonymised reports the person sees.")
@click.option("--hpr", default=None, help="HPR number (clinicians).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def staff_create(username: str, display_name: str, role: str, units: tuple[str, ...],
                 leader_of: tuple[str, ...], hpr: str | None, password_stdin: bool) -> None:
    """Create an account; the user sets up two-factor login at first login."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        accounts.create_staff(_ext("db"), _ext("keys"), _ext("hasher"), username=username,
                              display_name=display_name, role=role, password=password,
                              unit_codes=units, leader_of=leader_of, hpr_number=hpr)
    except PasswordRejected as err:
        raise click.ClickException(PASSWORD_MESSAGES[err.code]) from None
    except accounts.AccountError as err:
        raise click.ClickException(ACCOUNT_MESSAGES.get(err.code, err.code)) from None
    click.echo(f"created {username.strip().lower()} ({role})")


@staff_group.command("disable")
@click.argument("username")
def staff_disable(username: str) -> None:
    """Disable an account and end all its sessions."""
    try:
        accounts.disable(_ext("db"), username)
    except accounts.AccountError as err:
        raise click.ClickException(ACCOUNT_MESSAGES.get(err.code, err.code)) from None
    click.echo(f"disabled {username}")


@staff_group.command("reset-2fa")
@click.argument("username")
def staff_reset_2fa(username: str) -> None:
    """Remove the second factor; the user sets it up again at next login."""
    try:
        accounts.reset_totp(_ext("db"), username)
    except accounts.AccountError as err:
        raise click.ClickException(ACCOUNT_MESSAGES.get(err.code, err.code)) from None
    click.echo(f"two-factor login reset for {username}")


@click.group("demo", help="Demo units and staff accounts (not in production).")
def demo_group() -> None:
    if _ext("settings").production:
        raise click.ClickException("demo commands are disabled in production")


@demo_group.command("setup")
def demo_setup() -> None:
    """Create demo units and staff accounts if missing, and print how to log in."""
    lines = demo.ensure_demo(_ext("db"), _ext("keys"), _ext("hasher"), _ext("catalogue"))
    click.echo("\n".join(lines))


@demo_group.command("code")
@click.argument("username")
def demo_code(username: str) -> None:
    """Print the current two-factor code of a demo account."""
    code = demo.current_code(_ext("db"), _ext("keys"), username)
    if code is None:
        raise click.ClickException("no demo account with that username")
    click.echo(code)
