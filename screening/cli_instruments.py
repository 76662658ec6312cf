"""``flask check-instruments``: the verdict on every instrument and rule-set file, and on
their content against the fingerprints recorded earlier; ``flask instruments record``:
record the fingerprints of the files loaded now (``flask db upgrade`` does it too).

``check-instruments`` is a plugin command, so that it runs even when the app refuses to
start on a broken or changed file."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from .settings import Settings, SettingsError


def _files_verdict(directory: Path) -> tuple[int, int]:
    from .core.catalogue import check_directory

    reports = check_directory(directory)
    bad = 0
    for name, errors in reports:
        if errors:
            bad += 1
            click.echo(f"FAIL {name}")
            for error in errors:
                click.echo(f"  {error}")
        else:
            click.echo(f"ok   {name}")
    return bad, len(reports)


def _record_verdict(settings: Settings) -> int:
    """Compare the loaded files with the record of fingerprints; the number of problems."""
    from sqlalchemy.exc import SQLAlchemyError

    from .core.catalogue import load_catalogue
    from .core.fingerprint import short
    from .database import Database
    from .services.provenance import differences

    catalogue = load_catalogue(settings.instruments_dir)
    database = Database(settings)
    try:
        found = differences(database, catalogue)
    except SQLAlchemyError as err:
        kind = type(getattr(err, "orig", err)).__name__
        click.echo(f"fingerprints not compared: the database cannot be read ({kind})")
        return 0
    finally:
        database.dispose()
    if found is None:
        click.echo("fingerprints not compared: no database yet (flask db upgrade records them)")
        return 0
    mismatches, new = found
    for mismatch in mismatches:
        click.echo(f"FAIL {mismatch.line()}")
    for file in new:
        click.echo(f"new  {file.source}: {file.named()} ({short(file.fingerprint)}) is not "
                   "recorded yet")
    if not mismatches:
        click.echo(f"every file agrees with the fingerprints recorded "
                   f"({len(catalogue.files()) - len(new)} recorded, {len(new)} new)")
    return len(mismatches)


@click.command("check-instruments")
def check_instruments() -> None:
    """Check every file in SCREENING_INSTRUMENTS_DIR and report on each."""
    try:
        settings = Settings.from_env()
    except SettingsError as err:
        raise click.ClickException(str(err)) from None
    bad, count = _files_verdict(settings.instruments_dir)
    if bad:
        raise click.ClickException(f"{bad} of {count} file(s) invalid")
    click.echo(f"all {count} file(s) valid")
    changed = _record_verdict(settings)
    if changed:
        raise click.ClickException(
            f"{changed} file(s) differ from the fingerprints recorded: raise the version of a "
            "changed file (and keep the earlier version in versions/), or put back the "
            "recorded content")


@click.group("instruments", help="Instrument and rule-set files: the record of fingerprints.")
def instruments_group() -> None:
    pass


@instruments_group.command("record")
def instruments_record() -> None:
    """Record the fingerprints of the files loaded now (``flask db upgrade`` does it too)."""
    record_fingerprints()


def record_fingerprints() -> None:
    from .core.fingerprint import short
    from .services.provenance import ProvenanceError, record

    try:
        result = record(current_app.extensions["screening.db"],
                        current_app.extensions["screening.catalogue"])
    except ProvenanceError as err:
        raise click.ClickException(f"nothing recorded: {err}") from None
    for file in result.new:
        click.echo(f"recorded {file.source}: {file.named()} ({short(file.fingerprint)})")
    click.echo(f"fingerprints: {len(result.new)} recorded now, {result.already} already "
               "recorded")
