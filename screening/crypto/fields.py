"""Envelope encryption: wrapped per-patient data keys and sealed fields (AES-256-GCM).

Both formats start with a version byte and a key id, and bind every header byte plus the
context (patient, or table/column/row) in the GCM associated data, so any flipped byte,
truncation, changed key id, or ciphertext moved to another row, column or patient fails to open.

Wrapped data key (under the current key-encryption key of a :class:`KeyRing`)::

    0x01 | len(kek_id) (1 byte) | kek_id (ASCII) | nonce (12) | AES-GCM(data key) + tag (48)
    AD = lp(b"screening/wrapped-data-key") | lp(header) | lp(patient_uuid UTF-8)

Sealed field (under a patient's data key)::

    0x01 | data key id (4) | nonce (12) | AES-GCM(value) + tag (16 + len(value))
    AD = lp(b"screening/sealed-field") | lp(header) | lp(table) | lp(column) | lp(row_uuid)

``header`` is every byte before the nonce; ``lp(x)`` is ``len(x)`` as 4-byte big-endian
followed by ``x``. The data key id is the first 4 bytes of HMAC-SHA256(data_key, b"data key id");
it tells which key a blob needs, it is not secret. Nonces are 96 random bits from
:func:`os.urandom` per seal. Contexts (uuids, table and column names) are bound exactly as
given: callers must always pass the same canonical string (e.g. ``str(uuid.UUID(...))``).

:func:`seal` stores UTF-8 text; :func:`seal_bytes` stores bytes; both use the same format.
Every failure to open raises :class:`OpenError`, every bad input to seal/wrap :class:`SealError`;
neither message contains plaintext, ciphertext or key bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from screening.crypto.keys import KEY_LENGTH, KeyRing

__all__ = [
    "OpenError",
    "SealError",
    "data_key_id",
    "new_data_key",
    "open_sealed",
    "open_sealed_bytes",
    "rewrap_data_key",
    "seal",
    "seal_bytes",
    "unwrap_data_key",
    "wrap_data_key",
    "wrapped_key_id",
]

VERSION = 1
NONCE_LENGTH = 12
TAG_LENGTH = 16
DATA_KEY_ID_LENGTH = 4
_VERSION_BYTE = bytes([VERSION])
_WRAP_LABEL = b"screening/wrapped-data-key"
_SEAL_LABEL = b"screening/sealed-field"
_KEY_ID_LABEL = b"data key id"
_SEAL_HEADER = 1 + DATA_KEY_ID_LENGTH
_MIN_SEALED = _SEAL_HEADER + NONCE_LENGTH + TAG_LENGTH
_WRAPPED_CT = KEY_LENGTH + TAG_LENGTH


class OpenError(Exception):
    """A wrapped key or sealed value cannot be opened (malformed, tampered, moved, wrong key)."""


class SealError(Exception):
    """Bad input to :func:`seal`, :func:`seal_bytes` or :func:`wrap_data_key`."""


def _lp(part: bytes) -> bytes:
    return struct.pack(">I", len(part)) + part


def _context(error: type[Exception], name: str, value: object) -> bytes:
    if not isinstance(value, str) or not value:
        raise error(f"{name} must be a non-empty string")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise error(f"{name} is not valid Unicode text") from None


def _as_bytes(error: type[Exception], name: str, value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise error(f"{name} must be bytes, not {type(value).__name__}")


def _check_key(error: type[Exception], name: str, key: object) -> bytes:
    raw = _as_bytes(error, name, key)
    if len(raw) != KEY_LENGTH:
        raise error(f"{name} must be {KEY_LENGTH} bytes")
    return raw


# --------------------------------------------------------------------------- data keys


def new_data_key() -> bytes:
    """A fresh random 32-byte data key."""
    return os.urandom(KEY_LENGTH)


def data_key_id(data_key: bytes) -> bytes:
    """The 4-byte id of a data key stored in every blob it seals (not secret)."""
    key = _check_key(SealError, "data key", data_key)
    return hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).digest()[:DATA_KEY_ID_LENGTH]


def _wrap_header(kek_id: str) -> bytes:
    raw = kek_id.encode("ascii")
    return _VERSION_BYTE + bytes([len(raw)]) + raw


def wrap_data_key(keyring: KeyRing, data_key: bytes, patient_uuid: str) -> bytes:
    """Encrypt ``data_key`` under the keyring's current KEK, bound to ``patient_uuid``."""
    key = _check_key(SealError, "data key", data_key)
    patient = _context(SealError, "patient_uuid", patient_uuid)
    kek_id = keyring.kek_id
    if not kek_id.isascii() or not 0 < len(kek_id) < 256:
        raise SealError("the current KEK id cannot be stored")
    header = _wrap_header(kek_id)
    nonce = os.urandom(NONCE_LENGTH)
    aad = _lp(_WRAP_LABEL) + _lp(header) + _lp(patient)
    return header + nonce + AESGCM(keyring.keks[kek_id]).encrypt(nonce, key, aad)


def _split_wrapped(wrapped: object) -> tuple[bytes, str, bytes, bytes]:
    blob = _as_bytes(OpenError, "wrapped data key", wrapped)
    if len(blob) < 2 or blob[0] != VERSION:
        raise OpenError("wrapped data key is malformed or has an unsupported version")
    end = 2 + blob[1]
    if blob[1] == 0 or len(blob) != end + NONCE_LENGTH + _WRAPPED_CT:
        raise OpenError("wrapped data key has the wrong length")
    try:
        kek_id = blob[2:end].decode("ascii")
    except UnicodeDecodeError:
        raise OpenError("wrapped data key has a malformed key id") from None
    return blob[:end], kek_id, blob[end : end + NONCE_LENGTH], blob[end + NONCE_LENGTH :]


def wrapped_key_id(wrapped: bytes) -> str:
    """The id of the KEK a wrapped data key was made with."""
    return _split_wrapped(wrapped)[1]


def unwrap_data_key(keyring: KeyRing, wrapped: bytes, patient_uuid: str) -> bytes:
    """Decrypt a wrapped data key with whichever KEK (by id) it names."""
    header, kek_id, nonce, ciphertext = _split_wrapped(wrapped)
    patient = _context(OpenError, "patient_uuid", patient_uuid)
    kek = keyring.keks.get(kek_id)
    if kek is None:
        raise OpenError("wrapped data key names a KEK that is not in the key file")
    aad = _lp(_WRAP_LABEL) + _lp(header) + _lp(patient)
    try:
        return AESGCM(kek).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise OpenError(
            "wrapped data key failed authentication (tampered, other patient or wrong key)"
        ) from None


def rewrap_data_key(keyring: KeyRing, wrapped: bytes, patient_uuid: str) -> bytes:
    """Unwrap with the KEK the blob names and wrap again with the current KEK."""
    return wrap_data_key(keyring, unwrap_data_key(keyring, wrapped, patient_uuid), patient_uuid)


# --------------------------------------------------------------------------- sealed fields


def _seal_aad(header: bytes, table: bytes, column: bytes, row: bytes) -> bytes:
    return _lp(_SEAL_LABEL) + _lp(header) + _lp(table) + _lp(column) + _lp(row)


def seal_bytes(data_key: bytes, value: bytes, *, table: str, column: str, row_uuid: str) -> bytes:
    """Encrypt ``value`` under ``data_key``, bound to table, column and row uuid."""
    key = _check_key(SealError, "data key", data_key)
    plaintext = _as_bytes(SealError, "value", value)
    aad_parts = (
        _context(SealError, "table", table),
        _context(SealError, "column", column),
        _context(SealError, "row_uuid", row_uuid),
    )
    header = _VERSION_BYTE + data_key_id(key)
    nonce = os.urandom(NONCE_LENGTH)
    return header + nonce + AESGCM(key).encrypt(nonce, plaintext, _seal_aad(header, *aad_parts))


def seal(data_key: bytes, value: str, *, table: str, column: str, row_uuid: str) -> bytes:
    """Encrypt the text ``value`` (as UTF-8); see :func:`seal_bytes`."""
    if not isinstance(value, str):
        raise SealError(f"value must be str, not {type(value).__name__}")
    try:
        raw = value.encode("utf-8")
    except UnicodeEncodeError:
        raise SealError("value is not valid Unicode text (lone surrogate)") from None
    return seal_bytes(data_key, raw, table=table, column=column, row_uuid=row_uuid)


def open_sealed_bytes(
    data_key: bytes, sealed: bytes, *, table: str, column: str, row_uuid: str
) -> bytes:
    """Decrypt a value sealed by :func:`seal_bytes`; any failure raises :class:`OpenError`."""
    key = _check_key(OpenError, "data key", data_key)
    blob = _as_bytes(OpenError, "sealed value", sealed)
    aad_parts = (
        _context(OpenError, "table", table),
        _context(OpenError, "column", column),
        _context(OpenError, "row_uuid", row_uuid),
    )
    if len(blob) < _MIN_SEALED:
        raise OpenError("sealed value is too short")
    if blob[0] != VERSION:
        raise OpenError("sealed value has an unsupported version")
    header = blob[:_SEAL_HEADER]
    if not hmac.compare_digest(header[1:], data_key_id(key)):
        raise OpenError("sealed value belongs to a different data key")
    nonce = blob[_SEAL_HEADER : _SEAL_HEADER + NONCE_LENGTH]
    try:
        return AESGCM(key).decrypt(
            nonce, blob[_SEAL_HEADER + NONCE_LENGTH :], _seal_aad(header, *aad_parts)
        )
    except InvalidTag:
        raise OpenError(
            "sealed value failed authentication (tampered, moved to another row or column, "
            "or wrong key)"
        ) from None


def open_sealed(data_key: bytes, sealed: bytes, *, table: str, column: str, row_uuid: str) -> str:
    """Decrypt a value sealed by :func:`seal`; any failure raises :class:`OpenError`."""
    raw = open_sealed_bytes(data_key, sealed, table=table, column=column, row_uuid=row_uuid)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise OpenError("sealed value is not UTF-8 text") from None
