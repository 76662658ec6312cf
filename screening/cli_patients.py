"""``flask patients erase UUID`` and ``flask patients reindex``."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from .services import patients, search_terms

ERASE_MESSAGES = {
    "not_found": "no patient has that uuid",
}


@click.group("patients", help="Patient records: erasure, the name-search index.")
def patients_group() -> None:
    pass


@patients_group.command("erase")
@click.argument("patient_uuid", metavar="UUID")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase(patient_uuid: str, yes: bool) -> None:
    """Erase a patient for good (crypto-shredding): the patient's data key and every record
    of the patient are deleted; anonymous report facts stay. The erasure is logged."""
    canonical = patients.canonical_uuid(patient_uuid.strip())
    if canonical is None:
        raise click.ClickException("not a patient uuid (expected 8-4-4-4-12 hexadecimal digits)")
    if not yes:
        click.confirm(f"Erase patient {canonical} and all of the patient's records? "
                      "This cannot be undone.", abort=True)
    extensions = current_app.extensions
    try:
        patients.erase(extensions["screening.db"], extensions["screening.keys"], canonical)
    except patients.PatientError as err:
        raise click.ClickException(ERASE_MESSAGES.get(err.code, err.code)) from None
    except SQLAlchemyError as err:
        raise click.ClickException(f"database error ({type(err).__name__}); nothing was erased"
                                   ) from None
    click.echo(f"erased patient {canonical}")


@patients_group.command("reindex")
@click.option("--all", "everyone", is_flag=True,
              help="Index every patient again, not only those without search terms.")
@click.option("--batch-size", default=200, show_default=True, type=click.IntRange(1, 5000))
def reindex(everyone: bool, batch_size: int) -> None:
    """Build the keyed search terms that find patients by name and birth date, for patients
    registered before the index existed (after the upgrade to revision 0008), or with
    --all for every patient. Online, in short batches; safe to run again."""
    extensions = current_app.extensions
    try:
        result = search_terms.rebuild(extensions["screening.db"], extensions["screening.keys"],
                                      only_missing=not everyone, batch_size=batch_size)
    except SQLAlchemyError as err:
        raise click.ClickException(f"database error ({type(err).__name__}); batches written "
                                   "before it stay indexed") from None
    click.echo(f"indexed {result.indexed} patient(s) for search")
    if result.failed:
        raise click.ClickException(f"{result.failed} patient(s) could not be indexed: a field "
                                   "does not open (see the log)")
