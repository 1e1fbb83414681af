"""The qualification procedures: plain functions of a :class:`ProcedureContext`.

Each one exercises one promise a token makes (codes right after a burn, RFC vectors on the
device, the display at a step boundary, the clock after a sync, drift, seed lengths, the
restricted-sync rule, power-cycle persistence, roll-overs) and leaves measurements and, when
the promise is broken, a finding that names the defect. They never assert: the pytest suite
turns a procedure's failures into a failed test, a bench script can print them instead.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from tokenrig.harness.otp.drift import estimate_drift
from tokenrig.harness.otp.hotp import Algorithm, step_start
from tokenrig.harness.otp.offset import OffsetEstimate
from tokenrig.harness.otp.window import PRESETS
from tokenrig.harness.qualify import observe, soak
from tokenrig.harness.qualify.catalogue import definition
from tokenrig.harness.qualify.context import ProcedureContext, Sync
from tokenrig.harness.qualify.digit_counts import digit_counts
from tokenrig.harness.qualify.offset_procedure import OFFSET_TRIES as OFFSET_TRIES
from tokenrig.harness.qualify.offset_procedure import clock_offset as clock_offset
from tokenrig.harness.qualify.rfc_vectors import wrong_vectors
from tokenrig.harness.secrets import Secret
from tokenrig.harness.tokens.base import (
    BurnRequest,
    InfrastructureError,
    SeedState,
    TokenError,
    Unsupported,
)

SEED_LENGTHS = (1, 10, 16, 20, 32, 48, 63)
ROLLOVER_2038 = 2**31  # 2038-01-19T03:14:08Z: signed 32-bit time turns negative
ROLLOVER_2106 = 2**32  # 2106-02-07T06:28:16Z: unsigned 32-bit time wraps to 1970
MAX_DAYS = 36500.0  # a drift-free token is reported as "a century"
_ROLLOVER_LEAD = 3  # seconds before the roll-over the clock is set to

_U32_MAX = 2**32 - 1


def _fresh(length: int = 20) -> Secret:
    return Secret(secrets.token_bytes(length), kind="seed")


def _configs(ctx: ProcedureContext) -> list[tuple[Algorithm, int]]:
    spec = ctx.token.spec
    if ctx.profile.burn_configs == "all":
        return [(a, p) for a in spec.algorithms for p in spec.periods]
    return [(ctx.seed.algorithm, ctx.seed.period)]


def _read_and_check(ctx: ProcedureContext, sync: Sync) -> str | None:
    return observe.check_reading(ctx, sync, observe.read_code(ctx))


def burn(ctx: ProcedureContext) -> None:
    """Burn, power-cycle, press: the code must match RFC 6238 for every configuration tested."""
    slot_config = (ctx.seed.algorithm, ctx.seed.period)
    for algorithm, period in _configs(ctx):
        # The slot's own seed for its own configuration; fresh seeds for the others.
        secret = ctx.seed.secret if (algorithm, period) == slot_config else _fresh()
        sync = observe.burn(ctx, secret, algorithm=algorithm, period=period)
        defect = _read_and_check(ctx, sync)
        ctx.measure(f"burn.code_mismatches[{algorithm.value}/{period}s]", defect is not None)
        if defect:
            ctx.find(defect)


def leading_zero(ctx: ProcedureContext) -> None:
    """Set the clock to a step whose code starts with 0: all six digits must show.

    The step is at least ten steps from now, so a token that ignores the written clock shows
    another code and is caught here too.
    """
    secret = _fresh()
    step = observe.step_with_leading_zero(ctx, secret)
    sync = observe.burn(ctx, secret, clock_time=step_start(step))
    defect = _read_and_check(ctx, sync)
    ctx.measure("display.leading_zero_mismatches", defect is not None)
    if defect:
        ctx.find(defect)


def rfc6238(ctx: ProcedureContext) -> None:
    """RFC 6238 Appendix B on the device: the clock is set to the start of each vector's step
    (the same step, so the same code, with a whole step of margin to read it)."""
    wrong: dict[str, list[str]] = {}
    for vector, defect in wrong_vectors(ctx, digits=6):
        wrong.setdefault(defect, []).append(vector)
    for defect, vectors in wrong.items():
        ctx.find(f"RFC 6238 vectors wrong ({', '.join(vectors)}): {defect}")
    mismatches = sum(len(vectors) for vectors in wrong.values())
    ctx.measure("rfc6238.vector_mismatches", mismatches)


def step_boundary(ctx: ProcedureContext) -> None:
    """Keep the display on across a step boundary: the code must change to the next step's."""
    within = observe.BOUNDARY_MARGIN_MIN / 2  # the reads sit a margin either side of it
    synced = observe.burn_within(ctx, within, before_boundary=True)
    if synced is None:
        ctx.inconclusive(f"step_boundary: {observe.slow_sync_note(within)}")
        return
    sync = synced
    period = sync.burned.period
    boundary_host, margin = observe.boundary_ahead(ctx, sync)
    tolerance = min(margin / 2, 0.5)
    ctx.clock.sleep(boundary_host - margin - ctx.clock.now())
    before = observe.read_code(ctx)  # pressed once, then only read
    ctx.clock.sleep(boundary_host + margin - ctx.clock.now())
    after = ctx.token.read_display()
    ctx.clock.sleep(period / 3)
    later = ctx.token.read_display()
    stale = 0
    defect_before = observe.check_reading(ctx, sync, before, tolerance=tolerance)
    if defect_before:
        ctx.find(defect_before)
    else:
        for reading in (after, later):
            if reading.code is not None and reading.code == before.code:
                stale += 1
            elif (
                defect := observe.check_reading(ctx, sync, reading, tolerance=tolerance)
            ) is not None:
                stale += 1
                ctx.find(f"after the step boundary: {defect}")
        if stale and after.code == before.code:
            ctx.find("display does not update at the step boundary while on (code frozen)")
    ctx.measure("step_boundary.stale_reads", stale)


def drift(ctx: ProcedureContext) -> None:
    """Offsets over a soak, a least-squares drift, and the days until the verifier's window.

    In virtual time the soak runs here, samples spread over it. In real time every token of
    the rig soaks at once (:mod:`tokenrig.harness.qualify.soak`: every step boundary, timed on
    the rig), from the sync ``clock_offset`` left; the first token's ``drift`` runs it, the
    others' take their share of it (the suite runs each procedure for every token before the
    next procedure).
    """
    if ctx.virtual_time:
        try:
            sync, samples = _soak_spread(ctx)
        except observe.ObservationError as exc:
            ctx.find(f"drift cannot be measured: {exc}")
            return
        fit = estimate_drift(samples)
        points = [(x.host_time, x.offset) for x in samples]
        period = sync.burned.period
    else:
        outcome = soak.result_for(ctx)
        ctx.record.procedures["soak_temperature"] = outcome.temperature
        if outcome.fit is None:
            ctx.find(f"drift cannot be measured: {outcome.error}")
            return
        fit = outcome.fit
        points = [(t, y) for t, y, _ in outcome.points]
        period = ctx.seed.period
    start = points[0][0]
    ctx.record.offset_series[:] = [((t - start) / 86400, y) for t, y in points]
    m = ctx.measure_uncertain(
        "drift.ppm", fit.ppm, fit.uncertainty_ppm, cause="one standard error of the fit"
    )
    ctx.measure("drift.ppm_uncertainty", fit.uncertainty_ppm)
    if m is not None and m.outcome.value == "fail":
        ctx.find(
            f"clock drifts {fit.ppm:+.1f} ppm (±{fit.uncertainty_ppm:.2f}), "
            f"beyond the {_limits_text(ctx, 'drift.ppm')} limit"
        )
    # From the sync, with the drift one standard error on the pessimistic side.
    days = fit.days_until_outside(PRESETS[ctx.profile.verifier], period, at=start, sigmas=1.0)
    m = ctx.measure("window.days_in_window", min(days, MAX_DAYS))
    if m.outcome.value == "fail":
        ctx.find(
            f"predicted to leave the {ctx.profile.verifier} window after {days:.1f} days "
            f"(limit {_limits_text(ctx, 'window.days_in_window')})"
        )


def _soak_spread(ctx: ProcedureContext) -> tuple[Sync, list[OffsetEstimate]]:
    soak = ctx.profile.soak
    sync = observe.burn_slot_seed(ctx, before_boundary=True)
    start = ctx.clock.now()
    interval = soak.virtual / (soak.samples - 1)
    samples: list[OffsetEstimate] = []
    prior, prior_unc = 0.0, ctx.timing.lead / 2
    for i in range(soak.samples):
        if i:
            ctx.clock.sleep(start + interval * i - ctx.clock.now())
            # Up to 500 ppm since the last sample: beyond a quarter step, find the boundary anew.
            prior_unc = 500e-6 * interval + 0.1
        obs = observe.observe_offset(ctx, sync, prior=prior, prior_unc=prior_unc)
        samples.append(OffsetEstimate(obs.host_time, obs.offset, obs.timing))
        prior = obs.offset
    return sync, samples


def _limits_text(ctx: ProcedureContext, name: str) -> str:
    return ctx.profile.limits_for(name).describe(definition(name).unit)


def seed_lengths(ctx: ProcedureContext) -> None:
    """Every seed length from 1 to the model's maximum works; one byte more is refused."""
    spec = ctx.token.spec
    wrong = 0
    for length in SEED_LENGTHS:
        if length > spec.seed_max:
            continue
        sync = observe.burn(ctx, _fresh(length))
        defect = _read_and_check(ctx, sync)
        if defect:
            wrong += 1
            ctx.find(defect)
    ctx.measure("seed_length.mismatches", wrong)
    oversize = spec.seed_max + 1
    try:
        # Past the host-side model check: the token (or rig) itself must refuse it.
        observe.burn(ctx, _fresh(oversize), check=False)
    except (InfrastructureError, Unsupported):
        raise  # the rig broke, or the path cannot carry the request: no verdict either way
    except TokenError:
        accepted = 0  # the device refused it, as it must
    else:
        accepted = 1
        ctx.find(f"a {oversize}-byte seed was accepted (the model's maximum is {spec.seed_max})")
    ctx.measure("seed_length.oversize_accepted", accepted)


def restricted_sync(ctx: ProcedureContext) -> None:
    """A time-only write erases the seed exactly on restricted-sync models, keeps it elsewhere."""
    spec = ctx.token.spec
    sync = observe.burn_slot_seed(ctx)
    wrong = 0
    host = observe.wait_for_whole_second(ctx)
    begun = ctx.clock.now()
    state = ctx.token.set_clock(host)
    written, spread = observe.clock_write_time(ctx, begun, ctx.clock.now())
    expected = SeedState.ERASED if spec.restricted_sync else SeedState.KEPT
    if state is not expected:
        wrong += 1
        ctx.find(
            f"time write reported the seed {state.value}; "
            f"a {spec.name} must have it {expected.value}"
        )
    reading = observe.read_code(ctx)
    if spec.restricted_sync:
        if reading.code is not None:
            wrong += 1
            ctx.find("seed still produces codes after a time write on a restricted-sync model")
    else:
        resync = Sync(host=written, token=host, burned=sync.burned, uncertainty=spread)
        if (defect := observe.check_reading(ctx, resync, reading)) is not None:
            wrong += 1
            ctx.find(f"after a time-only sync: {defect}")
    ctx.measure("restricted_sync.mismatches", wrong)


def power_cycle(ctx: ProcedureContext) -> None:
    """Seed, config and clock survive switching the token off and on."""
    sync = observe.burn_slot_seed(ctx)
    ctx.token.power_cycle()
    reading = observe.read_code(ctx)
    defect = observe.check_reading(ctx, sync, reading)
    ctx.measure("power_cycle.code_mismatches", defect is not None)
    if defect:
        ctx.find(
            "seed lost on power cycle (display shows no code)"
            if reading.code is None
            else f"after a power cycle: {defect}"
        )


def _rollover(ctx: ProcedureContext, instant: int, label: str, *, wrap_ok: bool) -> None:
    sync = observe.burn(ctx, _fresh(), clock_time=instant - _ROLLOVER_LEAD)
    ctx.clock.sleep(sync.host + _ROLLOVER_LEAD + 1 - ctx.clock.now())
    reading = observe.read_code(ctx)
    defect = observe.check_reading(ctx, sync, reading, tolerance=0.5)
    if defect and wrap_ok:
        # Every 32-bit token wraps to 1970 here; showing the wrapped time's code is expected.
        wrapped = Sync(host=sync.host, token=sync.token - 2**32, burned=sync.burned)
        if observe.check_reading(ctx, wrapped, reading, tolerance=0.5) is None:
            defect = None
    ctx.measure(f"rollover.code_mismatches[{label}]", defect is not None)
    if defect:
        ctx.find(f"after the {label} roll-over: {defect}")


def rollover_2038(ctx: ProcedureContext) -> None:
    _rollover(ctx, ROLLOVER_2038, "2038-01-19", wrap_ok=False)


def rollover_2106(ctx: ProcedureContext) -> None:
    _rollover(ctx, ROLLOVER_2106, "2106-02-07", wrap_ok=True)


def provision(ctx: ProcedureContext) -> None:
    """Leave the token burned with its slot's seed and the clock synced, and check it."""
    sync = observe.burn_slot_seed(
        ctx,
        display_timeout=BurnRequest.display_timeout,  # the everyday setting, not the bench's
    )
    defect = _read_and_check(ctx, sync)
    ctx.measure("burn.code_mismatches[provisioned]", defect is not None)
    if defect:
        ctx.find(defect)


PROCEDURE_FUNCTIONS: dict[str, Callable[[ProcedureContext], None]] = {
    "burn": burn,
    "leading_zero": leading_zero,
    "rfc6238": rfc6238,
    "step_boundary": step_boundary,
    "digit_counts": digit_counts,
    "clock_offset": clock_offset,
    "drift": drift,
    "seed_lengths": seed_lengths,
    "restricted_sync": restricted_sync,
    "power_cycle": power_cycle,
    "rollover_2038": rollover_2038,
    "rollover_2106": rollover_2106,
}
"""Procedures by the names profiles use (``provision`` always runs last and is not listed)."""
