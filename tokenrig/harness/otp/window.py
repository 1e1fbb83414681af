"""Verification windows as data, so the harness can judge a token the way a given server would.

Servers differ in three ways that matter for a drifting hardware token: how many steps they
accept behind and ahead of their expected step, in which order they try them (which decides
the winner when two steps happen to show the same code), and whether they remember the drift
of a token after a successful login. Presets reproduce the servers studied for this project;
their numbers come from reading each server's validation code, see ``docs/otp.md``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass


class SearchOrder(enum.StrEnum):
    """Order in which a window's steps are tried."""

    OUTWARD = "outward"
    """0, +1, -1, +2, -2, ...: the nearest step wins, the future first (liboath)."""
    ASCENDING = "ascending"
    """From the oldest step to the newest (privacyIDEA and LinOTP loop over a range)."""


@dataclass(frozen=True)
class WindowPolicy:
    """Which step offsets a verifier accepts around its expected step, and how it learns.

    ``back`` and ``forward`` are counts of whole steps behind and ahead of the expected step
    (the host's step plus the drift learnt so far, when ``track_drift``). ``resync_window``
    is the half-width searched when a token is resynchronised from two consecutive codes.
    """

    name: str
    back: int
    forward: int
    order: SearchOrder = SearchOrder.OUTWARD
    track_drift: bool = True
    resync_window: int = 1000

    def __post_init__(self) -> None:
        for field in ("back", "forward", "resync_window"):
            if getattr(self, field) < 0:
                raise ValueError(f"WindowPolicy.{field} must be >= 0, got {getattr(self, field)}")

    def offsets(self) -> Iterator[int]:
        """Step offsets in the order this policy tries them."""
        return search_offsets(self.back, self.forward, self.order)

    def accepts_offset(self, steps: int) -> bool:
        """True if a token ``steps`` ahead (negative: behind) of the expected step is accepted."""
        return -self.back <= steps <= self.forward

    def accepted_seconds(self, period: int) -> tuple[float, float]:
        """Clock offsets (token minus verifier, seconds) accepted whatever the step phase.

        A token ``d`` seconds ahead shows step ``floor((t+d)/X)`` while the verifier expects
        ``floor(t/X)``; the difference is ``floor(d/X)`` or ``ceil(d/X)`` depending on where in
        the step ``t`` falls. So acceptance at *every* moment needs ``-back*X <= d <=
        forward*X``; beyond that a token is rejected at least part of the time.
        """
        return (-self.back * period, self.forward * period)

    @classmethod
    def symmetric(cls, steps: int, *, name: str | None = None) -> WindowPolicy:
        """``±steps`` around the expected step, nearest first (RFC 6238 §5.2 uses 1)."""
        return cls(name or f"±{steps}", back=steps, forward=steps)

    @classmethod
    def liboath(cls, window: int) -> WindowPolicy:
        """liboath's ``oath_totp_validate``: ±window, now first then +1, -1, ...; it keeps no
        drift (its caller would have to), so neither does this policy."""
        return cls(f"liboath ±{window}", back=window, forward=window, track_drift=False)

    @classmethod
    def privacyidea(cls, *, period: int = 30, time_window: int = 180) -> WindowPolicy:
        """privacyIDEA: ``w = int(timeWindow / step)`` and ``range(C - w, C + w)``, i.e. w
        steps back but only w - 1 ahead, tried oldest first, with the shift learnt per token."""
        w = time_window // period
        return cls(
            f"privacyIDEA {time_window}s@{period}s",
            back=w,
            forward=max(w - 1, 0),
            order=SearchOrder.ASCENDING,
        )

    @classmethod
    def linotp(cls, count_window: int = 10) -> WindowPolicy:
        """LinOTP: the *count* window (default 10) as ``range(C - w, C + w)``: -10..+9."""
        return cls(
            f"LinOTP {count_window}",
            back=count_window,
            forward=max(count_window - 1, 0),
            order=SearchOrder.ASCENDING,
        )


def search_offsets(
    back: int, forward: int, order: SearchOrder = SearchOrder.OUTWARD
) -> Iterator[int]:
    """Offsets from ``-back`` to ``+forward`` in ``order`` (outward: 0, +1, -1, +2, -2, ...)."""
    if order is SearchOrder.ASCENDING:
        yield from range(-back, forward + 1)
        return
    yield 0
    for distance in range(1, max(back, forward) + 1):
        if distance <= forward:
            yield distance
        if distance <= back:
            yield -distance


JUMPCLOUD = WindowPolicy.symmetric(1, name="JumpCloud (assumed ±1)")
"""JumpCloud does not publish its window; ±1 step is RFC 6238's recommendation and what the
harness assumes until a live measurement says otherwise."""
PRIVACYIDEA = WindowPolicy.privacyidea()
"""privacyIDEA defaults: 180 s at 30 s steps, i.e. -6..+5."""
LIBOATH = WindowPolicy.liboath(5)
"""liboath with window 5 (pam_oath's README suggests 5 to 50); use ``liboath(n)`` for others."""
LINOTP = WindowPolicy.linotp()
"""LinOTP defaults: count window 10, i.e. -10..+9."""

PRESETS: dict[str, WindowPolicy] = {
    "jumpcloud": JUMPCLOUD,
    "privacyidea": PRIVACYIDEA,
    "liboath": LIBOATH,
    "linotp": LINOTP,
}
