"""Pure TOTP/HOTP core: codes, otpauth URIs, the verifier and the measurement maths. No I/O."""

from tokenrig.harness.otp.base32 import Base32Error, decode_base32, encode_base32
from tokenrig.harness.otp.drift import DriftEstimate, days_until_outside, estimate_drift
from tokenrig.harness.otp.generator import TotpGenerator
from tokenrig.harness.otp.hotp import (
    MAX_COUNTER,
    Algorithm,
    OTPError,
    hotp,
    step_start,
    time_step,
    totp,
)
from tokenrig.harness.otp.offset import (
    MeasurementError,
    Observation,
    OffsetEstimate,
    estimate_clock_offset,
    find_step_offset,
)
from tokenrig.harness.otp.uri import OtpKind, OtpUri, UriError, UriWarning, build_uri, parse_uri
from tokenrig.harness.otp.verifier import Outcome, TokenState, Verdict, Verifier
from tokenrig.harness.otp.window import (
    JUMPCLOUD,
    LIBOATH,
    LINOTP,
    PRIVACYIDEA,
    SearchOrder,
    WindowPolicy,
)

__all__ = [
    "JUMPCLOUD",
    "LIBOATH",
    "LINOTP",
    "MAX_COUNTER",
    "PRIVACYIDEA",
    "Algorithm",
    "Base32Error",
    "DriftEstimate",
    "MeasurementError",
    "OTPError",
    "Observation",
    "OffsetEstimate",
    "OtpKind",
    "OtpUri",
    "Outcome",
    "SearchOrder",
    "TokenState",
    "TotpGenerator",
    "UriError",
    "UriWarning",
    "Verdict",
    "Verifier",
    "WindowPolicy",
    "build_uri",
    "days_until_outside",
    "decode_base32",
    "encode_base32",
    "estimate_clock_offset",
    "estimate_drift",
    "find_step_offset",
    "hotp",
    "parse_uri",
    "step_start",
    "time_step",
    "totp",
]
