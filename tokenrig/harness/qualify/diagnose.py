"""Name the defect behind a wrong code.

A bare "code mismatch" sends a firmware engineer hunting. Most real TOTP firmware bugs leave a
signature: the wrong code is exactly the code some *other*, well-known computation would give
(SHA1 instead of SHA256, a 30 s step instead of 60 s, the seed cut at 20 bytes, the counter
from a signed 32-bit time...). This module tries those hypotheses against an observed code and
returns the defect in words. It sees the seed only to compute candidate codes; nothing it
returns contains seed material or codes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tokenrig.harness.otp.c_firmware import Counter2038, as_lcd_reads, counter, firmware_hotp
from tokenrig.harness.otp.generator import TotpGenerator
from tokenrig.harness.otp.hotp import Algorithm, hotp, time_step
from tokenrig.harness.otp.offset import find_step_offset
from tokenrig.harness.secrets import SECRET, redacted

_I32 = 2**31
_U32 = 2**32
_SEARCH_STEPS = 4 * 2880  # four days of 30 s steps either side: a clock that was never set


@redacted
@dataclass(frozen=True)
class Burned:
    """What was written to the token (the seed bytes are only used to compute candidates)."""

    key: bytes = field(metadata=SECRET)
    algorithm: Algorithm
    period: int
    digits: int = 6

    def generator(self) -> TotpGenerator:
        return TotpGenerator(
            self.key, algorithm=self.algorithm, digits=self.digits, period=self.period
        )


CodeAt = Callable[[int], "str | None"]

# The three ways a signed 32-bit clock reaches the 64-bit counter, each its own defect.
_COUNTER_2038_DEFECTS = {
    Counter2038.SIGN_EXTENDED: "sign-extended to 64 bits",
    Counter2038.LOW_32_BITS: "its step count kept in the counter's low 32 bits (bytes 0-3 zero)",
    Counter2038.UNSIGNED_WRAP: "the negative time wrapped to unsigned 64 bits before dividing",
}


def _hypotheses(b: Burned, hi: float) -> Iterable[tuple[str, CodeAt]]:
    """(defect, code at token time t) for every defect that applies to this burn."""
    key, alg, period, digits = b.key, b.algorithm, b.period, b.digits

    def code(
        k: bytes = key,
        a: Algorithm = alg,
        p: int = period,
        mode: Counter2038 = Counter2038.UNSIGNED,
        **core: Any,
    ) -> CodeAt:
        return lambda t: as_lcd_reads(
            firmware_hotp(k, counter(t % _U32, p, mode), digits=digits, algorithm=a, **core)
        )

    if alg is Algorithm.SHA256:
        yield "code uses SHA1 although SHA256 was burned", code(a=Algorithm.SHA1)
        yield (
            "SHA256 dynamic truncation takes its offset from byte 19 instead of the last byte",
            code(offset_byte=19),
        )
    if alg is Algorithm.SHA1:
        yield "code uses SHA256 although SHA1 was burned", code(a=Algorithm.SHA256)
    if period != 30:
        yield f"code uses a 30 s step although {period} s was burned", code(p=30)
    if period != 60:
        yield f"code uses a 60 s step although {period} s was burned", code(p=60)
    for cut in (20, 32):
        if len(key) > cut:
            yield (
                f"only the first {cut} bytes of a longer seed are used "
                f"(seen with a {len(key)}-byte seed)",
                code(k=key[:cut]),
            )
    if len(key) % 16 == 0:
        yield (
            f"block-aligned seed mis-padded: the 0x80 pad byte is used as key material "
            f"(seen with a {len(key)}-byte seed)",
            code(k=key + b"\x80"),
        )
        yield (
            f"block-aligned seed mis-padded: a PKCS#7 pad block is used as key material "
            f"(seen with a {len(key)}-byte seed)",
            code(k=key + bytes([16]) * 16),
        )
    yield (
        "dynamic truncation does not mask the top bit: the 32-bit value is read as signed, "
        "so about half the codes are negative or wrong",
        code(mask_top_bit=False),
    )
    if digits == 10:
        yield (
            "the 10-digit modulus overflows 32 bits: 10^10 mod 2^32 = 1,410,065,408 is used, "
            "so about a third of 10-digit codes are wrong",
            code(power_in_u32=True),
        )
    if hi >= _I32:
        for mode, how in _COUNTER_2038_DEFECTS.items():
            yield (
                f"counter computed from a signed 32-bit time, {how}: "
                "codes are wrong after 2038-01-19",
                code(mode=mode),
            )


def token_times(lo: float, hi: float, period: int) -> list[int]:
    """Whole token times covering every step (and half-step) between ``lo`` and ``hi``."""
    times = {math.floor(lo), math.floor(hi)}
    half = period / 2
    k = math.floor(lo / half)
    while k * half <= hi:
        for t in (k * half, k * half + 1):
            if lo - 1 <= t <= hi + 1:
                times.add(math.floor(t))
        k += 1
    return sorted(t for t in times if t >= 0)


def expected_codes(b: Burned, lo: float, hi: float) -> set[str]:
    """Every code a correct token may show while its clock is somewhere in ``[lo, hi]``."""
    first = time_step(max(lo, 0), period=b.period)
    last = time_step(max(hi, 0), period=b.period)
    return {
        hotp(b.key, step, digits=b.digits, algorithm=b.algorithm) for step in range(first, last + 1)
    }


def short_display(b: Burned, shown: str, expected: set[str]) -> str | None:
    """The display defect that shows an expected code in fewer positions than the digits
    burned, or None. Only these two make a short reading a token's: a display that blanks
    leading zeros, or one that shows the last six digits of a longer code. Any other short
    reading cannot be read as a code of the burned length (see ``observe.check_reading``)."""
    if len(shown) < b.digits and shown.zfill(b.digits) in expected:
        return f"display drops leading zeros (shows {len(shown)} of {b.digits} digits)"
    if len(shown) == 6 < b.digits and any(code[-6:] == shown for code in expected):
        return f"display shows only the last 6 digits of the {b.digits}-digit code"
    return None


def explain(b: Burned, shown: str | None, lo: float, hi: float, *, host_time: float) -> str:
    """The defect that makes a token show ``shown`` while its clock should be in ``[lo, hi]``."""
    if shown is None:
        return (
            "display shows no code after a burn and power cycle "
            "(seed not stored, or lost when switched off)"
        )
    expected = expected_codes(b, lo, hi)
    short = short_display(b, shown, expected)
    if short is not None:
        return short
    times = token_times(lo, hi, b.period)
    for defect, code_at in _hypotheses(b, hi):
        if any(code_at(t) == shown for t in times):
            return defect
    mid = (lo + hi) / 2
    steps = found_step_offset(b, shown, mid)
    if steps is not None and abs(steps) <= 2:
        return (
            f"code is {_steps_text(steps)} the expected one: the clock is off right after "
            "the sync, the counter is off by one, or it is rounded instead of floored "
            "(the clock-offset procedure tells which)"
        )
    if abs(mid - host_time) > b.period:
        near_host = found_step_offset(b, shown, host_time, max_steps=120)
        if near_host is not None:
            return (
                "clock not set by the burn/sync: the code follows the token's old clock "
                f"(near the host time, {host_time - mid:+.0f} s from the written clock)"
            )
    if steps is not None:
        return (
            f"token clock is {steps:+d} steps ({steps * b.period:+d} s) from where the sync set it"
        )
    return (
        f"code does not match the burned seed ({b.algorithm.value}, {b.period} s, "
        f"{len(b.key)}-byte seed) and no known defect explains it"
    )


def _steps_text(steps: int) -> str:
    plural = "s" if abs(steps) > 1 else ""
    return f"{abs(steps)} step{plural} {'ahead of' if steps > 0 else 'behind'}"


def found_step_offset(
    b: Burned, shown: str, around: float, *, max_steps: int = _SEARCH_STEPS
) -> int | None:
    """Steps between the step of ``around`` and the nearest step whose code is ``shown``."""
    return find_step_offset(b.generator(), shown, max(around, 0.0), window=max_steps)
