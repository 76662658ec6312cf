"""``flask access-log verify | patient UUID | refusals``.

``verify`` walks the hash chain: exit 0 and ``ok, N entries``, or exit 1 naming the first
bad entry and the problem. ``patient`` lists who has seen or changed one patient's record
(the patient's right of access); the listing is itself logged (action ``access_report``,
purpose ``patient_request``). An erased or unknown patient's entries are still found by
pseudonym. ``refusals`` lists, for review, the refused attempts to register a number (or
correct a patient to a number) that is already registered: such a refusal tells the user
that the number exists, so it is reviewed like emergency access. Output names staff and
units, never the patient.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from .forms.access_log import FilterError, parse_day
from .localtime import iso_local, local_day_start
from .models import Patient
from .models.access import ACTIONS
from .models.base import utcnow
from .services import access_log


def _ext(name: str) -> Any:
    return current_app.extensions[f"screening.{name}"]


@click.group("access-log", help="The access log: verify the chain, list one patient's "
             "entries, list refused registrations for review.")
def access_log_group() -> None:
    pass


@access_log_group.command("verify")
@with_appcontext
def verify() -> None:
    """Check every entry of the chain and the head; name the first bad entry."""
    session = _ext("db").read_session()
    try:
        verdict = access_log.verify(session, _ext("keys"))
    finally:
        session.close()
    if verdict.ok:
        click.echo(f"ok, {verdict.entries} entries")
        return
    where = f"entry {verdict.first_bad_id}" if verdict.first_bad_id is not None else "the head"
    click.echo(f"access log broken at {where}: {verdict.problem} "
               f"({verdict.entries} entries verified before it)", err=True)
    click.get_current_context().exit(1)


def _day(value: str | None, option: str) -> date | None:
    try:
        return parse_day(value or "")
    except FilterError:
        raise click.BadParameter("write the date as YYYY-MM-DD or dd.mm.yyyy (an Oslo date)",
                                 param_hint=option) from None


@access_log_group.command("patient")
@click.argument("patient_uuid")
@click.option("--from", "first", metavar="DATE", help="Entries from this Oslo date on.")
@click.option("--to", "last", metavar="DATE", help="Entries up to and including this Oslo date.")
@click.option("--action", type=click.Choice(ACTIONS), help="Only entries of this action.")
@with_appcontext
def patient(patient_uuid: str, first: str | None, last: str | None,
            action: str | None) -> None:
    """List who has seen or changed the record of the patient PATIENT_UUID, and when: the
    same entries as the patient's access-log page (times in Oslo, ISO 8601 with the offset;
    days are Oslo days), oldest first."""
    try:
        canonical = str(uuid.UUID(patient_uuid.strip()))
    except ValueError:
        raise click.ClickException("PATIENT_UUID must be a patient's uuid, like "
                                   "123e4567-e89b-42d3-a456-426614174000") from None
    since, until = _day(first, "--from"), _day(last, "--to")
    if since and until and since > until:
        raise click.BadParameter("comes after --to", param_hint="--from")
    query = access_log.AccessQuery(
        since=local_day_start(since) if since else None,
        until=local_day_start(until + timedelta(days=1)) if until else None, action=action)
    db, keyring = _ext("db"), _ext("keys")
    with db.write() as session:
        known = session.scalar(select(Patient.id).where(Patient.uuid == canonical)) is not None
        lines = access_log.patient_report(session, keyring, canonical, query)
        access_log.record(session, keyring, access_log.SYSTEM, "access_report", canonical,
                          purpose="patient_request")
    if not known:
        click.echo("No patient with this uuid is stored (erased, or never registered); "
                   "entries are listed by pseudonym.")
    if not lines:
        click.echo("No entries.")
        return
    header = ("time (Oslo)", "staff", "role", "unit", "action", "purpose", "outcome")
    table = [header] + [
        (iso_local(line.at), _who(line), line.role, line.unit_code or "-",
         line.action, line.purpose, line.outcome)
        for line in lines
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
                   .rstrip())
    click.echo(f"{len(lines)} entries")


@access_log_group.command("refusals")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 3660),
              help="How far back to list.")
@with_appcontext
def refusals(days: int) -> None:
    """List refused registrations and corrections to a number already registered (action
    duplicate_refused): who tried, when, in which unit; the patient is not named. Review
    them as break-the-glass grants are reviewed (docs/operations.md, section 7)."""
    session = _ext("db").read_session()
    try:
        lines = access_log.lines_of(session, "duplicate_refused", utcnow() - timedelta(days=days))
    finally:
        session.close()
    for line in lines:
        click.echo(f"{iso_local(line.at)}  {_who(line)}  {line.role}  {line.unit_code or '-'}")
    click.echo(f"{len(lines)} refused registration(s) of a number already registered in the "
               f"last {days} day(s)")


def _who(line: access_log.AccessLine) -> str:
    if line.staff_id is None:
        return "system"
    if line.username is None:
        return f"staff #{line.staff_id}"
    return f"{line.username} ({line.display_name})"
