"""A token programmed over APDUs (NFC reader, USB CCID or the rig's pass-through).

The protocol rules that protect the user live here, in code, not in a caller's checklist:

* a burn is refused before any byte is written when the model cannot honour it;
* the config (with the clock) is written *before* the seed, because on restricted-sync models
  any config write erases the seed: seed-then-config would leave the token blank;
* if the seed write fails after such a config write, the error says the token now holds no
  seed (:class:`PartialBurnError`), and :meth:`NfcToken.seed_status` says so too; if the
  path breaks during that config write, the seed may already be gone, and the error
  (:class:`InterruptedBurnError`) says so;
* the clock is written on a whole second of the host clock, so the token counts in phase.

The button and the display are not reachable over APDUs. A real token on a bare reader has
no automatic display reading, so press/read_display raise :class:`Unsupported` unless a
:class:`DisplaySource` (the rig's camera/button, or the simulator) is given.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from tokenrig.harness import interrupts
from tokenrig.harness.clock import SYSTEM_CLOCK, Clock
from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.secrets import Secret
from tokenrig.harness.tokens.base import (
    BurnRequest,
    DisplayReading,
    InfrastructureError,
    SeedState,
    TokenError,
    TokenIdentity,
    Unsupported,
)
from tokenrig.harness.tokens.models import ModelSpec, model_for_serial

log = logging.getLogger("tokenrig.nfc")


@dataclass(frozen=True)
class CardInfo:
    """What the unauthenticated info command tells: serial and the token's own UTC clock."""

    serial: str
    utc: int


class TokenProgrammer(Protocol):
    """The APDU-level operations a token offers (implemented in
    tokenrig.harness.transports.token2)."""

    @property
    def name(self) -> str: ...

    def read_info(self) -> CardInfo: ...

    def write_config(
        self,
        *,
        utc: int,
        algorithm: Algorithm,
        period: int,
        display_timeout: int,
        digits: int,
        profile: int,
    ) -> None: ...

    def write_seed(self, seed: Secret, *, profile: int) -> None: ...

    def sync_time(self, utc: int, *, profile: int) -> None:
        """Time-only write (Molto2); single-profile tokens raise Unsupported."""
        ...


class DisplaySource(Protocol):
    """Who can press the button and read the display: a rig slot or the simulator."""

    def press(self) -> None: ...

    def read_display(self) -> DisplayReading: ...

    def power_cycle(self) -> None: ...


class SeedStatus(StrEnum):
    """What the harness knows about the seed on the token (it can never read the seed)."""

    UNKNOWN = "unknown"  # not burned by this harness object
    BURNED = "burned"
    ERASED = "erased"  # a restricted-sync config write erased it; burn again


class PartialBurnError(TokenError):
    """A burn stopped after the config write: the message says what the token now holds."""

    def __init__(self, message: str, *, seed_status: SeedStatus) -> None:
        super().__init__(message)
        self.seed_status = seed_status


class InterruptedBurnError(PartialBurnError, InfrastructureError):
    """Same, when the path broke (card removed, reader gone) rather than the token refusing."""


@dataclass(frozen=True)
class _LastConfig:
    algorithm: Algorithm
    period: int
    display_timeout: int
    digits: int


class NfcToken:
    """A :class:`tokenrig.harness.tokens.base.Token` whose programming goes over APDUs."""

    def __init__(
        self,
        programmer: TokenProgrammer,
        *,
        spec: ModelSpec | None = None,
        display: DisplaySource | None = None,
        clock: Clock = SYSTEM_CLOCK,
        firmware: str = "unknown",
    ) -> None:
        info = programmer.read_info()
        found = spec or model_for_serial(info.serial)
        if found is None:
            raise TokenError(
                f"{programmer.name}: serial {info.serial} matches no known model; pass the model"
            )
        self._programmer = programmer
        self._spec = found
        self._display = display
        self._clock = clock
        self._identity = TokenIdentity(serial=info.serial, model=found.name, firmware=firmware)
        self._seed_status: dict[int, SeedStatus] = {}
        self._last_config: dict[int, _LastConfig] = {}

    @property
    def identity(self) -> TokenIdentity:
        return self._identity

    @property
    def spec(self) -> ModelSpec:
        return self._spec

    @property
    def where(self) -> str:
        return f"{self._programmer.name} token {self._identity.serial}"

    def seed_status(self, profile: int = 0) -> SeedStatus:
        return self._seed_status.get(profile, SeedStatus.UNKNOWN)

    def burn(self, request: BurnRequest, *, check: bool = True) -> None:
        """Config (with the clock) first, then the seed; refuses what the model cannot honour.

        ``check=False`` leaves the refusal to the card (6A80), as far as the APDU encoding can
        carry the request (see :meth:`Token.burn`).
        """
        if check:
            request.check_against(self._spec)
        utc = request.clock_time if request.clock_time is not None else self._whole_second()
        profile = request.profile
        config = _LastConfig(
            request.algorithm, request.period, request.display_timeout, request.digits
        )
        # A stop request (Ctrl-C, SIGTERM) waits until the seed write has ended: never a token
        # left between its config write and its seed write by the harness's own choice.
        with interrupts.deferred():
            try:
                self._write_config(utc, profile, config, erase_expected=True)
            except InfrastructureError as exc:
                if self._spec.restricted_sync:
                    raise self._config_write_interrupted(profile, exc) from exc
                raise
            try:
                self._programmer.write_seed(request.secret, profile=profile)
            except TokenError as exc:
                raise self._seed_write_failed(profile, exc) from exc
            self._seed_status[profile] = SeedStatus.BURNED
        log.info("%s: burned profile %d (%s)", self.where, profile, request.secret.fingerprint)

    def set_clock(self, unix_time: int, *, profile: int = 0) -> SeedState:
        """Time-only sync where the model has one, else the whole config (restricted: seed lost)."""
        if self._spec.per_profile_time:
            self._programmer.sync_time(unix_time, profile=profile)
            return SeedState.KEPT
        last = self._last_config.get(profile)
        if last is None:
            raise Unsupported(
                f"{self.where}: {self._spec.name} has no time-only command and this harness does "
                "not know its config; burn it (config and seed) instead"
            )
        return self._write_config(unix_time, profile, last, erase_expected=False)

    def read_clock(self) -> int:
        return self._programmer.read_info().utc

    def press(self) -> None:
        self._need_display("press the button").press()

    def read_display(self) -> DisplayReading:
        return self._need_display("read the display").read_display()

    def power_cycle(self) -> None:
        self._need_display("power-cycle the token").power_cycle()

    # -- internals ---------------------------------------------------------------------------

    def _whole_second(self) -> int:
        """Wait for the host clock's next whole second (< 1 s) and return it.

        The token takes whole seconds and counts from the moment the config lands. Writing
        ``int(now)`` would leave it up to a second behind the host for good, and a reading
        just after a step boundary would show the previous step's code; written on the
        second, it lags only by the APDUs' transit time.
        """
        now = self._clock.now()
        second = math.ceil(now)
        self._clock.sleep(second - now)
        return second

    def _write_config(
        self, utc: int, profile: int, config: _LastConfig, *, erase_expected: bool
    ) -> SeedState:
        """Write config and clock. ``erase_expected``: a burn, whose seed write follows, so
        a restricted-sync erase is the plan (INFO), not news (WARNING)."""
        try:
            self._programmer.write_config(
                utc=utc,
                algorithm=config.algorithm,
                period=config.period,
                display_timeout=config.display_timeout,
                digits=config.digits,
                profile=profile,
            )
        except InfrastructureError:
            if self._spec.restricted_sync:
                # The APDU may or may not have reached the token: its seed may be gone.
                self._seed_status[profile] = SeedStatus.UNKNOWN
            raise
        self._last_config[profile] = config
        if self._spec.restricted_sync:
            self._seed_status[profile] = SeedStatus.ERASED
            level = logging.INFO if erase_expected else logging.WARNING
            log.log(level, "%s: config write erased the seed (restricted-sync model)", self.where)
            return SeedState.ERASED
        return SeedState.KEPT

    def _config_write_interrupted(
        self, profile: int, exc: InfrastructureError
    ) -> InterruptedBurnError:
        """The path broke during a restricted-sync config write: it may have landed."""
        self._seed_status[profile] = SeedStatus.UNKNOWN
        return InterruptedBurnError(
            f"{self.where}: config write interrupted: {exc}; {self._spec.name} has restricted "
            "sync, so if the write reached the token the seed is already erased: the token "
            "holds its old seed or NO seed (seed status unknown); burn it again",
            seed_status=SeedStatus.UNKNOWN,
        )

    def _seed_write_failed(self, profile: int, exc: TokenError) -> PartialBurnError:
        if self._spec.restricted_sync:
            log.warning(
                "%s: the config write before the failed seed write erased the seed "
                "(restricted-sync model)",
                self.where,
            )
        interrupted = isinstance(exc, InfrastructureError)
        if interrupted:
            # The APDU may have landed and only its answer been lost: say both possibilities.
            status = SeedStatus.UNKNOWN
            if self._spec.restricted_sync:
                holds = (
                    f"the config write before it erased the old seed ({self._spec.name} has "
                    "restricted sync), and the new seed may not have landed: the token holds NO "
                    "seed or the new one; burn it again"
                )
            else:
                holds = "the new seed may not have landed: the token holds the old or new seed"
        elif self._spec.restricted_sync:
            status = SeedStatus.ERASED
            holds = (
                f"the config write before it already erased the seed ({self._spec.name} has "
                "restricted sync): the token holds NO seed now; burn it again"
            )
        else:
            status = self.seed_status(profile)
            holds = "the config and clock were written; the previous seed, if any, is unchanged"
        self._seed_status[profile] = status
        cls = InterruptedBurnError if interrupted else PartialBurnError
        return cls(f"{self.where}: seed write failed: {exc}; {holds}", seed_status=status)

    def _need_display(self, action: str) -> DisplaySource:
        if self._display is None:
            raise Unsupported(
                f"{self.where}: cannot {action} over APDUs; a token on a bare reader needs a "
                "rig slot or a person for its button and display"
            )
        return self._display


@dataclass(frozen=True)
class ClockOffset:
    """The token's clock minus host UTC, measured by one clock read.

    The token reports whole seconds (its time lies in ``[utc, utc + 1)``), so the estimate
    takes the middle of that second against the middle of the read's round trip, and the
    uncertainty is half a second plus half the round trip. Display timing resolves finer.
    """

    offset: float
    uncertainty: float
    token_utc: int
    host_time: float


class ClockReader(Protocol):
    def read_clock(self) -> int: ...


def measure_clock_offset(token: ClockReader, clock: Clock = SYSTEM_CLOCK) -> ClockOffset:
    before = clock.now()
    utc = token.read_clock()
    after = clock.now()
    host = (before + after) / 2
    return ClockOffset(
        offset=utc + 0.5 - host,
        uncertainty=0.5 + (after - before) / 2,
        token_utc=utc,
        host_time=host,
    )
