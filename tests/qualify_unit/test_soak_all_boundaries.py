"""The every-boundary soak (``qualify.soak``), its scheduler driven on a virtual clock.

The soak only talks to ``ctx.clock`` and the tokens, so in-process simulated tokens on a
:class:`VirtualClock` run the very code a real-time soak runs (polled back to back at 1 ms,
about what a rig's 1 ms stamps give), in a fraction of a second instead of minutes. The same
claims through a simulated rig's serial path in real time are the soak benchmark
(``benchmarks/bench_soak.py``: 2 minutes in CI, 10 on request).
"""

from __future__ import annotations

import dataclasses

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.qualify import soak
from tokenrig.harness.qualify.context import ProcedureContext, SlotSeed
from tokenrig.harness.qualify.offset_procedure import clock_offset
from tokenrig.harness.qualify.profile import Profile
from tokenrig.harness.qualify.record import TokenRecord
from tokenrig.harness.qualify.soak_bench import soak_profile
from tokenrig.harness.sim.factory import make_sim_firmware, make_sim_token
from tokenrig.harness.tokens.base import DisplayReading
from tokenrig.harness.tokens.sim_token import SimToken

DRIFTS = (12.5, -7.0)


def synced_contexts(
    profile: Profile, drifts: tuple[float, ...] = DRIFTS, faults: tuple[str, ...] = ()
) -> tuple[VirtualClock, list[ProcedureContext]]:
    """One token per drift on a shared virtual clock, each after its ``clock_offset``."""
    clock = VirtualClock()
    contexts = []
    for index, ppm in enumerate(drifts, start=1):
        token = make_sim_token(
            "C302", clock=clock, index=index, drift_ppm=ppm, faults=faults if index == 1 else ()
        )
        record = TokenRecord(serial=token.identity.serial, slot=index, model="C302")
        ctx = ProcedureContext(
            token=token, clock=clock, profile=profile, record=record, seed=SlotSeed.fresh()
        )
        ctx.procedure = "clock_offset"
        clock_offset(ctx)
        contexts.append(ctx)
    return clock, contexts


def test_ten_minute_soak_gives_each_drift_to_one_and_a_half_ppm() -> None:
    _, contexts = synced_contexts(soak_profile("10m"))
    results = soak.run_soak(contexts)
    for ctx, true_ppm in zip(contexts, DRIFTS, strict=True):
        result = results[ctx]
        assert result.error is None
        assert result.fit is not None
        assert result.fit.uncertainty_ppm <= 1.5
        assert abs(result.fit.ppm - true_ppm) <= 3 * result.fit.uncertainty_ppm
        # 30 s steps over 10 minutes: every boundary but the last, less any two tokens shared.
        assert len(result.points) >= 17
        assert result.missed == 0


def test_sigma_falls_as_t_to_the_minus_one_and_a_half() -> None:
    """The law the benchmark scales the 10-minute claim by: 4x the soak, ~1/8 the sigma."""
    sigmas = []
    for real in ("2m", "8m"):
        _, contexts = synced_contexts(soak_profile(real), drifts=(3.0,))
        fit = soak.run_soak(contexts)[contexts[0]].fit
        assert fit is not None
        sigmas.append(fit.uncertainty_ppm)
    assert 4**1.5 / 2 <= sigmas[0] / sigmas[1] <= 4**1.5 * 2


def test_until_uncertainty_ends_the_soak_well_before_its_maximum() -> None:
    heard: list[soak.SoakStatus] = []
    clock, contexts = synced_contexts(soak_profile("10m", until_uncertainty=2.0))
    begun = clock.now()
    soak.SOAK_LISTENERS.append(heard.append)
    try:
        results = soak.run_soak(contexts)
    finally:
        soak.SOAK_LISTENERS.remove(heard.append)
    for ctx in contexts:
        fit = results[ctx].fit
        assert fit is not None
        assert fit.uncertainty_ppm <= 2.0
    assert clock.now() - begun < 0.6 * 600
    # The progress heard the remaining time fall to zero as the target was reached ...
    assert heard[-1].worst_ppm is not None
    assert heard[-1].worst_ppm <= 2.0
    assert heard[-1].remaining == 0.0
    # ... and, half-way, predicted the end from sigma ~ T^-1.5 to within a third.
    end = heard[-1].elapsed
    middle = next(s for s in heard if s.worst_ppm is not None and s.elapsed >= end / 2)
    assert abs(middle.elapsed + middle.remaining - end) <= end / 3


def test_before_any_fit_the_remaining_time_is_the_maximum_left() -> None:
    heard: list[soak.SoakStatus] = []
    clock, contexts = synced_contexts(soak_profile("3m", until_uncertainty=0.1), drifts=(1.0,))
    begun = min(c.soak_start.offset.host_time for c in contexts if c.soak_start is not None)
    soak.SOAK_LISTENERS.append(heard.append)
    try:
        soak.run_soak(contexts)
    finally:
        soak.SOAK_LISTENERS.remove(heard.append)
    first = heard[0]
    assert first.worst_ppm is None  # one boundary: no drift yet
    assert abs(first.remaining - (begun + 180 - (begun + first.elapsed))) < 1e-6
    assert clock.now() <= begun + 180  # 0.1 ppm is not reached: the maximum ends it


class FreezingToken(SimToken):
    """A simulated token whose display stops updating at ``freeze_at`` (host time): what a
    display driver hanging mid-soak looks like from the harness."""

    freeze_at = float("inf")
    _frozen: str | None = None

    def read_display(self) -> DisplayReading:
        reading = super().read_display()
        if reading.host_time < self.freeze_at or reading.code is None:
            return reading
        if self._frozen is None:
            self._frozen = reading.code
        return dataclasses.replace(reading, code=self._frozen)


def test_a_display_that_stops_updating_mid_soak_ends_only_its_own_soak() -> None:
    clock, contexts = synced_contexts(soak_profile("5m"))
    stuck = FreezingToken(make_sim_firmware("C302", clock=clock, index=3, drift_ppm=2.0))
    stuck.freeze_at = clock.now() + 75
    record = TokenRecord(serial=stuck.identity.serial, slot=3, model="C302")
    frozen_ctx = ProcedureContext(
        token=stuck, clock=clock, profile=contexts[0].profile, record=record, seed=SlotSeed.fresh()
    )
    frozen_ctx.procedure = "clock_offset"
    clock_offset(frozen_ctx)
    results = soak.run_soak([*contexts, frozen_ctx])
    frozen = results[frozen_ctx]
    assert frozen.fit is None
    assert frozen.error == (
        f"the display did not change to the next step's code at {soak.MAX_MISSES} predicted "
        "boundaries in a row"
    )
    assert frozen.missed == soak.MAX_MISSES
    for ctx, true_ppm in zip(contexts, DRIFTS, strict=True):
        fit = results[ctx].fit
        assert fit is not None
        assert abs(fit.ppm - true_ppm) <= 3 * fit.uncertainty_ppm


def test_a_display_frozen_from_the_start_is_reported_not_soaked() -> None:
    _, contexts = synced_contexts(soak_profile("5m"), faults=("display_not_updating",))
    results = soak.run_soak(contexts)
    frozen, healthy = results[contexts[0]], results[contexts[1]]
    assert frozen.fit is None
    assert frozen.error is not None
    assert frozen.error.startswith("display does not update at the step boundary")
    assert healthy.fit is not None
    assert abs(healthy.fit.ppm - DRIFTS[1]) <= 3 * healthy.fit.uncertainty_ppm


def test_one_soak_serves_every_token_of_the_group() -> None:
    """The first token's ``drift`` soaks the group; the next takes its share, no second soak."""
    clock, contexts = synced_contexts(soak_profile("2m"))
    for ctx in contexts:
        soak.enlist(ctx)
    first = soak.result_for(contexts[0])
    after_soak = clock.now()
    second = soak.result_for(contexts[1])
    assert clock.now() == after_soak
    assert first.fit is not None
    assert second.fit is not None
    assert first.points != second.points


def test_a_token_that_reads_no_temperature_says_so() -> None:
    _, contexts = synced_contexts(soak_profile("2m"), drifts=(0.0,))
    result = soak.run_soak(contexts)[contexts[0]]
    assert result.temperature.startswith("not read: ")
