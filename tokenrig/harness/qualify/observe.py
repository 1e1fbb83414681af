"""Looking at a token: synced burns, code reads, and the moment its display changes.

Everything a procedure concludes comes from here, so these functions carry the care about
time: every reading keeps the host time it was taken at, a sync is placed on a whole second
(tokens take whole seconds), and the clock offset is measured from *when* the display changes,
bracketed between two polls, which is the only way to see a token's clock to better than a
step through its display.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tokenrig.harness.otp.hotp import Algorithm, hotp, time_step
from tokenrig.harness.otp.offset import (
    MeasurementError,
    Observation,
    OffsetEstimate,
    estimate_clock_offset,
)
from tokenrig.harness.qualify.context import ProcedureContext, SoakStart, Sync
from tokenrig.harness.qualify.diagnose import Burned, expected_codes, explain
from tokenrig.harness.secrets import Secret
from tokenrig.harness.tokens.base import BurnRequest, DisplayReading


def wait_for_whole_second(ctx: ProcedureContext) -> int:
    now = ctx.clock.now()
    target = math.ceil(now)
    ctx.clock.sleep(target - now)
    return target


def burn(
    ctx: ProcedureContext,
    secret: Secret,
    *,
    algorithm: Algorithm = Algorithm.SHA1,
    period: int = 30,
    digits: int = 6,
    clock_time: int | None = None,
    before_boundary: bool = False,
    display_timeout: int | None = None,
    check: bool = True,
) -> Sync:
    """Burn ``secret`` with the clock set on a whole host second, and power-cycle.

    ``clock_time`` None writes the host time; ``before_boundary`` writes a time ``lead``
    seconds before a step boundary, so the display changes moments after the sync and its
    timing can be watched without waiting up to a whole period. The display stays on as
    long as the model allows unless ``display_timeout`` says otherwise, so a watch across a
    boundary needs one press. ``check=False`` sends the request past the host-side model
    check (only the oversize-seed probe does: the device must refuse on its own).
    """
    spec = ctx.token.spec
    host = wait_for_whole_second(ctx)
    if clock_time is None:
        clock_time = host
        if before_boundary:
            lead = math.ceil(ctx.timing.lead)
            clock_time = math.ceil((host + lead) / period) * period - lead
    request = BurnRequest(
        secret=secret,
        algorithm=algorithm,
        period=period,
        digits=digits,
        display_timeout=display_timeout or max(spec.display_timeouts),
        clock_time=clock_time,
    )
    begun = ctx.clock.now()
    ctx.token.burn(request, check=check)
    written, spread = clock_write_time(ctx, begun, ctx.clock.now())
    ctx.token.power_cycle()
    burned = Burned(secret.reveal(), algorithm, period, digits)
    return Sync(host=written, token=clock_time, burned=burned, uncertainty=spread)


SYNC_TRIES = 3  # clock writes tried for one that is known precisely enough


def burn_within(ctx: ProcedureContext, within: float, **kwargs: Any) -> Sync | None:
    """:func:`burn_slot_seed` until the clock write is known to ±``within`` s (a slow
    ``CONF`` is usually a one-off on a loaded host), at most ``SYNC_TRIES`` times; None when
    every write stayed slower: the caller's timing cannot be judged then, which is
    inconclusive, not a token defect."""
    for _ in range(SYNC_TRIES):
        sync = burn_slot_seed(ctx, **kwargs)
        if sync.uncertainty <= within:
            return sync
    return None


def slow_sync_note(within: float) -> str:
    return (
        f"every one of {SYNC_TRIES} clock writes took the rig longer than {2 * within:.2f} s "
        "to answer, too slow to time the token's step boundary against; not a token defect"
    )


def clock_write_time(ctx: ProcedureContext, begun: float, ended: float) -> tuple[float, float]:
    """When the token took the written time: ``(host time, ± seconds)``.

    The middle of the exchange that wrote the clock (a rig token keeps its ``CONF``/``TCLK``
    request and answer times), else of the whole write call. Not the whole second the write
    was aimed at: on a loaded host the request can leave half a second late, and a rig may
    take up to its timeout to act; both are then part of the sync, not an offset of the token.
    """
    written = getattr(ctx.token, "clock_written", None)
    sent, answered = written if written is not None else (begun, ended)
    return (sent + answered) / 2, max(0.0, answered - sent) / 2


def burn_slot_seed(
    ctx: ProcedureContext,
    *,
    before_boundary: bool = False,
    display_timeout: int | None = None,
) -> Sync:
    """Burn the slot's own seed with its own algorithm and period: how most procedures put
    the token back into the state the run will leave it in."""
    return burn(
        ctx,
        ctx.seed.secret,
        algorithm=ctx.seed.algorithm,
        period=ctx.seed.period,
        before_boundary=before_boundary,
        display_timeout=display_timeout,
    )


def step_with_leading_zero(ctx: ProcedureContext, secret: Secret, digits: int = 6) -> int:
    """The first step at least ten steps from now whose ``digits``-digit SHA1/30 s code for
    ``secret`` starts with 0: far enough that a token ignoring the written clock shows
    another code and is caught too."""
    key = secret.reveal()
    step: int = time_step(ctx.clock.now()) + 10
    while hotp(key, step, digits=digits)[0] != "0":
        step += 1
    return step


BOUNDARY_MARGIN_MIN = 1.0  # seconds either side of a step boundary a read is placed at least


def boundary_ahead(ctx: ProcedureContext, sync: Sync) -> tuple[float, float]:
    """``(host time of the next step boundary, margin)``: the first boundary there is still
    time to read before (a slow burn may have used up the lead the sync left), and how far
    either side of it to read."""
    period = sync.burned.period
    margin = max(BOUNDARY_MARGIN_MIN, 4 * ctx.timing.fine + ctx.timing.lead / 2)
    now_token = sync.token_time(ctx.clock.now())
    return sync.host_time(math.ceil((now_token + margin) / period) * period), margin


def read_code(ctx: ProcedureContext) -> DisplayReading:
    """Press the button and read the display."""
    ctx.token.press()
    return ctx.token.read_display()


def check_reading(
    ctx: ProcedureContext, sync: Sync, reading: DisplayReading, *, tolerance: float | None = None
) -> str | None:
    """``None`` if the code is right for the token's expected clock, else the defect."""
    if tolerance is None:
        limits = ctx.profile.limits_for("clock.offset_after_sync")
        tolerance = max(abs(limits.low or 0.0), abs(limits.high or 0.0))
    spread = reading.uncertainty + sync.uncertainty  # the read's and the clock write's
    lo = sync.token_time(reading.host_time - spread) - tolerance
    hi = sync.token_time(reading.host_time + spread) + tolerance
    if reading.code is not None and reading.code in expected_codes(sync.burned, lo, hi):
        return None
    return explain(sync.burned, reading.code, lo, hi, host_time=reading.host_time)


@dataclass(frozen=True)
class Change:
    """The display changed between ``before`` and ``after``."""

    before: DisplayReading
    after: DisplayReading

    @property
    def host_time(self) -> float:
        return (self.before.host_time + self.after.host_time) / 2

    @property
    def resolution(self) -> float:
        half = (self.after.host_time - self.before.host_time) / 2
        return half + max(self.before.uncertainty, self.after.uncertainty)


def watch_for_change(ctx: ProcedureContext, *, until: float, poll: float) -> Change | None:
    """Keep the display on and poll it until its code changes or ``until`` (host time)."""
    clock, token = ctx.clock, ctx.token
    previous = read_code(ctx)
    if previous.code is None:
        raise DisplayBlank("display shows no code even right after a press")
    while clock.now() < until:
        clock.sleep(poll)
        reading = token.read_display()
        if reading.code is None:  # display timed out: wake it, the code is unaffected
            reading = read_code(ctx)
            if reading.code is None:
                raise DisplayBlank("display shows no code even right after a press")
        if previous.code is not None and reading.code is not None and reading.code != previous.code:
            return Change(previous, reading)
        previous = reading
    return None


@dataclass(frozen=True)
class OffsetObservation:
    """Token clock minus where the sync put it, at ``host_time``, from one display change."""

    host_time: float
    offset: float
    resolution: float  # ± seconds in all: display timing plus the sync's own uncertainty
    sync_uncertainty: float = 0.0  # the part of ``resolution`` the clock write contributes

    @property
    def timing(self) -> float:
        """The display timing alone: what a drift fit over one sync weighs a point by (the
        sync's doubt is common to all points of a soak and cancels in the slope)."""
        return self.resolution - self.sync_uncertainty


class ObservationError(Exception):
    """A display observation could not be made; the message says what the display did."""


class DisplayFrozen(ObservationError):
    """The display did not change within a whole step while kept on."""


class DisplayBlank(ObservationError):
    """The display shows no code even right after a press."""


class CodeUnknown(ObservationError):
    """The new code belongs to no step of the burned seed near the expected time."""


def observe_offset(
    ctx: ProcedureContext, sync: Sync, *, prior: float | None = None, prior_unc: float = 0.0
) -> OffsetObservation:
    """Measure the token's clock against ``sync`` from the moment its display changes.

    With a good ``prior`` (offset and its uncertainty, seconds) only a short window around the
    predicted boundary is watched; otherwise a coarse watch finds a boundary within half a
    second and a fine watch times the next one.
    """
    period = sync.burned.period
    fine, coarse = ctx.timing.fine, ctx.timing.coarse
    change: Change | None = None
    if prior is not None and prior_unc < period / 4:
        change = _fine_watch(ctx, sync, prior, prior_unc + coarse)
    if change is None:
        coarse_change = watch_for_change(
            ctx, until=ctx.clock.now() + period + 2 * coarse, poll=coarse
        )
        if coarse_change is None:
            raise DisplayFrozen(
                "display does not update at the step boundary while on "
                f"(the code shown did not change within {period} s)"
            )
        estimate = _offset_from(sync, coarse_change)
        if estimate is None:
            raise CodeUnknown("the displayed code matches no step of the burned seed")
        change = _fine_watch(ctx, sync, estimate[0], estimate[1] + fine)
        if change is None:
            raise DisplayFrozen(
                "display does not update at the step boundary while on "
                "(it changed once, but not at the next boundary)"
            )
    found = _offset_from(sync, change)
    if found is None:
        raise CodeUnknown("the displayed code matches no step of the burned seed")
    offset, resolution = found
    # Against the sync, so its own doubt (the clock write's round trip) is part of the offset's.
    return OffsetObservation(
        host_time=change.host_time,
        offset=offset,
        resolution=resolution + sync.uncertainty,
        sync_uncertainty=sync.uncertainty,
    )


def next_boundary(sync: Sync, offset: float, unc: float, after: float) -> tuple[float, int]:
    """``(host time, token time)`` of the first step boundary whose window (the prediction
    from ``offset`` ± ``unc`` seconds) opens after host time ``after``: what both a single
    offset measurement and every watch of the soak aim at."""
    period = sync.burned.period
    token_then = sync.token_time(after) + offset
    boundary_token = (math.floor((token_then + unc) / period) + 1) * period
    return sync.host_time(boundary_token - offset), boundary_token


def soak_start(sync: Sync, obs: OffsetObservation) -> SoakStart:
    """Where a real-time soak continues from: ``sync`` and the offset seen right after it,
    weighed by its display timing alone (the sync's doubt is common to every point of the
    soak and cancels in the slope)."""
    return SoakStart(sync, OffsetEstimate(obs.host_time, obs.offset, obs.timing))


def _fine_watch(ctx: ProcedureContext, sync: Sync, offset: float, unc: float) -> Change | None:
    """Watch the next boundary predicted by ``offset`` (±``unc``) at the fine cadence."""
    boundary_host, _ = next_boundary(sync, offset, unc, ctx.clock.now())
    start = boundary_host - unc - ctx.timing.fine
    ctx.clock.sleep(start - ctx.clock.now())
    return watch_for_change(ctx, until=boundary_host + unc + ctx.timing.fine, poll=ctx.timing.fine)


def _offset_from(sync: Sync, change: Change) -> tuple[float, float] | None:
    """Offset (and its half-width) implied by a change, on the sync's time axis: the readings
    are placed where a perfect token's clock would have been, so the estimate is the token's
    error against the sync whether the sync wrote the host time or another one."""
    before, after = change.before, change.after
    if before.code is None or after.code is None:
        return None
    generator = sync.burned.generator()
    observations = [
        # Leading zeros are judged elsewhere; a token that drops them still has a clock.
        Observation(sync.token_time(before.host_time), before.code.zfill(sync.burned.digits)),
        Observation(sync.token_time(after.host_time), after.code.zfill(sync.burned.digits)),
    ]
    try:
        estimate = estimate_clock_offset(generator, observations, window=2880)
    except MeasurementError:
        return None
    unc = max(change.before.uncertainty, change.after.uncertainty)
    return estimate.offset, estimate.uncertainty + unc
