"""``flask backup PATH`` and ``flask restore PATH [--yes]`` (see ``services/backup.py``).

Errors are one line (``Error: ...``) with a non-zero exit status, never a traceback; no
password of the database URL is printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from .services.backup import BackupError, backup, restore


def _ext(name: str) -> Any:
    return current_app.extensions[f"screening.{name}"]


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
@with_appcontext
def backup_command(path: Path, force: bool) -> None:
    """Write a consistent backup of the database to PATH, while the app keeps running
    (SQLite: online backup; PostgreSQL: pg_dump custom format). The backup holds sealed
    data only: keep the key file too, elsewhere: without it the backup cannot be read."""
    _ext("db").dispose()
    try:
        done = backup(_ext("settings"), path, overwrite=force)
    except BackupError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"backup written to {done.path} ({done.kind}, {done.size:,} bytes)")


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True,
              help="Replace the database even though it has data (it is overwritten).")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Replace the database with the backup in PATH. Stop the app first. Refused when the
    database has data, unless --yes is given. Patients erased after the backup was taken
    are back afterwards: apply those erasures again."""
    _ext("db").dispose()
    try:
        done = restore(_ext("settings"), _ext("keys"), path, replace_data=yes)
    except BackupError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"restored {path} ({done.kind}): {done.patients} patients, "
               f"{done.assessments} assessments")
    if not done.schema_current:
        click.echo("the restored database is not at the current schema: run "
                   "flask --app wsgi db upgrade before starting the app")
    if done.unknown_kek_patients:
        click.echo(f"warning: {done.unknown_kek_patients} patients' data keys need a "
                   "key-encryption key that is not in the key file: restore the key file "
                   "that belongs to this backup", err=True)
    click.echo("erasures made after this backup was taken are undone by the restore: "
               "apply them again before the app is used")
