"""Pure TOTP/HOTP core: codes, otpauth URIs, the verifier and the measurement maths. No I/O."""

from harness.otp.hotp import (
    MAX_COUNTER,
    Algorithm,
    OTPError,
    hotp,
    step_start,
    time_step,
    totp,
)

__all__ = [
    "MAX_COUNTER",
    "Algorithm",
    "OTPError",
    "hotp",
    "step_start",
    "time_step",
    "totp",
]
