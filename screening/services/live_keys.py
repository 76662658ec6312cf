"""Keys during an online rotation: a running app keeps working while ``keys rotate``
re-wraps data keys under a new key-encryption key (KEK) it has not loaded yet.

* :func:`unwrap_key`: a wrapped key naming a KEK this key ring lacks makes the key file be
  read again (fully validated; cached by its stat).
* :func:`current_keyring`: new data keys are wrapped under the key file's current KEK, so that
  after a rotation no new row is wrapped under the old KEK (which could then not be retired).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..crypto.fields import OpenError, unwrap_data_key, wrapped_key_id
from ..crypto.keys import KeyFileError, KeyRing, load_key_file

_fresh_rings: dict[Path, tuple[tuple[int, int, int], KeyRing]] = {}


def _fresher_keyring(keyring: KeyRing, wrapped: bytes) -> KeyRing | None:
    """During an online rotation (``keys rotate``) the command re-wraps data keys under a new
    key-encryption key that a running app has not loaded yet. When a wrapped key names a KEK
    this key ring lacks, read the key file again (fully validated; cached by its stat)."""
    try:
        kek_id = wrapped_key_id(wrapped)
    except OpenError:
        return None
    if kek_id in keyring.keks:
        return None
    ring = _reloaded(keyring)
    return ring if ring is not None and kek_id in ring.keks else None


def _reloaded(keyring: KeyRing) -> KeyRing | None:
    """The key file as it is now (cached by its stat), or None if it cannot be read."""
    try:
        st = os.stat(keyring.path)
        signature = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = _fresh_rings.get(keyring.path)
        if cached is not None and cached[0] == signature:
            return cached[1]
        ring = load_key_file(keyring.path)
        _fresh_rings[keyring.path] = (signature, ring)
        return ring
    except (OSError, KeyFileError):
        return None


def current_keyring(keyring: KeyRing) -> KeyRing:
    """The key ring to wrap NEW data keys with: the key file's, when it has moved on to a new
    KEK since the app loaded it; otherwise ``keyring`` itself."""
    ring = _reloaded(keyring)
    if ring is None or ring.kek_id == keyring.kek_id:
        return keyring
    return ring


def unwrap_key(keyring: KeyRing, wrapped: bytes, context: str) -> bytes:
    """:func:`~screening.crypto.fields.unwrap_data_key`, but when the wrapped key names a KEK
    this key ring lacks (an online ``keys rotate`` has re-wrapped it under a new KEK), the
    key file is read again and used. Raises :class:`~screening.crypto.fields.OpenError`.
    Every unwrap of a stored key should go through here (staff keys too), so that a running
    app keeps working during a rotation."""
    try:
        return unwrap_data_key(keyring, wrapped, context)
    except OpenError:
        fresher = _fresher_keyring(keyring, wrapped)
        if fresher is None:
            raise
    return unwrap_data_key(fresher, wrapped, context)


