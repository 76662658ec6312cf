"""Tamper resistance of sealed fields and wrapped data keys: 500 generated records, 100 %."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from screening.crypto.fields import (
    OpenError,
    new_data_key,
    open_sealed,
    seal,
    unwrap_data_key,
    wrap_data_key,
    wrapped_key_id,
)
from screening.crypto.keys import KeyRing, init_key_file, retire_kek, rotate_key_file

RECORDS = 500
PATIENTS = 100
HEADER = 5  # version byte + 4-byte data key id
NONCE = 12

# (table, column, which row of the patient): five sealed fields per patient, two on the same row
LAYOUT = [
    ("patients", "name", 0),
    ("patients", "fnr", 0),
    ("assessments", "answers", 1),
    ("assessments", "notes", 1),
    ("conversations", "text", 2),
]

ALPHABETS = [
    "abcdefghijklmnopqrstuvwxyz ",
    "ÆØÅæøå éèü ",
    "0123456789 -.",
    "αβγδ Жизнь 漢字かな 한국어 עברית العربية",
    "😀🎉👩‍⚕️🍺 \u200d\ufe0f",
    "\x00\x01\t\n\r\x7f\u2028\ufeff",
]


def random_text(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.08:
        return ""
    if kind < 0.16:
        return f"{rng.randrange(10**11):011d}"  # fødselsnummer-shaped
    if kind < 0.30:  # arbitrary non-surrogate code points
        points = [rng.randrange(0x110000) for _ in range(rng.randrange(1, 40))]
        return "".join(chr(p) for p in points if not 0xD800 <= p <= 0xDFFF)
    alphabet = rng.choice(ALPHABETS)
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 120)))


@dataclass(frozen=True)
class Record:
    patient: int
    key: bytes
    table: str
    column: str
    row_uuid: str
    value: str
    sealed: bytes

    def open(self, sealed: bytes | None = None) -> str:
        return open_sealed(
            self.key,
            self.sealed if sealed is None else sealed,
            table=self.table,
            column=self.column,
            row_uuid=self.row_uuid,
        )


@pytest.fixture
def records() -> list[Record]:
    rng = random.Random(20240604)  # values reproducible; keys and nonces fresh per run
    out: list[Record] = []
    for patient in range(PATIENTS):
        key = new_data_key()
        rows = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(3)]
        for table, column, row in LAYOUT:
            value = random_text(rng)
            sealed = seal(key, value, table=table, column=column, row_uuid=rows[row])
            out.append(Record(patient, key, table, column, rows[row], value, sealed))
    assert len(out) == RECORDS
    assert any(r.value == "" for r in out) and any(not r.value.isascii() for r in out)
    return out


def fails(attempt: Callable[..., object], *args: object, **kwargs: object) -> bool:
    """True if ``attempt(*args, **kwargs)`` raises OpenError (any other exception propagates)."""
    try:
        attempt(*args, **kwargs)
    except OpenError:
        return True
    return False


def test_every_record_opens(records: list[Record]) -> None:
    assert all(r.open() == r.value for r in records)


def test_flipping_any_byte_fails(records: list[Record]) -> None:
    rng = random.Random(1)
    attempts = failures = 0
    for r in records:
        for pos in range(len(r.sealed)):
            for mask in (0xFF, 1 << rng.randrange(8), rng.randrange(1, 256)):
                blob = bytearray(r.sealed)
                blob[pos] ^= mask
                attempts += 1
                failures += fails(r.open, bytes(blob))
    assert failures == attempts > 3 * RECORDS * 33


def test_truncating_or_extending_fails(records: list[Record]) -> None:
    attempts = failures = 0
    for r in records:
        for length in range(len(r.sealed)):
            attempts += 1
            failures += fails(r.open, r.sealed[:length])
        for extra in (b"\x00", b"\x01" * 16):
            attempts += 1
            failures += fails(r.open, r.sealed + extra)
    assert failures == attempts


def test_changing_key_id_or_version_fails(records: list[Record]) -> None:
    rng = random.Random(2)
    other_ids = [r.sealed[1:HEADER] for r in records[:: len(LAYOUT)]]
    attempts = failures = 0
    for r in records:
        for new_id in [rng.randbytes(4), b"\x00" * 4, *rng.sample(other_ids, 5)]:
            if new_id == r.sealed[1:HEADER]:
                continue
            attempts += 1
            failures += fails(r.open, r.sealed[:1] + new_id + r.sealed[HEADER:])
        for version in (0, 2, 255):
            attempts += 1
            failures += fails(r.open, bytes([version]) + r.sealed[1:])
    assert failures == attempts > RECORDS * 8


def test_swapping_between_rows_columns_and_patients_fails(records: list[Record]) -> None:
    attempts = failures = 0
    kinds = {"same row": 0, "same patient": 0, "other patient": 0}
    for source in records:
        for target in records:
            if target is source:
                continue
            if target.patient == source.patient:
                kinds["same row" if target.row_uuid == source.row_uuid else "same patient"] += 1
            else:
                kinds["other patient"] += 1
            attempts += 1
            failures += fails(target.open, source.sealed)
    assert failures == attempts == RECORDS * (RECORDS - 1)
    assert all(kinds.values())


def test_moving_between_patients_with_same_context_fails(records: list[Record]) -> None:
    # Same table, column and row uuid, but another patient's data key: still refused.
    for a, b in zip(records[:-5], records[5:], strict=True):
        moved = {"table": a.table, "column": a.column, "row_uuid": a.row_uuid}
        assert fails(open_sealed, b.key, a.sealed, **moved)
        # same key, same table and column, another row
        other_row = {**moved, "row_uuid": b.row_uuid}
        assert fails(open_sealed, a.key, a.sealed, **other_row)


# --------------------------------------------------------------------------- wrapped keys


@dataclass(frozen=True)
class Wrapped:
    patient_uuid: str
    data_key: bytes
    wrapped: bytes


@pytest.fixture
def two_kek_ring(tmp_path: Path) -> tuple[KeyRing, KeyRing]:
    path = tmp_path / "keys.json"
    first = init_key_file(path)
    return first, rotate_key_file(path)


@pytest.fixture
def wrapped_keys(two_kek_ring: tuple[KeyRing, KeyRing]) -> list[Wrapped]:
    first, second = two_kek_ring
    out = []
    for i in range(RECORDS):
        patient = str(uuid.uuid4())
        key = new_data_key()
        out.append(Wrapped(patient, key, wrap_data_key(first if i % 2 else second, key, patient)))
    return out


def test_wrapped_keys_open_under_rotated_ring(
    two_kek_ring: tuple[KeyRing, KeyRing], wrapped_keys: list[Wrapped]
) -> None:
    first, ring = two_kek_ring
    ids = {wrapped_key_id(w.wrapped) for w in wrapped_keys}
    assert ids == {first.kek_id, ring.kek_id}
    for w in wrapped_keys:
        assert unwrap_data_key(ring, w.wrapped, w.patient_uuid) == w.data_key


def test_wrapped_key_tampering_fails(
    two_kek_ring: tuple[KeyRing, KeyRing], wrapped_keys: list[Wrapped]
) -> None:
    ring = two_kek_ring[1]
    rng = random.Random(3)
    attempts = failures = 0
    for w in wrapped_keys:
        blob = w.wrapped

        for pos in range(len(blob)):
            for mask in (0xFF, 1 << rng.randrange(8)):
                changed = bytearray(blob)
                changed[pos] ^= mask
                attempts += 1
                failures += fails(unwrap_data_key, ring, bytes(changed), w.patient_uuid)
        for length in range(len(blob)):
            attempts += 1
            failures += fails(unwrap_data_key, ring, blob[:length], w.patient_uuid)
        attempts += 1
        failures += fails(unwrap_data_key, ring, blob + b"\x00", w.patient_uuid)
        # other patients
        for other in rng.sample(wrapped_keys, 20):
            if other is not w:
                attempts += 1
                failures += fails(unwrap_data_key, ring, blob, other.patient_uuid)
        attempts += 2
        failures += fails(unwrap_data_key, ring, blob, w.patient_uuid.upper())
        failures += fails(unwrap_data_key, ring, blob, w.patient_uuid + " ")
    assert failures == attempts > RECORDS * 200


def test_changing_kek_id_fails(
    two_kek_ring: tuple[KeyRing, KeyRing], wrapped_keys: list[Wrapped]
) -> None:
    first, ring = two_kek_ring
    for w in wrapped_keys:
        own = wrapped_key_id(w.wrapped)
        other = ring.kek_id if own == first.kek_id else first.kek_id
        rest = w.wrapped[2 + len(own) :]
        for new_id in (other, "k-00000000", own[:-1], own + "x"):
            raw = new_id.encode()
            blob = bytes([1, len(raw)]) + raw + rest
            assert fails(unwrap_data_key, ring, blob, w.patient_uuid)


def test_other_key_file_or_retired_kek_fails(
    tmp_path: Path, two_kek_ring: tuple[KeyRing, KeyRing], wrapped_keys: list[Wrapped]
) -> None:
    first, ring = two_kek_ring
    stranger = init_key_file(tmp_path / "other.json")
    retired = retire_kek(ring.path, first.kek_id)
    for w in wrapped_keys:
        assert fails(unwrap_data_key, stranger, w.wrapped, w.patient_uuid)
        if wrapped_key_id(w.wrapped) == first.kek_id:
            assert fails(unwrap_data_key, retired, w.wrapped, w.patient_uuid)
        else:
            assert unwrap_data_key(retired, w.wrapped, w.patient_uuid) == w.data_key
