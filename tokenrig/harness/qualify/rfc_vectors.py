"""RFC 6238 Appendix B, as the device is held to it: the published seeds and 8-digit codes.

The codes are the RFC's own strings, not recomputed by our core, so a bug shared by the core
and a token cannot make both agree.
"""

from __future__ import annotations

from tokenrig.harness.otp.hotp import Algorithm

# (time, 8-digit code); a 6-digit token shows the last six digits.
RFC6238_SEEDS = {
    Algorithm.SHA1: b"12345678901234567890",
    Algorithm.SHA256: b"12345678901234567890123456789012",
}
RFC6238_VECTORS: dict[Algorithm, tuple[tuple[int, str], ...]] = {
    Algorithm.SHA1: (
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ),
    Algorithm.SHA256: (
        (59, "46119246"),
        (1111111109, "68084774"),
        (1111111111, "67062674"),
        (1234567890, "91819424"),
        (2000000000, "90698825"),
        (20000000000, "77737706"),
    ),
}
