"""The Token2 programming protocol: SM4 crypto, APDU framing, status words and programmers.

Single-profile NFC tokens (:mod:`.single_profile`) and the Molto2 (:mod:`.molto2`) share the
crypto (:mod:`.crypto`), the byte layouts (:mod:`.codec`) and the status words
(:mod:`.status`); :mod:`.programmer` runs them over any APDU channel.
"""

from tokenrig.harness.transports.token2.programmer import Molto2Programmer, SingleProfileProgrammer
from tokenrig.harness.transports.token2.status import (
    ApduStatusError,
    AuthenticationFailed,
    DataRejected,
    ProtocolError,
)

__all__ = [
    "ApduStatusError",
    "AuthenticationFailed",
    "DataRejected",
    "Molto2Programmer",
    "ProtocolError",
    "SingleProfileProgrammer",
]
