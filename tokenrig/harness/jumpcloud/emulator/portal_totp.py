"""TOTP pieces of the emulated portal: new seeds, the JumpCloud-shaped otpauth URI, the QR code
PNG, and the check of a code a user typed.

The URI shape follows what users report from the real portal: label = the user's email with no
``Issuer:`` prefix, ``issuer=JumpCloud User``, and no algorithm/digits/period parameters (so
SHA-1, 6 digits, 30 s). The real key length is unknown (one report says 16 base32 characters,
i.e. 80 bits), so the seed length is a setting: 20 bytes (160 bits, RFC 4226's recommendation)
by default, 10 bytes to mimic the reported keys.
"""

from __future__ import annotations

import io
import secrets
from urllib.parse import quote

import segno

from tokenrig.harness.otp.base32 import encode_base32
from tokenrig.harness.otp.generator import TotpGenerator
from tokenrig.harness.otp.verifier import TokenState, Verdict, Verifier
from tokenrig.harness.otp.window import JUMPCLOUD, WindowPolicy
from tokenrig.harness.secrets import Secret

ISSUER = "JumpCloud User"
PERIOD = 30
DIGITS = 6
DEFAULT_SECRET_BYTES = 20
"""160-bit seeds by default; ``PortalPolicy.totp_secret_bytes = 10`` gives the 16-character
keys reported from JumpCloud."""


def new_totp_secret(nbytes: int = DEFAULT_SECRET_BYTES) -> Secret:
    """A fresh random seed for one enrollment (never reused after ``resetmfa``)."""
    if not 10 <= nbytes <= 64:
        raise ValueError(f"TOTP secret length must be 10..64 bytes, got {nbytes}")
    return Secret(secrets.token_bytes(nbytes), kind="TOTP seed")


def base32_key(secret: Secret) -> str:
    """The key as an authenticator app shows it: base32 without ``=`` padding."""
    return encode_base32(secret.reveal())


def otpauth_uri(email: str, secret: Secret) -> str:
    """``otpauth://totp/<email>?secret=<BASE32>&issuer=JumpCloud%20User``."""
    label = quote(email, safe="@")
    return f"otpauth://totp/{label}?secret={base32_key(secret)}&issuer={quote(ISSUER)}"


def qr_png(uri: str, *, scale: int = 6) -> bytes:
    """The QR code of ``uri`` as a PNG (quiet zone of 4 modules, as scanners expect)."""
    code = segno.make(uri, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_size(uri: str, *, scale: int = 6) -> int:
    """Width (= height) in pixels of :func:`qr_png`'s image, for the page's ``<img>`` tag."""
    width, _ = segno.make(uri, error="m", micro=False).symbol_size(scale=scale, border=4)
    return int(width)


def check_code(
    secret: Secret,
    code: str,
    now: float,
    *,
    policy: WindowPolicy = JUMPCLOUD,
    memory: TokenState | None = None,
) -> Verdict:
    """Judge ``code`` with the core :class:`~tokenrig.harness.otp.verifier.Verifier` (window, replay
    rejection, drift), as of ``now`` on the emulator's clock.

    ``memory`` is what the emulator remembers about this seed (last accepted step, learnt
    drift); it is updated in place on success, so the caller stores it where ``resetmfa`` and
    the console API can see it.
    """
    generator = TotpGenerator(secret, period=PERIOD, digits=DIGITS)
    verifier = Verifier(generator, policy, state=memory if memory is not None else TokenState())
    return verifier.verify(code, at=now)
