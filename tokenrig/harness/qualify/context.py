"""What a procedure runs with: one token, the clock it is judged by, the profile, its record.

Procedures are plain functions of a :class:`ProcedureContext`, so the pytest suite, the
benchmarks and a script at a rig bench can all run them the same way (OpenHTF's phases over
plugs); the context collects measurements and findings into the token's record.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from tokenrig.harness.clock import Clock, VirtualClock
from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.otp.offset import OffsetEstimate
from tokenrig.harness.qualify import uncertainty as doubt
from tokenrig.harness.qualify.catalogue import definition
from tokenrig.harness.qualify.diagnose import Burned
from tokenrig.harness.qualify.measurement import Measurement, Outcome
from tokenrig.harness.qualify.profile import Profile
from tokenrig.harness.qualify.record import Finding, TokenRecord
from tokenrig.harness.secrets import Secret
from tokenrig.harness.tokens.base import Token
from tokenrig.harness.tokens.nfc_token import ClockReader


@dataclass(frozen=True)
class SlotSeed:
    """The seed a slot is provisioned with at the end (from ``--seeds`` or fresh)."""

    secret: Secret
    algorithm: Algorithm = Algorithm.SHA1
    period: int = 30

    @classmethod
    def fresh(cls, length: int = 20) -> SlotSeed:
        return cls(Secret(secrets.token_bytes(length), kind="seed"))


@dataclass(frozen=True)
class Timing:
    """Polling cadence for watching a display: fine around a known boundary, coarse to find
    one. In virtual time polls cost nothing, so they are short; on real links they are bounded
    by a read's round trip."""

    fine: float
    coarse: float
    lead: float  # seconds between a sync and the step boundary it is placed before

    @classmethod
    def for_clock(cls, clock: Clock) -> Timing:
        if isinstance(clock, VirtualClock):
            return cls(fine=0.005, coarse=0.5, lead=0.5)
        # A read over a rig takes milliseconds; polling back to back bounds the resolution.
        return cls(fine=0.005, coarse=0.25, lead=1.5)


@dataclass(frozen=True)
class Sync:
    """A clock write: the token read ``token`` at host time ``host``, ± ``uncertainty``.

    ``host`` is the middle of the exchange that wrote the clock and ``uncertainty`` half its
    length: the token took the time somewhere between the request leaving and the answer
    arriving, so a rig that answers ``CONF`` after 1.7 s leaves ±0.85 s of doubt on where the
    token's clock was set, and every offset measured against this sync inherits it.
    """

    host: float
    token: int
    burned: Burned
    uncertainty: float = 0.0

    def token_time(self, host_time: float) -> float:
        """Where a perfect token's clock is at ``host_time``."""
        return self.token + (host_time - self.host)

    def host_time(self, token_time: float) -> float:
        return self.host + (token_time - self.token)


@dataclass(frozen=True)
class SoakStart:
    """The sync and first offset a real-time soak continues from (left by ``clock_offset``)."""

    sync: Sync
    offset: OffsetEstimate


class ProcedureContext:
    def __init__(
        self,
        *,
        token: Token,
        clock: Clock,
        profile: Profile,
        record: TokenRecord,
        seed: SlotSeed,
        nfc_clock: ClockReader | None = None,
    ) -> None:
        self.token = token
        self.clock = clock
        self.profile = profile
        self.record = record
        self.seed = seed
        # The token's clock over NFC (Token2 info APDU) where the rig passes APDUs through.
        self.nfc_clock = nfc_clock
        self.timing = Timing.for_clock(clock)
        self.procedure = ""
        self.soak_start: SoakStart | None = None

    @property
    def virtual_time(self) -> bool:
        return isinstance(self.clock, VirtualClock)

    def measure(self, name: str, value: float, *, uncertainty: float | None = None) -> Measurement:
        """Judge ``value`` against the profile's limits for ``name`` and record it."""
        limits = self.profile.limits_for(name)
        return self._record(name, value, limits.judge(float(value)), uncertainty)

    def measure_uncertain(
        self, name: str, value: float, uncertainty: float, *, cause: str
    ) -> Measurement | None:
        """Judge ``value ± uncertainty``; record it if it can be judged, else note why not.

        A value whose uncertainty straddles a limit is neither a token defect nor a pass
        (:mod:`tokenrig.harness.qualify.uncertainty`): it is left out of the measurements and
        recorded as inconclusive, ``cause`` saying where the uncertainty came from. Callers
        retake the measurement first where that can remove the doubt.
        """
        limits = self.profile.limits_for(name)
        outcome = doubt.judge(limits, float(value), uncertainty)
        if outcome is None:
            unit = definition(name).unit
            self.inconclusive(
                f"{name}: {doubt.describe(value, uncertainty, unit)} straddles the limit "
                f"{limits.describe(unit)} ({cause}); cannot tell; not a token defect"
            )
            return None
        return self._record(name, value, outcome, uncertainty)

    def _record(
        self, name: str, value: float, outcome: Outcome, uncertainty: float | None
    ) -> Measurement:
        spec = definition(name)
        limits = self.profile.limits_for(name)
        measurement = Measurement(
            name=name,
            value=float(value),
            unit=spec.unit,
            low=limits.low,
            high=limits.high,
            marginal=limits.marginal,
            outcome=outcome,
            procedure=self.procedure,
            uncertainty=uncertainty,
        )
        self.record.measurements = [m for m in self.record.measurements if m.name != name]
        self.record.measurements.append(measurement)
        return measurement

    def find(self, defect: str) -> None:
        """Record a defect once per procedure (the same bug seen twice is one finding)."""
        finding = Finding(procedure=self.procedure, defect=defect)
        if finding not in self.record.findings:
            self.record.findings.append(finding)

    def inconclusive(self, reason: str) -> None:
        """Record that a measurement could not be taken precisely enough to judge the token."""
        note = f"{self.procedure}: {reason}"
        if note not in self.record.inconclusive:
            self.record.inconclusive.append(note)

    def inconclusive_of(self, procedure: str) -> list[str]:
        return [n for n in self.record.inconclusive if n.startswith(f"{procedure}: ")]

    def findings_of(self, procedure: str) -> list[Finding]:
        return [f for f in self.record.findings if f.procedure == procedure]

    def failed_measurements_of(self, procedure: str) -> list[Measurement]:
        return [
            m
            for m in self.record.measurements
            if m.procedure == procedure and m.outcome.value == "fail"
        ]
