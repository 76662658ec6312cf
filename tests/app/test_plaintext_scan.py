"""A stolen database file, WAL, backup or log reveals no one.

1,000 synthetic patients with planted names, fødselsnumre and free text (draft answers and
assessment context) go through create, edit and erase (some); then the SQLite file, its
``-wal`` and ``-shm`` (at several checkpoint stages), an online backup, or on PostgreSQL a
``pg_dump`` and the cluster's data files and WAL, and the captured logs (``screening`` and
SQLAlchemy at DEBUG) are scanned for every planted string: raw, the 6+5 spaced form of the
numbers, and base64 of each (at every byte alignment, so also inside a larger base64 text).

Report pages do not exist yet; the analyst-visible responses are to be scanned once they do.
"""

from __future__ import annotations

import base64
import glob
import logging
import os
import re
import sqlite3
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from screening.services import patient_search, patients
from tests.app import fnr as gen
from tests.app.clinic import Clinic, register_many, save_drafts, setup_clinic
from tests.app.test_erasure import add_records

PATIENTS = 1000


# ----------------------------------------------------------------- the scanner


def _b64_cores(value: bytes) -> list[bytes]:
    """Base64 text that must appear wherever ``value`` is base64-encoded, whatever the
    alignment: the characters that depend on ``value``'s bytes only."""
    cores = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + value)
        core = encoded[4 if shift else 0: len(encoded) - 4]
        if len(core) >= 8:
            cores.append(core)
    return cores


def _trie_pattern(words: Iterable[bytes]) -> re.Pattern[bytes]:
    """One regular expression matching any of ``words``, built as a trie, so that a scan
    costs about one pass over the data however many words there are."""
    trie: dict[int, dict] = {}  # type: ignore[type-arg]
    for word in words:
        node = trie
        for byte in word:
            node = node.setdefault(byte, {})
        node[-1] = {}

    def build(node: dict) -> bytes:  # type: ignore[type-arg]
        ends = -1 in node
        branches = [re.escape(bytes([b])) + build(child) for b, child in sorted(node.items())
                    if b != -1]
        if not branches:
            return b""
        body = branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"
        if ends:
            return b"(?:" + body + b")?"
        return body

    return re.compile(build(trie))


class Needles:
    """Every planted string in every form it must not appear in."""

    def __init__(self) -> None:
        self.forms: dict[bytes, str] = {}

    def add(self, value: str, label: str) -> None:
        raw = value.encode("utf-8")
        variants = [raw]
        if re.fullmatch(r"[0-9]{11}", value):
            variants.append(gen.spaced(value).encode())
        for variant in list(variants):
            variants.extend(_b64_cores(variant))
        for variant in variants:
            self.forms[variant] = label

    def compile(self) -> None:
        self.pattern = _trie_pattern(self.forms)

    def find(self, data: bytes) -> list[tuple[str, int]]:
        return [(self.forms.get(m.group(0), "?"), m.start())
                for m in self.pattern.finditer(data)][:5]


def test_the_scanner_finds_what_it_looks_for() -> None:
    needles = Needles()
    number = gen.synthetic_fnrs(1, seed=1)[0]
    needles.add(number, "fnr")
    needles.add("Åshild Bråtheim", "name")
    needles.compile()
    filler = os.urandom(5000)
    planted = [number.encode(), gen.spaced(number).encode(), "Åshild Bråtheim".encode(),
               base64.b64encode(number.encode()), base64.b64encode(gen.spaced(number).encode()),
               base64.b64encode("Åshild Bråtheim".encode())]
    for shift in (1, 2):
        planted.append(base64.b64encode(b"x" * shift + number.encode() + b"y"))
        planted.append(base64.b64encode(b"{\"n\":\"" [:shift] + "Åshild Bråtheim".encode()))
    for item in planted:
        assert needles.find(filler + item + filler), item
    assert not needles.find(filler + number[:10].encode() + filler)


# ----------------------------------------------------------------- the scenario


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture):  # type: ignore[no-untyped-def]
    """Everything the app and SQLAlchemy log, at DEBUG (the app's logger does not
    propagate to the root, so the handler is attached to it directly)."""
    loggers = [logging.getLogger(name) for name in ("screening", "sqlalchemy")]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.addHandler(caplog.handler)
    yield caplog
    for lg, level in saved:
        lg.removeHandler(caplog.handler)
        lg.setLevel(level)


def _scan_files(needles: Needles, files: Iterable[Path], stage: str) -> int:
    scanned = 0
    for path in files:
        if not path.is_file():
            continue
        data = path.read_bytes()
        scanned += len(data)
        found = needles.find(data)
        assert not found, f"{stage}: {path.name} contains planted {found}"
    return scanned


def _sqlite_files(path: Path) -> list[Path]:
    return [path, Path(f"{path}-wal"), Path(f"{path}-shm")]


def _checkpoint(clinic: Clinic, mode: str) -> None:
    raw = clinic.db.engine.raw_connection()
    try:
        raw.driver_connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
    finally:
        raw.close()


def _pg_bin(name: str) -> str:
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                             check=True).stdout.strip()
        if os.path.exists(os.path.join(out, name)):
            return os.path.join(out, name)
    except (OSError, subprocess.CalledProcessError):
        pass
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(f"{name} not found")
    return found[-1]


def test_no_plaintext_in_files_backups_or_logs(app, captured, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clinic = setup_clinic(app)
    nurse = clinic.people["nurse-a"]
    needles = Needles()

    # create
    registered = register_many(clinic, PATIENTS, seed=4242)
    notes = {}
    for i, item in enumerate(registered):
        needles.add(item.fnr, f"fnr {i}")
        needles.add(item.name, f"name {i}")
        note = f"Fortalte at {item.name} drikker mye; ring pårørende på {item.fnr[:6]} kveld {i}"
        needles.add(note, f"free text {i}")
        notes[item.uuid] = note
    for item in registered[:20]:
        add_records(clinic, item.uuid, f"{item.name} {item.fnr} rekord")
        needles.add(f"context {item.name} {item.fnr} rekord", "assessment context")
    save_drafts(clinic, nurse, [(item.uuid, {"q1": 2, "note": notes[item.uuid],
                                             "fnr": item.fnr, "who": item.name})
                                for item in registered])
    # edit: every other draft gets a new text (the old one must not linger either)
    edited = []
    for i, item in enumerate(registered[::2]):
        new_note = f"Endret: {item.name} har sluttet, kontrollert {gen.spaced(item.fnr)} nr {i}"
        needles.add(new_note, f"edited text {i}")
        edited.append((item.uuid, {"q1": 0, "note": new_note}))
    save_drafts(clinic, nurse, edited)
    # read back through the service (views log and open)
    with clinic.db.write() as session:
        for item in registered[:50]:
            assert patients.open_patient(session, clinic.keyring, nurse, item.uuid).name \
                == item.name
    for item in registered[:50]:
        assert patient_search.find_by_fnr(clinic.db, clinic.keyring, nurse, item.fnr) == item.uuid
    # erase some
    for item in registered[::10]:
        patients.erase(clinic.db, clinic.keyring, item.uuid)
    kept = [item for i, item in enumerate(registered) if i % 10]
    needles.compile()

    scanned = 0
    db = clinic.db
    if db.is_sqlite:
        path = Path(db.engine.url.database or "")
        scanned += _scan_files(needles, _sqlite_files(path), "after erase, before checkpoint")
        for mode in ("PASSIVE", "FULL", "RESTART", "TRUNCATE"):
            # more writes, so that the WAL holds pages again before each checkpoint
            save_drafts(clinic, nurse, [(item.uuid, {"q1": 1, "note": notes[item.uuid]})
                                        for item in kept[:200:7]])
            scanned += _scan_files(needles, _sqlite_files(path), f"before {mode}")
            _checkpoint(clinic, mode)
            scanned += _scan_files(needles, _sqlite_files(path), f"after {mode}")
        backup = tmp_path / "backup.sqlite3"
        source = sqlite3.connect(path)
        target = sqlite3.connect(backup)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        scanned += _scan_files(needles, [backup, *_sqlite_files(backup)[1:]], "backup")
    else:
        url = make_url(db.engine.url.render_as_string(hide_password=False))
        dump = tmp_path / "dump.sql"
        subprocess.run([_pg_bin("pg_dump"), "--no-owner", "-f", str(dump),
                        url.set(drivername="postgresql").render_as_string(hide_password=False)],
                       check=True, timeout=120)
        scanned += _scan_files(needles, [dump], "pg_dump")
        with db.engine.connect() as conn:
            conn.execute(text("CHECKPOINT"))
            data_dir = Path(conn.execute(text("SHOW data_directory")).scalar_one())
            oid = conn.execute(text("SELECT oid FROM pg_database "
                                    "WHERE datname = current_database()")).scalar_one()
        files = [*sorted((data_dir / "base" / str(oid)).glob("*")),
                 *sorted((data_dir / "pg_wal").glob("0*")),
                 *sorted(data_dir.parent.glob("log*"))]
        if os.access(data_dir, os.R_OK | os.X_OK):
            scanned += _scan_files(needles, files, "PostgreSQL data files and WAL")
    logs = "\n".join(record.getMessage() for record in captured.records)
    logs += captured.text
    assert "INSERT INTO patients" in logs  # SQLAlchemy's DEBUG log was captured
    found = needles.find(logs.encode("utf-8"))
    assert not found, f"logs contain planted {found}"
    assert scanned > 100_000

    # Control: a name written in clear is found by the same scan of the same files.
    leak = kept[0].name
    with db.write() as session:
        session.execute(text("UPDATE units SET name = :n WHERE code = 'home-b'"), {"n": leak})
    if db.is_sqlite:
        _checkpoint(clinic, "TRUNCATE")
        with pytest.raises(AssertionError, match="contains planted"):
            _scan_files(needles, [path], "control")
    else:
        control = tmp_path / "control.sql"
        subprocess.run([_pg_bin("pg_dump"), "-f", str(control),
                        url.set(drivername="postgresql").render_as_string(hide_password=False)],
                       check=True, timeout=120)
        with pytest.raises(AssertionError, match="contains planted"):
            _scan_files(needles, [control], "control")
