"""A reading a position short is the rig's error in every procedure that judges a code, never
a wrong code of the token's (issue #11: "fewer digits than the token has" failed tokens).

A healthy simulated token whose readings lose their last position on the way (as a rig that
drops one would send them): each procedure ends in a :class:`RigAnswerError`, recorded, the
token inconclusive with no finding. A display that really blanks leading zeros is still the
token's defect (``test_verdicts.py`` catches ``drops_leading_zero`` under every profile).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.qualify_unit.helpers import sim_token
from tokenrig.harness.qualify.context import ProcedureContext, SlotSeed
from tokenrig.harness.qualify.procedures import PROCEDURE_FUNCTIONS
from tokenrig.harness.qualify.profile import load_profile
from tokenrig.harness.qualify.record import TokenRecord
from tokenrig.harness.qualify.verdict import run_procedure
from tokenrig.harness.tokens.base import DisplayReading
from tokenrig.harness.tokens.rig_answers import RigAnswerError
from tokenrig.harness.tokens.sim_token import SimToken


class OneShort:
    """A token seen through a rig that drops the last position of every code it reads."""

    def __init__(self, token: SimToken) -> None:
        self._token = token

    def __getattr__(self, name: str) -> Any:
        return getattr(self._token, name)

    def _cut(self, reading: DisplayReading) -> DisplayReading:
        if reading.code is None:
            return reading
        return DisplayReading(
            code=reading.code[:-1],
            host_time=reading.host_time,
            uncertainty=reading.uncertainty,
            extra=reading.extra,
        )

    def read_display(self) -> DisplayReading:
        return self._cut(self._token.read_display())

    def watch_display(self, timeout: float) -> DisplayReading:
        return self._cut(self._token.watch_display(timeout))


@pytest.mark.parametrize(
    "procedure",
    [
        "burn",
        "leading_zero",
        "rfc6238",
        "step_boundary",
        "clock_offset",
        "power_cycle",
        "rollover_2038",
        "rollover_2106",
    ],
)
def test_a_code_one_position_short_is_a_rig_error_not_a_finding(procedure: str) -> None:
    token, clock = sim_token("C302")
    record = TokenRecord(serial=token.identity.serial, slot=1, model="C302", selected=[procedure])
    ctx = ProcedureContext(
        token=OneShort(token),  # type: ignore[arg-type]
        clock=clock,
        profile=load_profile("vendor"),
        record=record,
        seed=SlotSeed.fresh(),
    )
    with pytest.raises(RigAnswerError) as caught:
        run_procedure(ctx, procedure, PROCEDURE_FUNCTIONS[procedure])
    assert "5 positions for a 6-digit code" in str(caught.value)
    assert record.findings == []
    assert [m for m in record.measurements if m.outcome.value == "fail"] == []
    assert record.verdict == "inconclusive"
    assert record.procedures[procedure] == "error"
    assert "rig protocol violation" in record.errors[0]
