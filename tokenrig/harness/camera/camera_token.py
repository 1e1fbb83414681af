"""A token on a camera rig, as a :class:`~tokenrig.harness.tokens.base.Token`.

Three parts a lab can buy do what a serial rig's firmware does: a presser (relay channel or
command) presses the button, the camera reads the display (:class:`SlotReader`: doubt
refused, two-frame hold, t±2 check against the burned seed), and a *programmer* (the slot's
NFC reader, :class:`~tokenrig.harness.camera.nfc.CameraNfc`, or in simulation without a
reader the firmware itself) burns seeds and reads the clock. Power is switched by a relay
channel where the rig has one.
"""

from __future__ import annotations

from typing import Protocol

from tokenrig.harness.camera.reading import Expected, SlotReader
from tokenrig.harness.camera.relay import Presser
from tokenrig.harness.clock import Clock
from tokenrig.harness.tokens.base import (
    BurnRequest,
    DisplayReading,
    SeedState,
    TokenIdentity,
    Unsupported,
)
from tokenrig.harness.tokens.models import ModelSpec

POWER_OFF_S = 0.5  # long enough for a token's supply capacitor to empty


class Programmer(Protocol):
    """What a camera token needs of its programmer: the NFC reader's
    (:class:`~tokenrig.harness.camera.nfc.CameraNfc`) or, in simulation, the firmware's."""

    @property
    def identity(self) -> TokenIdentity: ...

    def burn(self, request: BurnRequest, *, check: bool = True) -> None: ...

    def set_clock(self, unix_time: int, *, profile: int = 0) -> SeedState: ...

    def read_clock(self) -> int: ...

    def power_cycle(self) -> None: ...


class CameraToken:
    def __init__(
        self,
        *,
        identity: TokenIdentity,
        spec: ModelSpec,
        reader: SlotReader,
        presser: Presser | None,
        programmer: Programmer | None,
        clock: Clock,
        power: Presser | None = None,
        press_s: float = 0.2,
        where: str = "camera rig",
    ) -> None:
        self._identity = identity
        self._spec = spec
        self.reader = reader
        self._presser = presser
        self._programmer = programmer
        self._clock = clock
        self._power = power
        self._press_s = press_s
        self._where = where

    def __repr__(self) -> str:
        return f"CameraToken({self._where}: {self._spec.name} {self._identity.serial})"

    @property
    def presser(self) -> Presser | None:
        return self._presser

    @property
    def identity(self) -> TokenIdentity:
        return self._identity

    @property
    def spec(self) -> ModelSpec:
        return self._spec

    @property
    def programmer(self) -> Programmer | None:
        return self._programmer

    def _need_programmer(self, what: str) -> Programmer:
        if self._programmer is None:
            raise Unsupported(f"{self._where}: {what} needs an NFC reader (camera.nfc_reader)")
        return self._programmer

    def burn(self, request: BurnRequest, *, check: bool = True) -> None:
        self._need_programmer("burning").burn(request, check=check)
        # From now on a read is checked against the codes this seed gives at t-2..t+2.
        self.reader.expected = Expected(
            request.secret, request.algorithm, request.period, request.digits
        )

    def set_clock(self, unix_time: int, *, profile: int = 0) -> SeedState:
        return self._need_programmer("setting the clock").set_clock(unix_time, profile=profile)

    def read_clock(self) -> int:
        return self._need_programmer("reading the clock").read_clock()

    def press(self) -> None:
        if self._presser is None:
            raise Unsupported(f"{self._where}: no presser (camera.slot channel or command)")
        self._presser.press(self._press_s)

    def read_display(self) -> DisplayReading:
        return self.reader.read()

    def power_cycle(self) -> None:
        if self._power is None:
            self._need_programmer("a power cycle (or a camera.power relay)").power_cycle()
            return
        self._power.set(False)
        self._clock.sleep(POWER_OFF_S)
        self._power.set(True)
