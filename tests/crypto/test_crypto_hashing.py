"""Blind index and access-log pseudonyms."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from pathlib import Path

import pytest

from screening.crypto.hashing import blind_index, normalise_fnr, pseudonym
from screening.crypto.keys import KeyRing, init_key_file, rotate_key_file


@pytest.mark.parametrize(
    "raw",
    [
        "01020312345",
        "010203 12345",
        "010203-12345",
        " 01.02.03 12345 ",
        "010203\u00a012345",
        "0102 03\t12345\n",
    ],
)
def test_normalise(raw: str) -> None:
    assert normalise_fnr(raw) == "01020312345"


def test_normalise_does_not_validate() -> None:
    assert normalise_fnr("abc") == "abc"
    assert normalise_fnr("") == ""
    assert normalise_fnr("12/34") == "12/34"


def test_blind_index_is_keyed_hmac(keyring: KeyRing) -> None:
    index = blind_index(keyring, "010203 12345")
    assert index == blind_index(keyring, "01020312345") == blind_index(keyring, "010203-12345")
    assert len(index) == 32
    expected = hmac.new(keyring.blind_index_key, b"01020312345", hashlib.sha256).digest()
    assert index == expected
    assert index != hashlib.sha256(b"01020312345").digest()


def test_blind_index_differs_across_keyrings(tmp_path: Path, keyring: KeyRing) -> None:
    other = init_key_file(tmp_path / "other.json")
    numbers = [f"{n:011d}" for n in range(10_000_000_000, 10_000_001_000)]
    mine = {blind_index(keyring, n) for n in numbers}
    theirs = {blind_index(other, n) for n in numbers}
    assert len(mine) == len(theirs) == 1000
    assert not mine & theirs


def test_blind_index_survives_kek_rotation(keyring: KeyRing, key_path: Path) -> None:
    rotated = rotate_key_file(key_path)
    assert blind_index(rotated, "01020312345") == blind_index(keyring, "01020312345")
    assert pseudonym(rotated, "p") == pseudonym(keyring, "p")


def test_pseudonym(keyring: KeyRing, tmp_path: Path) -> None:
    patient = str(uuid.uuid4())
    value = pseudonym(keyring, patient)
    assert value == pseudonym(keyring, patient)
    assert len(value) == 32 and int(value, 16) >= 0 and value == value.lower()
    expected = hmac.new(keyring.pseudonym_key, patient.encode(), hashlib.sha256).hexdigest()[:32]
    assert value == expected
    assert patient.replace("-", "") not in value
    assert pseudonym(init_key_file(tmp_path / "b.json"), patient) != value
    assert len({pseudonym(keyring, str(uuid.uuid4())) for _ in range(1000)}) == 1000
    # the two hashes use different keys
    assert blind_index(keyring, patient).hex()[:32] != value


def test_wrong_types_raise_type_error(keyring: KeyRing) -> None:
    with pytest.raises(TypeError):
        normalise_fnr(1020312345)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        pseudonym(keyring, uuid.uuid4())  # type: ignore[arg-type]
