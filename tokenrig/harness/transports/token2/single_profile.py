"""Command APDUs of the single-profile NFC tokens (miniOTP, OTPC, C30x).

The layouts follow the vendor's published burner and firmware; the unit tests pin them
against those sources' byte-level examples. No SELECT: the token answers right after activation.
"""

from __future__ import annotations

from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.transports.token2.apdu import CLA_PLAIN, Command
from tokenrig.harness.transports.token2.codec import ConfigFields, config_tlv, secure_command
from tokenrig.harness.transports.token2.crypto import (
    DEVICE_KEY,
    auth_response,
    pad_iso9797_m2,
    sm4_ecb_encrypt,
)

INS_INFO = 0x41
INS_CHALLENGE = 0x4B
INS_AUTH = 0xCE
INS_SEED = 0xC5
INS_CONFIG = 0xD4

SEED_MIN = 1
SEED_MAX = 63


def info() -> Command:
    """Serial and clock, no authentication: ``80 41 00 00 02 02 11``."""
    return Command("info read", CLA_PLAIN, INS_INFO, 0x00, 0x00, bytes((0x02, 0x11)))


def challenge() -> Command:
    """Ask for 8 random bytes: ``80 4B 08 00 01 00``."""
    return Command("challenge", CLA_PLAIN, INS_CHALLENGE, 0x08, 0x00, b"\x00")


def authenticate(nonce: bytes, key: bytes = DEVICE_KEY) -> Command:
    """``80 CE 00 00 10 SM4(key, challenge ‖ 00×8)``."""
    return Command("authentication", CLA_PLAIN, INS_AUTH, 0x00, 0x00, auth_response(key, nonce))


def config(
    *, utc: int, display_timeout: int, algorithm: Algorithm, period: int, key: bytes = DEVICE_KEY
) -> Command:
    """Display timeout, clock, HMAC and step in one 19-byte TLV plus MAC (no digits field)."""
    body = config_tlv(
        ConfigFields(utc=utc, display_timeout=display_timeout, algorithm=algorithm, period=period)
    )
    return secure_command("config write", INS_CONFIG, 0x00, 0x00, body, key)


def seed(secret: bytes, key: bytes = DEVICE_KEY) -> Command:
    """``SM4-ECB(seed ‖ 80 ‖ 00…) ‖ MAC``; aligned seeds get a full extra padding block."""
    if not SEED_MIN <= len(secret) <= SEED_MAX:
        raise ValueError(f"a seed is {SEED_MIN}..{SEED_MAX} bytes, got {len(secret)}")
    body = sm4_ecb_encrypt(key, pad_iso9797_m2(secret))
    return secure_command("seed write", INS_SEED, 0x01, 0x00, body, key, sensitive=True)
