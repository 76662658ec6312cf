"""Sealed fields and wrapped data keys: round trips, nonces, input checking, error types."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening.crypto.fields import (
    OpenError,
    SealError,
    new_data_key,
    open_sealed,
    open_sealed_bytes,
    rewrap_data_key,
    seal,
    seal_bytes,
    unwrap_data_key,
    wrap_data_key,
    wrapped_key_id,
)
from screening.crypto.keys import KeyRing, load_key_file, rotate_key_file

CTX = {"table": "patients", "column": "name", "row_uuid": "0b5e3c1e-8f0a-4a57-9f6e-2d1c3b4a5f60"}
contexts = st.text(min_size=1, max_size=40)


def test_data_keys_are_random_32_bytes() -> None:
    keys = {new_data_key() for _ in range(1000)}
    assert len(keys) == 1000 and all(len(k) == 32 for k in keys)


def test_100k_seals_repeat_no_nonce() -> None:
    key = new_data_key()
    blobs = [seal(key, "x", **CTX) for _ in range(100_000)]
    assert len({b[:5] for b in blobs}) == 1  # same version and key id
    nonces = {b[5:17] for b in blobs}
    assert len(nonces) == 100_000
    assert len({b[17:] for b in blobs}) == 100_000  # and so every ciphertext differs


def test_wrap_nonces_are_fresh(keyring: KeyRing) -> None:
    key = new_data_key()
    blobs = {wrap_data_key(keyring, key, "p") for _ in range(5_000)}
    assert len(blobs) == 5_000


@settings(max_examples=300, deadline=None, database=None)
@given(value=st.text(), table=contexts, column=contexts, row=contexts)
def test_text_round_trip(value: str, table: str, column: str, row: str) -> None:
    key = new_data_key()
    sealed = seal(key, value, table=table, column=column, row_uuid=row)
    assert open_sealed(key, sealed, table=table, column=column, row_uuid=row) == value
    if len(value.encode()) >= 8:
        assert value.encode() not in sealed
    assert len(sealed) == 1 + 4 + 12 + len(value.encode()) + 16


@settings(max_examples=200, deadline=None, database=None)
@given(value=st.binary(max_size=4096))
def test_bytes_round_trip(value: bytes) -> None:
    key = new_data_key()
    sealed = seal_bytes(key, value, **CTX)
    assert open_sealed_bytes(key, sealed, **CTX) == value
    assert open_sealed_bytes(key, bytearray(sealed), **CTX) == value  # type: ignore[arg-type]
    assert open_sealed_bytes(key, memoryview(sealed), **CTX) == value  # type: ignore[arg-type]


def _big_text(length: int, seed: int) -> str:
    rng = random.Random(seed)
    pool = "aæøå€😀漢\n " + "".join(chr(c) for c in range(0x20, 0x7F))
    return "".join(rng.choices(pool, k=length))


@settings(
    max_examples=6, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(length=st.integers(0, 2**20 // 3), seed=st.integers(0, 2**32))
def test_large_text_round_trip(length: int, seed: int) -> None:
    value = _big_text(length, seed)
    key = new_data_key()
    sealed = seal(key, value, **CTX)
    assert open_sealed(key, sealed, **CTX) == value
    flipped = bytearray(sealed)
    flipped[len(flipped) // 2] ^= 0x01
    with pytest.raises(OpenError):
        open_sealed(key, bytes(flipped), **CTX)


def test_one_megabyte_round_trip() -> None:
    value = _big_text(2**20, 7)
    key = new_data_key()
    assert open_sealed(key, seal(key, value, **CTX), **CTX) == value
    raw = bytes(random.Random(8).randbytes(2**20))
    assert open_sealed_bytes(key, seal_bytes(key, raw, **CTX), **CTX) == raw


@settings(max_examples=500, deadline=None, database=None)
@given(garbage=st.binary(max_size=200))
def test_garbage_only_ever_raises_open_error(garbage: bytes) -> None:
    key = new_data_key()
    with pytest.raises(OpenError):
        open_sealed(key, garbage, **CTX)
    with pytest.raises(OpenError):
        open_sealed_bytes(key, garbage, **CTX)


@settings(
    max_examples=500,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(garbage=st.binary(max_size=200))
def test_garbage_wrapped_key_only_ever_raises_open_error(keyring: KeyRing, garbage: bytes) -> None:
    with pytest.raises(OpenError):
        unwrap_data_key(keyring, garbage, "p")
    try:
        assert isinstance(wrapped_key_id(garbage), str)
    except OpenError:
        pass


@pytest.mark.parametrize("bad", [None, "text", 123, ["x"], b"\x01" * 3])
def test_bad_types_raise_open_error(keyring: KeyRing, bad: object) -> None:
    key = new_data_key()
    with pytest.raises(OpenError):
        open_sealed(key, bad, **CTX)  # type: ignore[arg-type]
    with pytest.raises(OpenError):
        unwrap_data_key(keyring, bad, "p")  # type: ignore[arg-type]
    with pytest.raises(OpenError):
        wrapped_key_id(bad)  # type: ignore[arg-type]


def test_bad_open_arguments_raise_open_error() -> None:
    key = new_data_key()
    sealed = seal(key, "secret value", **CTX)
    for bad_key in (b"", key[:31], key + b"\x00", "k" * 32, None):
        with pytest.raises(OpenError):
            open_sealed(bad_key, sealed, **CTX)  # type: ignore[arg-type]
    for field in ("table", "column", "row_uuid"):
        for bad in ("", None, 5, "\ud800"):
            with pytest.raises(OpenError):
                open_sealed(key, sealed, **{**CTX, field: bad})  # type: ignore[arg-type]
    not_utf8 = seal_bytes(key, b"\xff\xfe", **CTX)
    with pytest.raises(OpenError, match="UTF-8"):
        open_sealed(key, not_utf8, **CTX)


def test_seal_rejects_bad_inputs() -> None:
    key = new_data_key()
    for bad_key in (b"", key[:16], key[:31], key + b"\x00", "k" * 32, None):
        with pytest.raises(SealError):
            seal(bad_key, "v", **CTX)  # type: ignore[arg-type]
    for bad_value in (b"bytes", None, 5, ["x"]):
        with pytest.raises(SealError):
            seal(key, bad_value, **CTX)  # type: ignore[arg-type]
    with pytest.raises(SealError, match="surrogate"):
        seal(key, "lone \ud800 surrogate", **CTX)
    with pytest.raises(SealError):
        seal_bytes(key, "text", **CTX)  # type: ignore[arg-type]
    for field in ("table", "column", "row_uuid"):
        for bad in ("", None, uuid.uuid4(), "\udfff"):
            with pytest.raises(SealError):
                seal(key, "v", **{**CTX, field: bad})  # type: ignore[arg-type]


def test_wrap_rejects_bad_inputs(keyring: KeyRing) -> None:
    for bad_key in (b"", b"\x00" * 31, b"\x00" * 33, "k" * 32):
        with pytest.raises(SealError):
            wrap_data_key(keyring, bad_key, "p")  # type: ignore[arg-type]
    for bad_patient in ("", None, uuid.uuid4()):
        with pytest.raises(SealError):
            wrap_data_key(keyring, new_data_key(), bad_patient)  # type: ignore[arg-type]


def test_errors_never_contain_plaintext_or_ciphertext(keyring: KeyRing) -> None:
    key = new_data_key()
    value = "Kari Nordmann 01020312345"
    sealed = seal(key, value, **CTX)
    wrapped = wrap_data_key(keyring, key, "patient-1")
    messages = []
    for attempt in (
        lambda: open_sealed(key, sealed[:-1], **CTX),
        lambda: open_sealed(key, sealed, **{**CTX, "column": "fnr"}),
        lambda: open_sealed(new_data_key(), sealed, **CTX),
        lambda: unwrap_data_key(keyring, wrapped, "patient-2"),
        lambda: unwrap_data_key(keyring, wrapped[:-1], "patient-1"),
    ):
        with pytest.raises(OpenError) as info:
            attempt()
        messages.append(str(info.value) + repr(info.value))
    for message in messages:
        assert "\n" not in message
        for secret in (value, "Kari", "01020312345"):
            assert secret not in message
        for blob in (sealed, wrapped, key):
            assert blob.hex()[:16] not in message and repr(blob)[:16] not in message


def test_wrap_layout_and_rewrap(keyring: KeyRing, key_path: Path) -> None:
    key = new_data_key()
    patient = str(uuid.uuid4())
    wrapped = wrap_data_key(keyring, key, patient)
    kek_id = keyring.kek_id.encode()
    assert wrapped[0] == 1 and wrapped[1] == len(kek_id) and wrapped[2 : 2 + len(kek_id)] == kek_id
    assert len(wrapped) == 2 + len(kek_id) + 12 + 32 + 16
    assert key not in wrapped
    assert wrapped_key_id(wrapped) == keyring.kek_id
    rotated = rotate_key_file(key_path)
    assert rewrap_data_key(keyring, wrapped, patient) != wrapped  # fresh nonce
    rewrapped = rewrap_data_key(rotated, wrapped, patient)
    assert wrapped_key_id(rewrapped) == rotated.kek_id != keyring.kek_id
    assert unwrap_data_key(rotated, rewrapped, patient) == key
    assert unwrap_data_key(load_key_file(key_path), wrapped, patient) == key
    with pytest.raises(OpenError):
        rewrap_data_key(rotated, wrapped, "someone else")
    # the old ring does not know the new KEK
    with pytest.raises(OpenError, match="not in the key file"):
        unwrap_data_key(keyring, rewrapped, patient)


def test_sealed_layout() -> None:
    key = new_data_key()
    a = seal(key, "abc", **CTX)
    b = seal(new_data_key(), "abc", **CTX)
    assert a[0] == 1 and len(a) == 1 + 4 + 12 + 3 + 16
    assert a[1:5] == seal(key, "", **CTX)[1:5] != b[1:5]
