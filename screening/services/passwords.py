"""Password policy and hashing (argon2id through argon2-cffi)."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256


class PasswordRejected(ValueError):
    """The password does not meet the policy; ``code`` names the rule."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    text = files("screening").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def check_policy(password: str, username: str = "") -> None:
    """Raise :class:`PasswordRejected` when the password is too short, too long, common,
    built from the username, or a single repeated character."""
    if len(password) < MIN_LENGTH:
        raise PasswordRejected("too_short")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected("too_long")
    lowered = password.lower()
    if lowered in _common() or lowered.rstrip("0123456789!") in _common():
        raise PasswordRejected("common")
    if len(set(lowered)) <= 2:
        raise PasswordRejected("common")
    if username and username.lower() in lowered and len(username) >= 3:
        raise PasswordRejected("contains_username")


class Hasher:
    def __init__(self, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        # A fixed hash to verify against for unknown accounts, so timing does not tell.
        self._dummy = self._hasher.hash("dummy password for timing")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)
