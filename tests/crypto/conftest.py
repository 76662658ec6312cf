"""Fixtures for the crypto tests: a fresh key file (fresh random keys) per test."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from screening.crypto.keys import KeyRing, init_key_file, key_check_value


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    return tmp_path / "keys.json"


@pytest.fixture
def keyring(key_path: Path) -> KeyRing:
    return init_key_file(key_path)


def all_keys(ring: KeyRing) -> list[bytes]:
    return [*ring.keks.values(), ring.blind_index_key, ring.pseudonym_key, ring.session_secret]


def forbidden_forms(keys: Iterable[bytes]) -> list[str]:
    """Every textual form of each key (and its KCV) that must never appear in a message."""
    forms: list[str] = []
    for key in keys:
        forms += [
            key.hex(),
            key.hex().upper(),
            base64.b64encode(key).decode(),
            base64.b64encode(key).decode().rstrip("="),
            base64.urlsafe_b64encode(key).decode().rstrip("="),
            key.decode("latin-1"),
            repr(key),
            key_check_value(key),
        ]
    return forms


def assert_no_key_material(text: str, keys: Iterable[bytes]) -> None:
    for form in forbidden_forms(keys):
        assert form not in text
    # no long run of hex or base64 alphabet either (the path is the only free text)
    assert not any(len(word) >= 40 for word in text.replace("/", " ").split())


@pytest.fixture
def check_clean() -> Callable[[str, Iterable[bytes]], None]:
    """The :func:`assert_no_key_material` helper, as a fixture (no cross-module test imports)."""
    return assert_no_key_material


@pytest.fixture
def keys_of() -> Callable[[KeyRing], list[bytes]]:
    return all_keys
