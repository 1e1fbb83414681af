"""The key printed beneath the portal's QR code, read as text, checked against the QR code.

A user who cannot scan types that key instead, so a page whose printed key is not the QR
code's key enrolls the wrong seed for one of its users; the driver refuses such a page. The
message names both keys by fingerprint only.
"""

from __future__ import annotations

import base64
import binascii

from tokenrig.harness.jumpcloud.portal_client import PortalError
from tokenrig.harness.jumpcloud.portal_wording import BASE32_KEY
from tokenrig.harness.otp.uri import UriError, parse_uri
from tokenrig.harness.secrets import Secret


def printed_key(text: str) -> str | None:
    """The base32 key in ``text`` (a line of its own, spaces between groups allowed)."""
    for line in text.splitlines():
        candidate = line.strip()
        if BASE32_KEY.fullmatch(candidate):
            return candidate.replace(" ", "")
    return None


def check_printed_key(qr_text: str, key_text: str) -> None:
    """The key printed under the QR code must be the QR code's key; a mismatch names both
    fingerprints, never a key. A QR code that is no otpauth URI is left to the decode step."""
    try:
        qr_secret = parse_uri(qr_text).secret
    except UriError:
        return
    bare = key_text.upper().rstrip("=")
    try:
        printed = Secret(base64.b32decode(bare + "=" * (-len(bare) % 8)))
    except (binascii.Error, ValueError):
        raise PortalError("the key printed beneath the QR code is not valid base32") from None
    if printed != qr_secret:
        raise PortalError(
            f"the key printed beneath the QR code ({printed.fingerprint}) is not the QR "
            f"code's key ({qr_secret.fingerprint})"
        )
