"""Cryptography for the screening app: the key file, sealed fields and keyed hashes.

Only this package may import :mod:`cryptography`. See ``keys`` (key file format),
``fields`` (wrapped data keys and sealed fields, AES-256-GCM) and ``hashing`` (blind index,
pseudonyms).
"""

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
from screening.crypto.hashing import blind_index, normalise_fnr, pseudonym
from screening.crypto.keys import (
    KeyFileError,
    KeyRing,
    init_key_file,
    key_check_value,
    load_key_file,
    retire_kek,
    rotate_key_file,
)

__all__ = [
    "KeyFileError",
    "KeyRing",
    "OpenError",
    "SealError",
    "blind_index",
    "init_key_file",
    "key_check_value",
    "load_key_file",
    "new_data_key",
    "normalise_fnr",
    "open_sealed",
    "open_sealed_bytes",
    "pseudonym",
    "retire_kek",
    "rewrap_data_key",
    "rotate_key_file",
    "seal",
    "seal_bytes",
    "unwrap_data_key",
    "wrap_data_key",
    "wrapped_key_id",
]
