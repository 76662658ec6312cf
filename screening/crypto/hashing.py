"""Keyed hashes: the blind index for fødselsnummer lookup, the search terms for finding a
patient by name or birth date, access-log pseudonyms and the access log's keyed hash chain.

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
    "SEARCH_TERM_BITS",
    "blind_index",
    "chain_mac",
    "normalise_fnr",
    "pseudonym",
    "search_term_key",
    "search_term",
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


# --------------------------------------------------------------------------- search terms

SEARCH_TERM_BITS = 16
_SEARCH_LABEL = b"screening patient search terms v1\x1f"
_SEARCH_KINDS = ("name", "birth_date")


def search_term_key(keyring: KeyRing, unit_id: int) -> bytes:
    """The key of one unit's search terms: HMAC-SHA256(blind-index key, label | unit id).
    Bound to the unit, so that the same name prefix in two units gives unrelated terms."""
    if isinstance(unit_id, bool) or not isinstance(unit_id, int):
        raise TypeError("unit_id must be int")
    message = _SEARCH_LABEL + str(unit_id).encode("ascii")
    return hmac.new(keyring.blind_index_key, message, hashlib.sha256).digest()


def search_term(unit_key: bytes, kind: str, text: str) -> int:
    """One search term: the first ``SEARCH_TERM_BITS`` bits of HMAC-SHA256(unit key,
    kind | text) as an integer. ``kind`` is ``"name"`` (a normalised name prefix) or
    ``"birth_date"`` (an ISO date). Deliberately short: about 65,000 values, so that
    unrelated prefixes of a unit share terms and a term alone does not show that two
    patients share a prefix; the search confirms every candidate on the opened name."""
    if kind not in _SEARCH_KINDS:
        raise ValueError("unknown search-term kind")
    if not isinstance(text, str):
        raise TypeError("text must be str")
    message = kind.encode("ascii") + b"\x1f" + text.encode("utf-8", "surrogatepass")
    digest = hmac.new(unit_key, message, hashlib.sha256).digest()
    return int.from_bytes(digest[:SEARCH_TERM_BITS // 8], "big")
