"""A simulated token reached in-process: the :class:`Token` interface over simulated firmware.

This is the fastest way to run a suite without hardware: no serial line, no card reader, just
method calls into the firmware model. The firmware itself lives in :mod:`tokenrig.harness.sim`
(above
this layer), so this adapter depends only on the shape of the firmware
(:class:`FirmwareModel`), never imports it; ``tokenrig.harness.sim.factory`` builds both together.
"""

from __future__ import annotations

from typing import Protocol

from tokenrig.harness import interrupts
from tokenrig.harness.clock import Clock
from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.tokens.base import (
    BurnRequest,
    DisplayReading,
    SeedState,
    TokenError,
    TokenIdentity,
    Unsupported,
)
from tokenrig.harness.tokens.models import ModelSpec


class FirmwareModel(Protocol):
    """The part of ``tokenrig.harness.sim.firmware.SimFirmware`` that a token adapter drives."""

    @property
    def identity(self) -> TokenIdentity: ...

    @property
    def spec(self) -> ModelSpec: ...

    @property
    def clock(self) -> Clock: ...

    def rtc_u32(self, profile: int = 0) -> int: ...

    def write_config(
        self,
        *,
        utc: int,
        algorithm: Algorithm,
        period: int,
        display_timeout: int,
        digits: int = 6,
        profile: int = 0,
    ) -> SeedState: ...

    def write_time(self, utc: int, profile: int = 0) -> SeedState: ...

    def write_seed(self, seed: bytes, profile: int = 0) -> None: ...

    def press(self, profile: int = 0) -> None: ...

    def display(self) -> str | None: ...

    def power_cycle(self) -> None: ...


class SimToken:
    """A :class:`~tokenrig.harness.tokens.base.Token` backed directly by a firmware model.

    ``profile`` is the profile the button shows (multi-profile models); burns name their own.
    Firmware refusals (``SimFirmwareError``, a :class:`TokenError`) are re-raised naming the
    token's serial, as a real token's status word would be reported through a rig.
    """

    def __init__(self, firmware: FirmwareModel, *, profile: int = 0) -> None:
        self._firmware = firmware
        self._profile = profile

    @property
    def identity(self) -> TokenIdentity:
        return self._firmware.identity

    @property
    def spec(self) -> ModelSpec:
        return self._firmware.spec

    @property
    def firmware(self) -> FirmwareModel:
        """The simulated firmware (for simulation-only controls such as temperature)."""
        return self._firmware

    def __repr__(self) -> str:
        ident = self.identity
        return f"SimToken({ident.model} {ident.serial})"

    def burn(self, request: BurnRequest, *, check: bool = True) -> None:
        """Refuse what the model cannot honour, then write config (with clock), then seed.

        ``check=False`` leaves the refusal to the firmware (see :meth:`Token.burn`).
        """
        if check:
            request.check_against(self.spec)
        fw = self._firmware
        utc = request.clock_time if request.clock_time is not None else int(fw.clock.now())
        try:
            with interrupts.deferred():  # a stop request waits for the seed write
                fw.write_config(
                    utc=utc,
                    algorithm=request.algorithm,
                    period=request.period,
                    display_timeout=request.display_timeout,
                    digits=request.digits,
                    profile=request.profile,
                )
                fw.write_seed(request.secret.reveal(), profile=request.profile)
        except TokenError as exc:  # firmware refusal: its message names the field, never the seed
            raise TokenError(f"simulated token {self.identity.serial}: burn: {exc}") from None

    def set_clock(self, unix_time: int, *, profile: int = 0) -> SeedState:
        try:
            return self._firmware.write_time(unix_time, profile=profile)
        except TokenError as exc:
            raise TokenError(f"simulated token {self.identity.serial}: set clock: {exc}") from None

    def read_clock(self) -> int:
        if not self.spec.clock_readable:
            raise Unsupported(f"{self.spec.name} {self.identity.serial}: clock cannot be read")
        return self._firmware.rtc_u32(self._profile)

    def press(self) -> None:
        self._firmware.press(self._profile)

    def read_display(self) -> DisplayReading:
        # One clock read under the display read: the reading's time is exact in-process.
        host_time = self._firmware.clock.now()
        return DisplayReading(code=self._firmware.display(), host_time=host_time)

    def power_cycle(self) -> None:
        self._firmware.power_cycle()
