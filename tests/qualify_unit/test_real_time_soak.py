"""The real-time drift soak continues from the sync ``clock_offset`` made, so a rig's tokens
soak together: procedure by procedure, every token's ``clock_offset`` and then every token's
``drift``. Shown here with two simulated tokens on the host clock and a 30 s soak.
"""

from __future__ import annotations

import pytest

from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.qualify.context import ProcedureContext, SlotSeed
from tokenrig.harness.qualify.procedures import clock_offset, drift
from tokenrig.harness.qualify.profile import parse_profile
from tokenrig.harness.qualify.record import TokenRecord
from tokenrig.harness.qualify.verdict import run_procedure
from tokenrig.harness.sim.factory import make_sim_token

# 30 s of real time resolves only thousands of ppm: the limits here are about the mechanics.
PROFILE = parse_profile(
    """name = "rt-soak"
procedures = ["clock_offset", "drift"]
[soak]
real = "30s"
[limits."drift.ppm"]
low = -5000
high = 5000
[limits."drift.ppm_uncertainty"]
high = 5000
[limits."window.days_in_window"]
low = 0
[limits."clock.offset_resolution"]
high = 0.5
""",
    "rt-soak",
)


@pytest.mark.slow
def test_tokens_soak_together_in_real_time() -> None:
    contexts = []
    for index in (1, 2):
        token = make_sim_token("C302", clock=SYSTEM_CLOCK, index=index, drift_ppm=5.0)
        record = TokenRecord(
            serial=token.identity.serial,
            slot=index,
            model="C302",
            selected=["clock_offset", "drift"],
        )
        contexts.append(
            ProcedureContext(
                token=token,
                clock=SYSTEM_CLOCK,
                profile=PROFILE,
                record=record,
                seed=SlotSeed.fresh(),
            )
        )
    for procedure in (clock_offset, drift):
        for ctx in contexts:
            run_procedure(ctx, procedure.__name__, procedure)
    for ctx in contexts:
        record = ctx.record
        assert record.findings == []
        assert record.verdict == "pass"
        assert ctx.soak_start is not None
        # Two samples: the one clock_offset took right after the sync, and one a soak later.
        days = [d for d, _ in record.offset_series]
        assert len(days) == 2
        assert days[1] * 86400 >= 30 - 0.5
        assert record.measurement("drift.ppm") is not None
