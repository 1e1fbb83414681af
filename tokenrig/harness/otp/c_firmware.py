"""HOTP as small C firmware cores compute it, with the classic 32-bit mistakes as switches.

Token firmware is a few hundred lines of C on a microcontroller whose ``int`` and ``long`` are
32 bits. Its bugs have fixed, well-known shapes: the power of ten held in a ``uint32_t``, the
truncated value read as a signed ``int32_t``, a signed ``time_t`` turned into the 64-bit
counter in one of three wrong ways after 2038. Both the simulator (which must reproduce such a
bug) and the qualification's diagnosis (which must recognise it from a wrong code) need the
same arithmetic, so it lives here once. With every switch at its default the result is RFC
4226/6238 exactly, which a property test checks against the plain core.
"""

from __future__ import annotations

import enum
import hmac
import struct

from tokenrig.harness.otp.hotp import Algorithm

_U32 = 2**32
_I32_SIGN = 2**31
_U64_MASK = 2**64 - 1


class Counter2038(enum.Enum):
    """How a firmware turns its 32-bit clock into the 64-bit HOTP counter.

    ``UNSIGNED`` is right (the clock is unsigned seconds). The others read the clock as a
    signed 32-bit ``time_t``, which turns negative at 2038-01-19T03:14:08Z, and then differ in
    how the negative step count reaches the 8 counter bytes.
    """

    UNSIGNED = "unsigned"
    SIGN_EXTENDED = "sign_extended"  # (int64_t)(t / X): all 8 bytes 0xFF...
    LOW_32_BITS = "low_32_bits"  # a 32-bit long step count in bytes 4-7, bytes 0-3 zero
    UNSIGNED_WRAP = "unsigned_wrap"  # (uint64_t)t / X: the negative time wrapped first


def counter(clock_u32: int, period: int, mode: Counter2038 = Counter2038.UNSIGNED) -> int:
    """The counter a firmware feeds to HMAC at its own clock reading ``clock_u32``."""
    if mode is Counter2038.UNSIGNED:
        return clock_u32 // period
    signed = clock_u32 - _U32 if clock_u32 >= _I32_SIGN else clock_u32
    if mode is Counter2038.UNSIGNED_WRAP:
        return (signed & _U64_MASK) // period
    step = int(signed / period)  # C division truncates toward zero
    if mode is Counter2038.LOW_32_BITS:
        return step % _U32
    return step & _U64_MASK


def modulus(digits: int, *, power_in_u32: bool = False) -> int:
    """``10**digits``, or what a loop ``m *= 10`` leaves in a ``uint32_t`` (10 digits:
    10**10 mod 2**32 = 1,410,065,408; every shorter count still fits)."""
    value = int(10**digits)
    return value % _U32 if power_in_u32 else value


def truncated_value(
    digest: bytes, *, offset_byte: int | None = None, mask_top_bit: bool = True
) -> int:
    """RFC 4226 dynamic truncation: 31 bits from the offset the last byte names.

    ``offset_byte`` reads the offset nibble from another byte (19, SHA-1's last, applied to a
    longer digest); ``mask_top_bit=False`` keeps bit 31 and reads the word as ``int32_t``.
    """
    offset = digest[-1 if offset_byte is None else offset_byte] & 0x0F
    if mask_top_bit:
        (word,) = struct.unpack_from(">I", digest, offset)
        return int(word) & 0x7FFFFFFF
    (signed,) = struct.unpack_from(">i", digest, offset)
    return int(signed)


def c_format(value: int, mod: int, digits: int) -> str:
    """``printf("%0*d", digits, value % mod)`` with C's remainder (sign of the dividend).

    A negative result keeps its minus sign inside the field width, as printf does; the LCD
    shows the right-most ``digits`` positions.
    """
    remainder = abs(value) % mod
    if value < 0 and remainder:
        return ("-" + str(remainder).zfill(digits - 1))[-digits:]
    return str(remainder).zfill(digits)[-digits:]


def firmware_hotp(
    key: bytes,
    count: int,
    *,
    digits: int = 6,
    algorithm: Algorithm = Algorithm.SHA1,
    offset_byte: int | None = None,
    mask_top_bit: bool = True,
    power_in_u32: bool = False,
) -> str:
    """The code a C core with the given mistakes shows for ``count`` (RFC 4226 by default)."""
    digest = hmac.digest(key, struct.pack(">Q", count), algorithm.digest_name)
    value = truncated_value(digest, offset_byte=offset_byte, mask_top_bit=mask_top_bit)
    return c_format(value, modulus(digits, power_in_u32=power_in_u32), digits)


def as_lcd_reads(code: str) -> str:
    """What a rig reading the segments reports: a lit position that is not a digit (a minus
    sign) is ``?`` (docs/rig-protocol.md, ``DISP?``)."""
    return "".join(ch if ch.isdigit() else "?" for ch in code)
