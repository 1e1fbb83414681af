"""The token's part of an enrollment: QR text → key → model check → burn → power-cycle →
press → code. The authenticator app's job, done by a hardware token.

Refusing before burning matters: a restricted-sync token's seed is erased by any config
write, so a burn that fails half-way leaves the user with a blank token. Everything the model
cannot honour (digits=8 on a single-profile token, SHA512, a 90 s period, a 64-byte seed) is
caught by :func:`plan_burn` before a byte is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenrig.harness.clock import Clock
from tokenrig.harness.otp.uri import OtpKind, OtpUri, UriError, parse_uri, wrong_qr_reason
from tokenrig.harness.tokens.base import BurnRequest, DisplayReading, SeedState, Token, TokenError
from tokenrig.harness.tokens.models import UnsupportedConfig


class EnrollmentTokenError(Exception):
    """The token cannot do what the QR asks, or did not show a usable code."""


@dataclass(frozen=True)
class TokenCode:
    """A code read from the token's display, with the host time of the reading."""

    code: str
    reading: DisplayReading

    def __str__(self) -> str:
        return self.code


def key_from_qr(text: str) -> OtpUri:
    """Parse the QR's text as an ``otpauth://totp`` key (lenient: as apps accept it)."""
    reason = wrong_qr_reason(text)
    if reason is not None:
        raise EnrollmentTokenError(f"QR code: {reason}")
    try:
        key = parse_uri(text)
    except UriError as exc:  # names the field, never the secret
        raise EnrollmentTokenError(f"QR code: otpauth URI: {exc}") from None
    if key.kind is not OtpKind.TOTP:
        raise EnrollmentTokenError("QR code: a HOTP (counter) key; hardware TOTP tokens need totp")
    return key


def describe_key(key: OtpUri) -> str:
    """Safe one-line summary: issuer/account, algorithm, digits, period, seed size and
    fingerprint (never the seed)."""
    who = f"{key.issuer}:{key.account}" if key.issuer else key.account
    return (
        f"{who} {key.algorithm.value}/{key.digits} digits/{key.period} s, "
        f"{len(key.secret) * 8}-bit seed {key.secret.fingerprint}"
    )


def plan_burn(key: OtpUri, token: Token, *, clock_time: int | None = None) -> BurnRequest:
    """The burn for ``key`` on ``token``, refused (before any write) if its model cannot."""
    request = BurnRequest(
        secret=key.secret,
        algorithm=key.algorithm,
        period=key.period,
        digits=key.digits,
        clock_time=clock_time,
    )
    try:
        request.check_against(token.spec)
    except UnsupportedConfig as exc:
        raise EnrollmentTokenError(
            f"token {token.identity.serial} ({token.spec.name}) cannot honour this QR code: "
            f"{exc.field}: {exc.reason}; nothing was written to the token"
        ) from None
    return request


def burn(token: Token, request: BurnRequest) -> None:
    """Write config, clock and seed (the Token checks the model again itself)."""
    try:
        token.burn(request)
    except (TokenError, UnsupportedConfig) as exc:
        raise EnrollmentTokenError(f"token {token.identity.serial}: burn failed: {exc}") from None


def read_code(token: Token, *, digits: int = 6) -> TokenCode:
    """Press the button and read the display; the code must be ``digits`` digits."""
    token.press()
    reading = token.read_display()
    if reading.code is None:
        raise EnrollmentTokenError(
            f"token {token.identity.serial}: display stayed blank after a press "
            "(no seed on the token?)"
        )
    if len(reading.code) != digits or not reading.code.isdigit():
        raise EnrollmentTokenError(
            f"token {token.identity.serial}: display shows {reading.code!r}, "
            f"not a {digits}-digit code"
        )
    return TokenCode(reading.code, reading)


def resync_clock(token: Token, clock: Clock) -> SeedState:
    """Set the token's clock to ``clock``'s now; say whether the seed survived."""
    return token.set_clock(int(clock.now()))


def wait_for_next_step(clock: Clock, period: int = 30, *, margin: float = 1.0) -> None:
    """Sleep (on ``clock``) into the next time step, so the next code is a fresh one."""
    now = clock.now()
    clock.sleep(period - (now % period) + margin)
