"""``flask check-instruments``: the verdict on every instrument and rule-set file.

A plugin command, so that it runs even when the app refuses to start on a broken file."""

from __future__ import annotations

import click

from .settings import Settings, SettingsError


@click.command("check-instruments")
def check_instruments() -> None:
    """Check every file in SCREENING_INSTRUMENTS_DIR and report on each."""
    try:
        directory = Settings.from_env().instruments_dir
    except SettingsError as err:
        raise click.ClickException(str(err)) from None
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
    if bad:
        raise click.ClickException(f"{bad} of {len(reports)} file(s) invalid")
    click.echo(f"all {len(reports)} file(s) valid")
