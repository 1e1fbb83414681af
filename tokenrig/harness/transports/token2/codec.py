"""Byte layouts shared by the host side and the simulated token: secure commands, config TLVs,
the info response, and the wire codes of algorithm, step, digits and display timeout.

Both ends use this one module so the simulated token cannot drift from the programmer: the
unit tests pin it against the vendor's published byte-level examples instead.
"""

from __future__ import annotations

import hmac
import struct
from dataclasses import dataclass

from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.tokens.models import DISPLAY_TIMEOUTS
from tokenrig.harness.tokens.nfc_token import CardInfo
from tokenrig.harness.transports.token2 import tlv
from tokenrig.harness.transports.token2.apdu import CLA_PLAIN, CLA_SECURE, Command
from tokenrig.harness.transports.token2.crypto import MAC_LEN, sm4_mac

ALGORITHM_CODES: dict[Algorithm, int] = {Algorithm.SHA1: 1, Algorithm.SHA256: 2}
STEP_CODES: dict[int, int] = {30: 0x1E, 60: 0x3C}  # the byte is the step in seconds
DIGIT_CODES: dict[int, int] = {4: 0x04, 6: 0x06, 8: 0x08, 10: 0x0A}


class CodecError(ValueError):
    """A value has no wire encoding, or received bytes do not decode."""


def algorithm_code(algorithm: Algorithm) -> int:
    try:
        return ALGORITHM_CODES[algorithm]
    except KeyError:
        raise CodecError(f"algorithm {algorithm.value} has no Token2 wire code") from None


def algorithm_from_code(code: int) -> Algorithm:
    for algorithm, value in ALGORITHM_CODES.items():
        if value == code:
            return algorithm
    raise CodecError(f"unknown HMAC algorithm code {code:02X}")


def step_code(period: int) -> int:
    try:
        return STEP_CODES[period]
    except KeyError:
        raise CodecError(f"period {period} s has no Token2 wire code (30 or 60)") from None


def period_from_code(code: int) -> int:
    for period, value in STEP_CODES.items():
        if value == code:
            return period
    raise CodecError(f"unknown time-step code {code:02X}")


def display_code(seconds: int) -> int:
    if seconds not in DISPLAY_TIMEOUTS:
        raise CodecError(f"display timeout {seconds} s has no wire code ({DISPLAY_TIMEOUTS})")
    return DISPLAY_TIMEOUTS.index(seconds)


def display_from_code(code: int) -> int:
    if not 0 <= code < len(DISPLAY_TIMEOUTS):
        raise CodecError(f"unknown display-timeout code {code:02X}")
    return DISPLAY_TIMEOUTS[code]


def digits_code(digits: int) -> int:
    try:
        return DIGIT_CODES[digits]
    except KeyError:
        raise CodecError(f"{digits} digits have no wire code (4, 6, 8 or 10)") from None


def utc_bytes(utc: int) -> bytes:
    if not 0 <= utc <= 0xFFFFFFFF:
        raise CodecError(f"UTC time {utc} does not fit the token's u32 clock")
    return struct.pack(">I", utc)


# -- secure commands -------------------------------------------------------------------------


def mac_header(ins: int, p1: int, p2: int, body_len: int) -> bytes:
    """The MAC covers ``80 INS P1 P2 Lc'`` (plain class, body length without the MAC)."""
    return bytes((CLA_PLAIN, ins, p1, p2, body_len))


def secure_command(
    name: str, ins: int, p1: int, p2: int, body: bytes, key: bytes, *, sensitive: bool = False
) -> Command:
    """A CLA 84 command: ``body ‖ MAC`` where the MAC is computed over the plain-class header."""
    mac = sm4_mac(key, mac_header(ins, p1, p2, len(body)) + body)
    return Command(name, CLA_SECURE, ins, p1, p2, body + mac, sensitive=sensitive)


def open_secure(ins: int, p1: int, p2: int, data: bytes, key: bytes) -> bytes | None:
    """Card side: the body of a secure command if its MAC verifies under ``key``, else None."""
    if len(data) < MAC_LEN:
        return None
    body, mac = data[:-MAC_LEN], data[-MAC_LEN:]
    expected = sm4_mac(key, mac_header(ins, p1, p2, len(body)) + body)
    return body if hmac.compare_digest(mac, expected) else None


# -- config TLVs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigFields:
    """What a config (or time-only) write carries; None = absent from the TLV."""

    utc: int
    display_timeout: int | None = None  # seconds
    algorithm: Algorithm | None = None
    period: int | None = None
    digits: int | None = None


def config_tlv(fields: ConfigFields) -> bytes:
    """``81 | 1F disp | 0F utc | 86 (0A alg [0B digits] 0D step)``, or ``81 | 0F utc`` alone."""
    items = []
    if fields.display_timeout is not None:
        items.append(
            tlv.Tlv(tlv.TAG_DISPLAY_TIMEOUT, bytes((display_code(fields.display_timeout),)))
        )
    items.append(tlv.Tlv(tlv.TAG_UTC_TIME, utc_bytes(fields.utc)))
    if fields.algorithm is not None and fields.period is not None:
        params = [tlv.Tlv(tlv.TAG_HMAC, bytes((algorithm_code(fields.algorithm),)))]
        if fields.digits is not None:
            params.append(tlv.Tlv(tlv.TAG_DIGITS, bytes((digits_code(fields.digits),))))
        params.append(tlv.Tlv(tlv.TAG_TIME_STEP, bytes((step_code(fields.period),))))
        items.append(tlv.Tlv(tlv.TAG_TOTP_PARAMS, tlv.encode(*params)))
    return tlv.Tlv(tlv.TAG_SYS_CONFIG, tlv.encode(*items)).encode()


def parse_config_tlv(body: bytes) -> ConfigFields:
    """Card side: decode a config/time TLV; raises CodecError/TlvError on anything unexpected."""
    inner = {item.tag: item.value for item in tlv.parse(tlv.single(body, tlv.TAG_SYS_CONFIG))}
    if tlv.TAG_UTC_TIME not in inner or len(inner[tlv.TAG_UTC_TIME]) != 4:
        raise CodecError("config TLV has no 4-byte UTC time")
    (utc,) = struct.unpack(">I", inner[tlv.TAG_UTC_TIME])
    display = None
    if tlv.TAG_DISPLAY_TIMEOUT in inner:
        display = display_from_code(_one_byte(inner[tlv.TAG_DISPLAY_TIMEOUT], "display timeout"))
    algorithm = period = digits = None
    if tlv.TAG_TOTP_PARAMS in inner:
        params = {item.tag: item.value for item in tlv.parse(inner[tlv.TAG_TOTP_PARAMS])}
        if tlv.TAG_HMAC not in params or tlv.TAG_TIME_STEP not in params:
            raise CodecError("TOTP parameters lack the HMAC algorithm or the time step")
        algorithm = algorithm_from_code(_one_byte(params[tlv.TAG_HMAC], "HMAC algorithm"))
        period = period_from_code(_one_byte(params[tlv.TAG_TIME_STEP], "time step"))
        if tlv.TAG_DIGITS in params:
            digits = _one_byte(params[tlv.TAG_DIGITS], "digits")
            if digits not in DIGIT_CODES:
                raise CodecError(f"unknown digits code {digits:02X}")
    return ConfigFields(utc, display, algorithm, period, digits)


def _one_byte(value: bytes, what: str) -> int:
    if len(value) != 1:
        raise CodecError(f"{what} must be one byte, got {len(value)}")
    return value[0]


# -- info response ---------------------------------------------------------------------------


def info_response(serial: str, utc: int) -> bytes:
    """``3 header bytes | N | serial | 2 separator bytes | u32 UTC`` (header bytes opaque)."""
    raw = serial.encode("ascii")
    return bytes(3) + bytes((len(raw),)) + raw + bytes(2) + utc_bytes(utc)


def parse_info(data: bytes) -> CardInfo:
    if len(data) < 4:
        raise CodecError(f"info response of {len(data)} bytes is too short")
    n = data[3]
    if len(data) < 4 + n + 2 + 4:
        raise CodecError(f"info response of {len(data)} bytes is too short for a {n}-byte serial")
    try:
        serial = data[4 : 4 + n].decode("ascii")
    except UnicodeDecodeError:
        raise CodecError("info response serial is not ASCII") from None
    (utc,) = struct.unpack_from(">I", data, 4 + n + 2)
    return CardInfo(serial, utc)
