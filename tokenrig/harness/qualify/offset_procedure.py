"""The ``clock_offset`` procedure: where the token's clock is right after a sync.

Apart from the other procedures because it is the one most exposed to timing: the offset is a
few milliseconds of a healthy token against limits of a second, measured through a sync whose
own round trip may be longer than that (a rig answering ``CONF`` after 1.7 s). Every value is
judged with its uncertainty (:mod:`tokenrig.harness.qualify.uncertainty`): when the doubt
straddles a limit, the token is synced again and measured again, and a doubt that survives
``OFFSET_TRIES`` syncs is inconclusive, never a failed token.
"""

from __future__ import annotations

from tokenrig.harness.qualify import observe, soak
from tokenrig.harness.qualify import uncertainty as doubt
from tokenrig.harness.qualify.context import ProcedureContext, Sync
from tokenrig.harness.qualify.measurement import Outcome
from tokenrig.harness.tokens.base import Unsupported
from tokenrig.harness.tokens.nfc_token import measure_clock_offset

OFFSET_TRIES = 3  # syncs and display timings per clock_offset before a doubt is inconclusive


def clock_offset(ctx: ProcedureContext) -> None:
    """Clock right after a sync: from the moment the display changes, and over NFC if readable."""
    if not ctx.virtual_time:
        soak.enlist(ctx)  # the drift soak of this token's rig continues from this sync
    sync = observe.burn_slot_seed(ctx, before_boundary=True)
    try:
        sync, obs = _precise_offset(ctx, sync)
    except observe.ObservationError as exc:
        ctx.find(f"clock offset cannot be measured: {exc}")
    else:
        _judge_offset(ctx, sync, obs)
    _nfc_offset(ctx, sync)
    try:
        begun = ctx.clock.now()
        token_clock = ctx.token.read_clock()
    except Unsupported:
        ctx.record.procedures.setdefault("clock_read", "unsupported")
        return
    ended = ctx.clock.now()
    # A whole-second clock read somewhere between request and answer, against a sync known to
    # ± its own write's round trip: the limits (±2 s) already allow the truncation.
    m = ctx.measure_uncertain(
        "clock.read_offset_after_sync",
        token_clock - sync.token_time(ended),
        sync.uncertainty + (ended - begun),
        cause="the clock write's and the clock read's round trips",
    )
    if m is not None and m.outcome is Outcome.FAIL:
        ctx.find(f"the clock read from the token is {m.value:+.1f} s from where the sync put it")


def _judge_offset(ctx: ProcedureContext, sync: Sync, obs: observe.OffsetObservation) -> None:
    ctx.record.offset_series[:] = [(0.0, obs.offset)]
    ctx.soak_start = observe.soak_start(sync, obs)
    limit = ctx.profile.limits_for("clock.offset_resolution").high
    if limit is not None and obs.resolution > limit:
        # The harness could not time the display finely enough (slow round trips): that
        # says nothing about the token, so it is neither passed nor failed on it.
        ctx.inconclusive(
            f"clock.offset_resolution: the display change could only be timed to "
            f"±{obs.resolution * 1000:.0f} ms after {OFFSET_TRIES} tries (limit "
            f"{limit * 1000:.0f} ms) (±{obs.sync_uncertainty * 1000:.0f} ms of it from the "
            "clock write's round trip); the rig's round trips are too slow to judge the "
            "offset that finely; not a token defect"
        )
    else:
        ctx.measure("clock.offset_resolution", obs.resolution)
    m = ctx.measure_uncertain(
        "clock.offset_after_sync",
        obs.offset,
        obs.resolution,
        cause=f"±{obs.sync_uncertainty * 1000:.0f} ms from the clock write's round trip, "
        f"the rest from the display reads, after {OFFSET_TRIES} syncs",
    )
    if m is not None and m.outcome is Outcome.FAIL:
        ctx.find(_offset_defect(obs.offset, obs.resolution, sync.burned.period))


def _nfc_offset(ctx: ProcedureContext, sync: Sync) -> None:
    """One more view of the clock: the Token2 info APDU through the rig, whole seconds."""
    if ctx.nfc_clock is None:
        return
    try:
        read = measure_clock_offset(ctx.nfc_clock, ctx.clock)
    except Unsupported:  # this rig or slot passes no APDUs through
        ctx.record.procedures.setdefault("clock_nfc", "unsupported")
        return
    # Against where the sync put the clock, like the display measurement (its host axis).
    offset = read.token_utc + 0.5 - sync.token_time(read.host_time)
    spread = read.uncertainty + sync.uncertainty
    m = ctx.measure_uncertain(
        "clock.nfc_offset_after_sync",
        offset,
        spread,
        cause="the whole-second NFC clock, its APDU and the clock write's round trips",
    )
    ctx.measure("clock.nfc_offset_resolution", spread)
    if m is not None and m.outcome is Outcome.FAIL:
        ctx.find(
            f"the clock read over NFC is {offset:+.1f} s (±{spread:.1f}) from where the sync put it"
        )


def _precise_offset(ctx: ProcedureContext, sync: Sync) -> tuple[Sync, observe.OffsetObservation]:
    """The offset from the display, retaken (at most ``OFFSET_TRIES`` in all) while it is
    coarser than the profile's resolution limit or its doubt straddles the offset limit: a
    slow clock write or a few slow reads at the wrong moment should not decide. A retake
    syncs again just before a boundary (seconds, not the whole step the next boundary of this
    sync is away), which is what removes a slow write's doubt; the last sync is the one the
    soak uses."""
    obs = observe.observe_offset(ctx, sync, prior=0.0, prior_unc=ctx.timing.lead / 2)
    for _ in range(OFFSET_TRIES - 1):
        if not _needs_retake(ctx, obs):
            break
        sync = observe.burn_slot_seed(ctx, before_boundary=True)
        obs = observe.observe_offset(ctx, sync, prior=0.0, prior_unc=ctx.timing.lead / 2)
    return sync, obs


def _needs_retake(ctx: ProcedureContext, obs: observe.OffsetObservation) -> bool:
    limit = ctx.profile.limits_for("clock.offset_resolution").high
    if limit is not None and obs.resolution > limit:
        return True
    limits = ctx.profile.limits_for("clock.offset_after_sync")
    return doubt.doubtful(limits, obs.offset, obs.resolution)


def _offset_defect(offset: float, resolution: float, period: int) -> str:
    if abs(offset - period / 2) < 1.0:
        return "counter rounded instead of floored: the code changes in the middle of a step"
    if abs(abs(offset) - period) < 1.0:
        side = "next" if offset > 0 else "previous"
        return f"off-by-one step: at each step boundary the display shows the {side} step's code"
    return (
        f"token clock is {offset:+.3f} s (±{resolution:.3f}) off right after a sync "
        "(clock not set by the sync?)"
    )
