"""Time-based one-time passwords (RFC 6238 through pyotp), each code accepted at most once."""

from __future__ import annotations

import time

import pyotp
import segno

ISSUER = "Screening"
STEP_SECONDS = 30


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The enrolment QR code drawn on the server, as an inline SVG document."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff")


def matching_step(
    secret: str, code: str, last_step: int | None, now: float | None = None
) -> int | None:
    """The time step a code belongs to (within ±1 step of now), or None. A step at or before
    ``last_step`` is refused, so a code, once used, is never accepted again."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    now = time.time() if now is None else now
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if pyotp.utils.strings_equal(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def code_now(secret: str) -> str:
    return pyotp.TOTP(secret).now()
