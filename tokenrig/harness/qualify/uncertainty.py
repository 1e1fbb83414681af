"""Judging a value that carries an uncertainty: pass, fail, or "cannot tell".

A time measurement is never exact: a clock offset inherits the round trip of the clock write
that set the token (a rig answering ``CONF`` after 1.7 s leaves ±0.85 s of doubt on where the
token's clock was set) and of the display reads that timed it. A value outside its limit by
less than that doubt may belong to a healthy token, so it is neither failed nor passed: the
procedure re-measures (re-syncing first, when a slow clock write is the doubt) and, if the
doubt remains, records the measurement as inconclusive. Symmetrically, a value inside the
limit by less than its uncertainty is not a clean pass either.
"""

from __future__ import annotations

import math

from tokenrig.harness.qualify.measurement import Limits, Outcome


def judge(limits: Limits, value: float, uncertainty: float) -> Outcome | None:
    """The outcome of ``value ± uncertainty``; ``None`` when the interval straddles a limit.

    Entirely inside: judged as usual (pass or marginal). Entirely outside: fail. Otherwise the
    measurement cannot tell, which is for the caller to retake or call inconclusive.
    """
    if math.isnan(value) or math.isnan(uncertainty):
        return None  # a NaN is the harness's failure to measure, never the token's
    spread = max(0.0, uncertainty)
    low, high = limits.low, limits.high
    outside = (low is not None and value + spread < low) or (
        high is not None and value - spread > high
    )
    if outside:
        return Outcome.FAIL
    inside = (low is None or value - spread >= low) and (high is None or value + spread <= high)
    return limits.judge(value) if inside else None


def doubtful(limits: Limits, value: float, uncertainty: float) -> bool:
    """True when ``value ± uncertainty`` straddles a limit: the value cannot be judged."""
    return judge(limits, value, uncertainty) is None


def describe(value: float, uncertainty: float, unit: str) -> str:
    """``-1.701 s ± 0.850 s`` style text for a note or a finding."""
    return f"{value:+.3f} {unit} ± {uncertainty:.3f} {unit}"
