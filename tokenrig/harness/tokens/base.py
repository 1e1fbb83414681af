"""The one interface every token offers, whichever way it is reached.

A test or a qualification procedure gets a :class:`Token` and never learns whether it is a
simulated token in-process, one behind a serial rig, or a real token on an NFC reader. That is
what lets the same suite run in CI without hardware and nightly against a real rig.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.secrets import Secret
from tokenrig.harness.tokens.models import ModelSpec


class TokenError(Exception):
    """A token or its transport failed; the message names the rig/reader and slot."""


class InfrastructureError(TokenError):
    """The path to the token broke (rig unplugged, reader gone, timeout): not a token defect."""


class Unsupported(TokenError):
    """The operation is not available on this model or transport (e.g. clock read)."""


class SeedState(StrEnum):
    """What a clock/config write did to the stored seed."""

    KEPT = "kept"
    ERASED = "erased"  # restricted-sync models: the seed must be burned again


@dataclass(frozen=True)
class TokenIdentity:
    serial: str
    model: str
    firmware: str


@dataclass(frozen=True)
class BurnRequest:
    """Everything written to a token in one burn. The secret never prints (see Secret)."""

    secret: Secret
    algorithm: Algorithm = Algorithm.SHA1
    period: int = 30
    digits: int = 6
    profile: int = 0
    display_timeout: int = 30
    clock_time: int | None = None  # UTC seconds written with the config; None = host time now

    def check_against(self, spec: ModelSpec) -> None:
        """Refuse (UnsupportedConfig) what ``spec`` cannot honour, before any byte is written."""
        spec.check_burn(
            secret_len=len(self.secret),
            algorithm=self.algorithm,
            period=self.period,
            digits=self.digits,
            profile=self.profile,
            display_timeout=self.display_timeout,
        )


@dataclass(frozen=True)
class DisplayReading:
    """One look at the token's display.

    ``host_time`` is the host clock at the moment the display was read (for a serial rig, the
    midpoint of the request and its answer, or the rig's own timestamp mapped to host time).
    Every comparison with an expected code uses this time, never "now" at assertion time:
    that is what keeps step boundaries from making verdicts flaky.
    """

    code: str | None  # None: display off
    host_time: float
    uncertainty: float = 0.0  # seconds: half the request/answer round trip
    extra: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Token(Protocol):
    """A programmable TOTP token in a slot (or on a reader)."""

    @property
    def identity(self) -> TokenIdentity: ...

    @property
    def spec(self) -> ModelSpec: ...

    def burn(self, request: BurnRequest, *, check: bool = True) -> None:
        """Write config (with the clock) and then the seed. Refuses unsupported requests first.

        ``check=False`` skips the host-side model check so the device itself must refuse what
        it cannot honour (qualification's oversize-seed probe); nothing else should use it.
        """
        ...

    def set_clock(self, unix_time: int, *, profile: int = 0) -> SeedState:
        """Write the token's clock; on restricted-sync models this erases the seed."""
        ...

    def read_clock(self) -> int:
        """The token's own UTC seconds; raises Unsupported where the model/transport cannot."""
        ...

    def press(self) -> None:
        """Press the button (wakes the display)."""
        ...

    def read_display(self) -> DisplayReading:
        """Read what the display shows now, with the host time of the reading."""
        ...

    def power_cycle(self) -> None:
        """Switch the token off and on (needed after a burn before comparing codes)."""
        ...
