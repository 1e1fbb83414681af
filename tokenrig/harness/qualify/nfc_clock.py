"""The token's clock read over NFC: the Token2 info APDU, through whatever carries APDUs.

A rig that passes APDUs through to a slot's card (the simulated rig does) gives a second,
independent way to see the clock after a sync: the info command's UTC. It has whole-second
resolution, so the display timing stays the precise measurement; this one checks the clock the
NFC side reports agrees with it (a token whose RTC and display counter disagree shows here).
"""

from __future__ import annotations

from tokenrig.harness.tokens.models import ModelSpec
from tokenrig.harness.transports.apdu_channel import ApduChannel
from tokenrig.harness.transports.token2.programmer import Molto2Programmer, SingleProfileProgrammer


class InfoApduClock:
    """``read_clock()`` over the unauthenticated info APDU (no key, nothing written)."""

    def __init__(self, channel: ApduChannel, spec: ModelSpec) -> None:
        self._programmer: SingleProfileProgrammer | Molto2Programmer = (
            Molto2Programmer(channel) if spec.profiles > 1 else SingleProfileProgrammer(channel)
        )

    @property
    def name(self) -> str:
        return self._programmer.name

    def read_clock(self) -> int:
        return self._programmer.read_info().utc
