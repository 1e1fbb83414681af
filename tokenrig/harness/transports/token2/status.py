"""Status words of the Token2 tokens, turned into errors a QA engineer can act on.

The status word alone is ambiguous (the single-profile firmware answers ``6983`` both for a
wrong key and for a wrong MAC), so the error always names the command that got it, the reader
and the token; the caller knows which of the two it was attempting.
"""

from __future__ import annotations

from tokenrig.harness.tokens.base import TokenError
from tokenrig.harness.transports.token2.apdu import Response

SW_OK = 0x9000
SW_AUTH_FAILED = 0x6983  # "authentication method blocked": wrong key/MAC, or key locked
SW_WRONG_LENGTH = 0x6700
SW_WRONG_DATA = 0x6A80
SW_NOT_ALLOWED = 0x6986  # command not allowed: no authenticated session
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_WRONG_P1P2 = 0x6A86

MEANINGS: dict[int, str] = {
    SW_AUTH_FAILED: "authentication failed: wrong key, wrong MAC, or the key is locked",
    SW_WRONG_LENGTH: "wrong length",
    SW_WRONG_DATA: "the token rejected the data (bad padding, seed length or TLV)",
    SW_NOT_ALLOWED: "not allowed: no authenticated session",
    SW_INS_NOT_SUPPORTED: "instruction not supported by this token",
    SW_CLA_NOT_SUPPORTED: "class not supported by this token",
    SW_WRONG_P1P2: "wrong P1/P2 (profile out of range?)",
}


class ApduStatusError(TokenError):
    """The token answered a command with a status word other than 9000."""

    def __init__(self, command: str, sw: int, where: str) -> None:
        meaning = describe(sw)
        super().__init__(f"{where}: {command} answered {sw:04X} ({meaning})")
        self.command = command
        self.sw = sw
        self.where = where


class ProtocolError(TokenError):
    """The token answered 9000 with data this protocol cannot read (not a Token2 token?)."""


class AuthenticationFailed(ApduStatusError):
    """Wrong key (or wrong MAC on a secure command); the token stays as it was."""


class DataRejected(ApduStatusError):
    """The token refused the body (length, padding, TLV); nothing was stored by that command."""


def describe(sw: int) -> str:
    if sw in MEANINGS:
        return MEANINGS[sw]
    if sw & 0xFFF0 == 0x63C0:  # ISO 7816-4: 63CX, X tries left
        return f"authentication failed, {sw & 0x0F} tries left"
    if sw & 0xFF00 == 0x6300:  # Molto2: 63 NN, NN tries left
        return f"authentication failed, {sw & 0xFF} tries left"
    return "unexpected status"


def check(response: Response, command: str, where: str) -> Response:
    """Return ``response`` if it is 9000, else raise the error class its status word means."""
    sw = response.sw
    if sw == SW_OK:
        return response
    if sw == SW_AUTH_FAILED or sw & 0xFF00 == 0x6300:
        raise AuthenticationFailed(command, sw, where)
    if sw in (SW_WRONG_DATA, SW_WRONG_LENGTH):
        raise DataRejected(command, sw, where)
    raise ApduStatusError(command, sw, where)
