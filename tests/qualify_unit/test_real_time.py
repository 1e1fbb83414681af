"""Real time, real serial path: the clock offset right after a sync, timed from the display.

The simulated token sits behind the rig protocol on a kernel pty and runs on the host clock,
so the measurement goes through everything a rig would (request, answer, rig timestamps). The
truth is known (a simulated clock with no drift is exactly where the sync put it), so the
measured offset must agree with it within the resolution the measurement itself reports.
"""

from __future__ import annotations

import pytest

from tokenrig.fixtures.tokens import SimTokenFactory
from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.qualify.context import ProcedureContext, SlotSeed
from tokenrig.harness.qualify.procedures import clock_offset
from tokenrig.harness.qualify.profile import parse_profile
from tokenrig.harness.qualify.record import TokenRecord

PROFILE = parse_profile('name = "rt"\nprocedures = ["clock_offset"]\n', "rt")


@pytest.mark.parametrize("via", ["inproc", "pty"])
def test_offset_after_sync_in_real_time(sim_token_factory: SimTokenFactory, via: str) -> None:
    token = sim_token_factory("C302", via=via)  # type: ignore[call-arg]
    record = TokenRecord(serial=token.identity.serial, slot=1, model="C302")
    ctx = ProcedureContext(
        token=token, clock=SYSTEM_CLOCK, profile=PROFILE, record=record, seed=SlotSeed.fresh()
    )
    ctx.procedure = "clock_offset"
    clock_offset(ctx)
    assert record.findings == []
    offset = record.measurement("clock.offset_after_sync")
    resolution = record.measurement("clock.offset_resolution")
    assert offset is not None
    assert resolution is not None, record.inconclusive
    # The promise: display timing resolves the offset to 50 ms or better on a local
    # rig (the procedure retakes a coarse timing before calling it inconclusive).
    assert resolution.value <= 0.05
    assert resolution.outcome.value != "fail"
    # Truth is 0 s; what the sync write itself takes on a busy host is not in the resolution,
    # so allow it a margin far below anything a defect produces (whole seconds or steps).
    assert abs(offset.value) <= resolution.value + 0.25
