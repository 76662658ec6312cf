"""``flask import-questionnaire`` and ``flask export-codesystems``: FHIR in and out.

Plugin commands (see pyproject.toml), like check-instruments: they read and write files only
and work without a database or key file."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .settings import Settings, SettingsError


@click.command("import-questionnaire")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the instrument file here (default: standard output).")
@click.option("--id", "instrument_id", default=None, help="Instrument id (default: from name).")
@click.option("--leave-out", "leave_out", multiple=True, metavar="LINKID",
              help="A question that is not part of the score; repeat for several.")
@click.option("--lang", type=click.Choice(["nb", "en"]), default=None,
              help="The language of the texts (default: the Questionnaire's, else en).")
def import_questionnaire(file: Path, out: Path | None, instrument_id: str | None,
                         leave_out: tuple[str, ...], lang: str | None) -> None:
    """Read a FHIR Questionnaire that carries its scoring and write an instrument file."""
    from .core.fhir.importer import ImportRefused
    from .core.fhir.importer import import_questionnaire as convert
    from .core.fhir.toml_out import dumps

    if out is not None and out.exists():
        raise click.ClickException(f"{out} exists: nothing written (remove it first)")
    try:
        resource = json.loads(file.read_bytes())
    except OSError as err:
        raise click.ClickException(f"{file}: cannot be read: {err.strerror or err}") from None
    except (UnicodeDecodeError, ValueError) as err:
        raise click.ClickException(f"{file}: not JSON: {err}") from None
    try:
        imported = convert(resource, instrument_id=instrument_id, leave_out=leave_out,
                           source=file.name, lang=lang)
    except ImportRefused as refused:
        for reason in refused.reasons:
            click.echo(f"  {reason}", err=True)
        raise click.ClickException(f"{file.name} cannot be imported "
                                   f"({len(refused.reasons)} reason(s) above)") from None
    header = [f"Imported from the FHIR Questionnaire {file.name} by flask import-questionnaire.",
              "Check every text, add [[zones]] and a rule-set section before use. Notes:",
              *(f"- {note}" for note in imported.notes)]
    text = dumps(imported.instrument, header)
    for note in imported.notes:
        click.echo(f"note: {note}", err=True)
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, "utf-8")
    except OSError as err:
        raise click.ClickException(f"{out}: cannot be written: {err.strerror or err}") from None
    click.echo(f"wrote {out} ({len(imported.instrument['items'])} items)", err=True)


@click.command("export-codesystems")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_codesystems(directory: Path) -> None:
    """Write this application's FHIR CodeSystems (one JSON file each) into DIRECTORY."""
    from .core.catalogue import load_catalogue
    from .core.errors import InstrumentFileError
    from .core.fhir import code_systems

    try:
        catalogue = load_catalogue(Settings.from_env().instruments_dir)
    except (SettingsError, InstrumentFileError) as err:
        raise click.ClickException(str(err)) from None
    systems = code_systems(catalogue.instruments.values(), catalogue.conversations.values())
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for system in systems:
            path = directory / f"CodeSystem-{system['id']}.json"
            path.write_text(json.dumps(system, ensure_ascii=False, indent=2) + "\n", "utf-8")
    except OSError as err:
        raise click.ClickException(f"{directory}: cannot be written: {err.strerror or err}"
                                   ) from None
    click.echo(f"wrote {len(systems)} CodeSystem file(s) to {directory}")
