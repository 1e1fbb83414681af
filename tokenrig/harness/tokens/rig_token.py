"""A token in a slot of a serial rig, driven through the rig protocol.

The rig stamps each display reading with its own millisecond counter; :class:`RigTimeMap` turns
those stamps into host time with a line fitted over every exchange of the run (offset and rate,
:mod:`tokenrig.harness.tokens.time_fit`), whose uncertainty each mapped instant carries.
The token talks to the rig through the small :class:`RigLink` protocol, which
:class:`tokenrig.harness.transports.rig_client.RigClient` satisfies, so
this module does not depend on the transport layer above it.
"""

from __future__ import annotations

from typing import Protocol

from tokenrig.harness import interrupts
from tokenrig.harness.clock import Clock
from tokenrig.harness.secrets import SecretText
from tokenrig.harness.tokens import rig_answers
from tokenrig.harness.tokens.base import (
    BurnRequest,
    DisplayReading,
    SeedState,
    TokenError,
    TokenIdentity,
    Unsupported,
)
from tokenrig.harness.tokens.models import ModelSpec
from tokenrig.harness.tokens.time_fit import RIG_TICK_S, FittedTimeMap, TimeFit

__all__ = ["RIG_TICK_S", "RigLink", "RigTimeMap", "RigToken"]


class Exchanged(Protocol):
    """One answered request: its values and the host times around it."""

    @property
    def values(self) -> tuple[str, ...]: ...

    @property
    def sent_at(self) -> float: ...

    @property
    def received_at(self) -> float: ...


class RigLink(Protocol):
    """What a :class:`RigToken` needs from a rig connection."""

    name: str
    clock: Clock

    def exchange(
        self, command: str, *args: object, slot: int | None = None, timeout: float | None = None
    ) -> Exchanged: ...


class RigTimeMap:
    """Maps the rig's millisecond stamps to host seconds: one fitted line per rig, fed by every
    ``DISP?``-like exchange of every slot. A ``WATCH?`` answer is stamped at the change, inside
    a round trip as long as the watch: it feeds the map only when nothing else has yet (the
    stall rule drops it from the fit as soon as short exchanges are there)."""

    def __init__(self) -> None:
        self.fitted = FittedTimeMap()
        self.stamps = rig_answers.MonotonicStamps()  # one counter per rig, whatever the slot

    def observe(self, rig_ms: int, sent_at: float, received_at: float) -> None:
        """Record that the rig's counter read ``rig_ms`` between ``sent_at`` and ``received_at``."""
        self.fitted.observe(rig_ms, sent_at, received_at)

    @property
    def exchanges(self) -> int:
        """How many exchanges the map holds (not ``__len__``: an empty map is still a map)."""
        return len(self.fitted)

    def to_host(self, rig_ms: int) -> float:
        return self.fitted.to_host(rig_ms)

    def sigma_at(self, rig_ms: int) -> float:
        """One standard deviation of :meth:`to_host` at ``rig_ms`` (the fit's own error)."""
        return self.fitted.sigma_at(rig_ms)

    def final_fit(self) -> TimeFit:
        """The map fitted over every exchange so far (a soak re-maps its stamps with it)."""
        return self.fitted.refit()


class RigToken:
    """One slot of a rig, as a :class:`~tokenrig.harness.tokens.base.Token`."""

    def __init__(
        self,
        link: RigLink,
        slot: int,
        *,
        identity: TokenIdentity,
        spec: ModelSpec,
        time_map: RigTimeMap | None = None,
        profile: int = 0,
    ) -> None:
        self.link = link
        self.slot = slot
        self.profile = profile
        self._identity = identity
        self._spec = spec
        self._time_map = time_map or RigTimeMap()
        self._digits: int | None = None  # as last configured by this harness; None: unknown
        # Host times (sent, answered) of the last exchange that wrote the token's clock: the
        # token took the time between them, which is how precisely a sync is known.
        self.clock_written: tuple[float, float] | None = None

    def __repr__(self) -> str:
        return f"RigToken({self.link.name} slot {self.slot}: {self._spec.name} {self.serial})"

    @property
    def identity(self) -> TokenIdentity:
        return self._identity

    @property
    def spec(self) -> ModelSpec:
        return self._spec

    @property
    def serial(self) -> str:
        return self._identity.serial

    @property
    def time_map(self) -> RigTimeMap:
        """The rig's time map (shared by its slots): a soak re-maps its stamps at the end."""
        return self._time_map

    @property
    def where(self) -> str:
        """How errors name this token's place: ``rig NAME slot N``."""
        return f"rig {self.link.name} slot {self.slot}"

    @property
    def _where(self) -> str:
        return self.where

    def _call(
        self, command: str, *args: object, timeout: float | None = None, count: int = 0
    ) -> Exchanged:
        """Send a request and check its answer has ``count`` values (docs/rig-protocol.md §4)."""
        answer = self.link.exchange(command, self.slot, *args, slot=self.slot, timeout=timeout)
        rig_answers.expect_count(
            self._where,
            command,
            answer.values,
            count,
            extra_allowed=bool(getattr(self.link, "extra_values_allowed", False)),
        )
        return answer

    def burn(self, request: BurnRequest, *, check: bool = True) -> None:
        """``check=False`` leaves the refusal to the rig and token (see :meth:`Token.burn`)."""
        if check:
            request.check_against(self._spec)
        utc = request.clock_time
        if utc is None:
            utc = int(self.link.clock.now())
        self.clock_written = None
        # A stop request (Ctrl-C, SIGTERM) waits until the seed write has ended: on a
        # restricted-sync model the gap between the two is a token holding no seed.
        with interrupts.deferred():
            self._conf_then_seed(request, utc)

    def _conf_then_seed(self, request: BurnRequest, utc: int) -> None:
        configured = self._call(
            "CONF",
            request.profile,
            utc,
            request.algorithm.value,
            request.period,
            request.digits,
            request.display_timeout,
            count=1,
        )
        erased = _seed_state(configured.values, self._where, "CONF") is SeedState.ERASED
        self.clock_written = (configured.sent_at, configured.received_at)
        self._digits = request.digits
        # Wrapped so the hex exists in clear only while the line is encoded for the wire.
        seed_hex = SecretText(request.secret.reveal().hex().upper(), kind="seed")
        try:
            self._call("SEED", request.profile, seed_hex)
        except TokenError as exc:
            if erased:
                # The token is now half-burned: new config, no seed. Say so, keeping the
                # exception's type and fields (a rig's ERR code) for callers that act on them.
                exc.args = (
                    f"{exc}; config written and the seed erased by it: burn again",
                    *exc.args[1:],
                )
            raise

    def set_clock(self, unix_time: int, *, profile: int = 0) -> SeedState:
        self.clock_written = None
        answer = self._call("TCLK", unix_time, profile, count=1)
        state = _seed_state(answer.values, self._where, "TCLK")
        self.clock_written = (answer.sent_at, answer.received_at)
        return state

    def read_clock(self) -> int:
        if not self._spec.clock_readable:
            raise Unsupported(f"{self._spec.name}: the clock cannot be read")
        values = self._call("TCLK?", self.profile, count=1).values
        return rig_answers.decimal(
            self._where, "TCLK?", values, 0, max_digits=10, maximum=rig_answers.UTC_MAX
        )

    def press(self) -> None:
        self._call("PRESS", self.profile)

    def read_display(self) -> DisplayReading:
        return self._reading("DISP?", self._call("DISP?", count=2))

    def watch_display(self, timeout: float) -> DisplayReading:
        """Wait (on the rig) until the display changes or ``timeout`` seconds pass.

        The answer's stamp is the instant of the change (docs/rig-protocol.md §6), so the
        reading's uncertainty is the stamp's tick and the time map's, not the wait.
        """
        answer = self._call("WATCH?", round(timeout * 1000), timeout=timeout + 2.0, count=3)
        reading = self._reading("WATCH?", answer, at_change=True)
        outcome = rig_answers.one_of(self._where, "WATCH?", answer.values, 2, _WATCH_OUTCOMES)
        reading.extra["watch"] = outcome.lower()
        return reading

    def power_cycle(self) -> None:
        self._call("POWER")

    def _positions(self) -> int:
        """How many positions a reading may have: the configured digits, else the model's most."""
        return self._digits if self._digits is not None else max(self._spec.digits)

    def _reading(
        self, command: str, answer: Exchanged, *, at_change: bool = False
    ) -> DisplayReading:
        values = answer.values
        rig_ms = rig_answers.rig_ms(self._where, command, values)
        shown = rig_answers.code(self._where, command, values, 1, positions=self._positions())
        self._time_map.stamps.check(self._where, command, values, rig_ms)
        if not at_change or self._time_map.exchanges == 0:
            self._time_map.observe(rig_ms, answer.sent_at, answer.received_at)
        # A stamp taken while answering: anywhere in the round trip. One taken at a change:
        # exact to the rig's tick. Either way plus the 1 ms tick (it truncates) and the map's
        # own error at that instant.
        window = 0.0 if at_change else (answer.received_at - answer.sent_at) / 2
        map_sigma = self._time_map.sigma_at(rig_ms)
        return DisplayReading(
            code=shown,
            host_time=self._time_map.to_host(rig_ms),
            uncertainty=window + RIG_TICK_S + map_sigma,
            extra={
                "rig_ms": str(rig_ms),
                "slot": str(self.slot),
                "map_sigma_s": f"{map_sigma:.6f}",
            },
        )


_WATCH_OUTCOMES = {"CHANGED", "TIMEOUT"}
_SEED_STATES = {state.value.upper() for state in SeedState}


def _seed_state(values: tuple[str, ...], where: str, command: str) -> SeedState:
    """What a CONF or TCLK did to the seed: ``KEPT`` or ``ERASED``, nothing else."""
    return SeedState(rig_answers.one_of(where, command, values, 0, _SEED_STATES).lower())
