"""Command APDUs of the Molto2 / Molto2v2 multi-profile tokens (USB CCID, same PC/SC path).

Differences from the single-profile tokens: the SM4 key is derived from a customer key
(SHA-1, first 16 bytes), P2 carries the profile, the config TLV has a digits field, and a
time-only sync command exists (per profile). The layouts follow the vendor's molto2-tools.
"""

from __future__ import annotations

from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.transports.token2 import tlv
from tokenrig.harness.transports.token2.apdu import CLA_PLAIN, Command
from tokenrig.harness.transports.token2.codec import ConfigFields, config_tlv, secure_command
from tokenrig.harness.transports.token2.crypto import auth_response, pad_iso9797_m2, sm4_ecb_encrypt

INS_INFO = 0x41
INS_CHALLENGE = 0x4B
INS_AUTH = 0xCE
INS_SEED = 0xC5
INS_CONFIG = 0xD4
INS_DELETE_SEED = 0xE6

SEED_MIN = 1
SEED_MAX = 63


def _profile(profile: int) -> int:
    if not 0 <= profile <= 0xFF:
        raise ValueError(f"profile must be 0..255, got {profile}")
    return profile


def info() -> Command:
    """Serial and system time: ``80 41 00 00 00``."""
    return Command("info read", CLA_PLAIN, INS_INFO, 0x00, 0x00, le=0x00)


def public_data(profile: int) -> Command:
    """Per-profile public data (RTC, HMAC, step, digits, seed flag): ``80 41 00 p 01 70``."""
    return Command(
        f"profile {profile} read", CLA_PLAIN, INS_INFO, 0x00, _profile(profile),
        bytes((tlv.TAG_SEED_INFO,)),
    )  # fmt: skip


def challenge() -> Command:
    """``80 4B 08 00 00``: 8 random bytes."""
    return Command("challenge", CLA_PLAIN, INS_CHALLENGE, 0x08, 0x00, le=0x00)


def authenticate(nonce: bytes, key: bytes) -> Command:
    """``80 CE 00 00 10 SM4(key, challenge ‖ 00×8)`` with the customer-derived key."""
    answer = auth_response(key, nonce)  # derived from the customer key: kept out of logs
    return Command("authentication", CLA_PLAIN, INS_AUTH, 0x00, 0x00, answer, sensitive=True)


def config(
    *,
    profile: int,
    utc: int,
    display_timeout: int,
    algorithm: Algorithm,
    period: int,
    digits: int,
    key: bytes,
) -> Command:
    """``84 D4 01 p``: ``81 14 | 1F disp | 0F utc | 86 09 (0A alg, 0B digits, 0D step)`` + MAC."""
    fields = ConfigFields(utc, display_timeout, algorithm, period, digits)
    return secure_command(
        f"profile {profile} config write",
        INS_CONFIG,
        0x01,
        _profile(profile),
        config_tlv(fields),
        key,
    )


def time_sync(*, profile: int, utc: int, key: bytes) -> Command:
    """``84 D4 01 p``: ``81 06 0F 04 utc`` + MAC; keeps the profile's seed."""
    return secure_command(
        f"profile {profile} time sync", INS_CONFIG, 0x01, _profile(profile),
        config_tlv(ConfigFields(utc=utc)), key,
    )  # fmt: skip


def seed(*, profile: int, secret: bytes, key: bytes) -> Command:
    """``84 C5 01 p``: ``SM4-ECB(seed ‖ 80 ‖ 00…) ‖ MAC``."""
    if not SEED_MIN <= len(secret) <= SEED_MAX:
        raise ValueError(f"a seed is {SEED_MIN}..{SEED_MAX} bytes, got {len(secret)}")
    body = sm4_ecb_encrypt(key, pad_iso9797_m2(secret))
    return secure_command(
        f"profile {profile} seed write",
        INS_SEED,
        0x01,
        _profile(profile),
        body,
        key,
        sensitive=True,
    )


def delete_seed(profile: int) -> Command:
    """``80 E6 00 p 00`` on an authenticated session."""
    return Command(
        f"profile {profile} seed delete",
        CLA_PLAIN,
        INS_DELETE_SEED,
        0x00,
        _profile(profile),
        le=0x00,
    )
