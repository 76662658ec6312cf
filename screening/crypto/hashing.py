"""Keyed hashes: the blind index for fødselsnummer lookup, access-log pseudonyms and the
access log's keyed hash chain.

Only about 21 million valid fødselsnumre exist, so an unkeyed hash could be reversed in a
minute; both hashes are HMAC-SHA256 under their own key from the :class:`KeyRing`.
"""

from __future__ import annotations

import hashlib
import hmac

from screening.crypto.keys import KeyRing

__all__ = [
    "BLIND_INDEX_LENGTH",
    "PSEUDONYM_LENGTH",
    "blind_index",
    "chain_mac",
    "normalise_fnr",
    "pseudonym",
]

BLIND_INDEX_LENGTH = 32
PSEUDONYM_LENGTH = 32
_SEPARATORS = str.maketrans("", "", "-.")


def normalise_fnr(value: str) -> str:
    """Remove whitespace (spaces, also non-breaking and tabs), ``-`` and ``.``; no validation.

    ``"010203 12345"``, ``"010203-12345"`` and ``" 01.02.03 12345 "`` all become
    ``"01020312345"``. Validation (python-stdnum) is the caller's job.
    """
    if not isinstance(value, str):
        raise TypeError(f"fødselsnummer must be str, not {type(value).__name__}")
    return "".join(value.translate(_SEPARATORS).split())


def blind_index(keyring: KeyRing, fnr: str) -> bytes:
    """HMAC-SHA256(blind-index key, normalised fødselsnummer as UTF-8): 32 bytes."""
    message = normalise_fnr(fnr).encode("utf-8", "surrogatepass")
    return hmac.new(keyring.blind_index_key, message, hashlib.sha256).digest()


def pseudonym(keyring: KeyRing, patient_uuid: str) -> str:
    """Stable pseudonym of a patient for the access log: 32 hex chars of HMAC-SHA256."""
    if not isinstance(patient_uuid, str):
        raise TypeError(f"patient_uuid must be str, not {type(patient_uuid).__name__}")
    message = patient_uuid.encode("utf-8", "surrogatepass")
    return hmac.new(keyring.pseudonym_key, message, hashlib.sha256).hexdigest()[:PSEUDONYM_LENGTH]


_CHAIN_LABEL = b"screening access-log chain key"


def chain_mac(keyring: KeyRing, message: bytes) -> str:
    """HMAC-SHA256 of one access-log entry (64 hex chars) under a key derived from the
    pseudonym key: without the key file, a forged or re-chained log cannot be made to verify."""
    if not isinstance(message, bytes):
        raise TypeError("message must be bytes")
    chain_key = hmac.new(keyring.pseudonym_key, _CHAIN_LABEL, hashlib.sha256).digest()
    return hmac.new(chain_key, message, hashlib.sha256).hexdigest()
