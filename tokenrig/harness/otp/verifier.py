"""A TOTP verifier that behaves like a real server: window, replay rejection, drift, resync.

The harness uses it to predict what JumpCloud (or privacyIDEA, LinOTP, liboath) will do with
a token's code, and the JumpCloud emulator uses it to decide logins. It is pure: the time of
each check is an argument (or comes from a :class:`tokenrig.harness.clock.Clock`), and the per-token
state is a plain dataclass the caller may store anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tokenrig.harness.clock import Clock
from tokenrig.harness.otp.generator import TotpGenerator
from tokenrig.harness.otp.window import JUMPCLOUD, SearchOrder, WindowPolicy, search_offsets


class Outcome(StrEnum):
    """What a verification decided."""

    ACCEPTED = "accepted"
    RESYNCED = "resynced"
    REPLAYED = "replayed"
    OUT_OF_WINDOW = "out_of_window"
    MALFORMED = "malformed"
    RESYNC_FAILED = "resync_failed"


@dataclass(frozen=True)
class Verdict:
    """The outcome, and for a match the counter and its offset from the host's step."""

    outcome: Outcome
    counter: int | None = None
    offset_steps: int | None = None

    @property
    def accepted(self) -> bool:
        return self.outcome in (Outcome.ACCEPTED, Outcome.RESYNCED)


@dataclass
class TokenState:
    """What a server remembers about one token between logins.

    ``last_counter`` is the newest step ever accepted (-1: none); only later steps are
    accepted (RFC 6238 §5.2: never accept an OTP twice). ``drift_steps`` is the offset of
    the last accepted step from the host's step, where the next search is centred.
    """

    last_counter: int = -1
    drift_steps: int = 0
    successes: int = 0


class Verifier:
    """Checks one token's codes under a :class:`WindowPolicy`."""

    def __init__(
        self,
        generator: TotpGenerator,
        policy: WindowPolicy = JUMPCLOUD,
        *,
        clock: Clock | None = None,
        state: TokenState | None = None,
    ) -> None:
        self.generator = generator
        self.policy = policy
        self.clock = clock
        self.state = state if state is not None else TokenState()

    def __repr__(self) -> str:
        return f"Verifier({self.generator!r}, {self.policy.name!r}, {self.state!r})"

    def _now(self, at: float | None) -> float:
        if at is not None:
            return at
        if self.clock is None:
            raise ValueError("Verifier needs a time: pass at= or construct it with a clock")
        return self.clock.now()

    def _centre(self, host: int) -> int:
        return host + (self.state.drift_steps if self.policy.track_drift else 0)

    def _accept(self, counter: int, host: int, outcome: Outcome) -> Verdict:
        self.state.last_counter = counter
        if self.policy.track_drift:
            self.state.drift_steps = counter - host
        self.state.successes += 1
        return Verdict(outcome, counter, counter - host)

    def verify(self, code: str, at: float | None = None) -> Verdict:
        """Accept ``code`` if a step in the window shows it and it was not used before."""
        if self.generator.code_value(code) is None:
            return Verdict(Outcome.MALFORMED)
        host = self.generator.counter_at(self._now(at))
        centre = self._centre(host)
        policy = self.policy
        if policy.order is SearchOrder.OUTWARD:
            match = self.generator.find_outward(code, centre, policy.back, policy.forward)
        else:
            match = self.generator.first_match(code, (centre + o for o in policy.offsets()))
        if match is None:
            return Verdict(Outcome.OUT_OF_WINDOW)
        if match <= self.state.last_counter:
            return Verdict(Outcome.REPLAYED, match, match - host)
        return self._accept(match, host, Outcome.ACCEPTED)

    def resync(self, first: str, second: str, at: float | None = None) -> Verdict:
        """Re-find a token from two consecutive codes anywhere in ``±resync_window`` steps.

        Two codes in a row are needed because one 6-digit code matches some step of a
        2001-step window by chance 0.2% of the time; a consecutive pair, one in 10^9.
        """
        gen = self.generator
        if gen.code_value(first) is None or gen.code_value(second) is None:
            return Verdict(Outcome.MALFORMED)
        host = gen.counter_at(self._now(at))
        centre = self._centre(host)
        width = self.policy.resync_window
        candidates = (centre + o for o in search_offsets(width, width))
        while (match := gen.first_match(second, candidates)) is not None:
            if match - 1 > self.state.last_counter and gen.hotp(match - 1) == first:
                return self._accept(match, host, Outcome.RESYNCED)
        return Verdict(Outcome.RESYNC_FAILED)
