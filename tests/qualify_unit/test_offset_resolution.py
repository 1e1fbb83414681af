"""A clock offset the harness could not time finely enough is retaken, then inconclusive.

The tokens here are healthy; only the readings' uncertainty (what slow round trips give a rig
token) is coarse, so any ``fail`` would be a verdict on the harness, not on the token.
"""

from __future__ import annotations

import dataclasses

from tests.qualify_unit.helpers import sim_token
from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.qualify.context import ProcedureContext, SlotSeed
from tokenrig.harness.qualify.procedures import OFFSET_TRIES, clock_offset
from tokenrig.harness.qualify.profile import load_profile
from tokenrig.harness.qualify.record import TokenRecord
from tokenrig.harness.qualify.verdict import run_procedure
from tokenrig.harness.tokens.base import BurnRequest, DisplayReading
from tokenrig.harness.tokens.sim_token import SimToken


class SlowReadings(SimToken):
    """Readings ±60 ms uncertain until the ``fine_after``-th burn (None: always)."""

    def __init__(self, token: SimToken, fine_after: int | None) -> None:
        super().__init__(token.firmware)
        self.burns = 0
        self.fine_after = fine_after

    def burn(self, request: BurnRequest, *, check: bool = True) -> None:
        self.burns += 1
        super().burn(request, check=check)

    def read_display(self) -> DisplayReading:
        reading = super().read_display()
        coarse = self.fine_after is None or self.burns < self.fine_after
        return dataclasses.replace(reading, uncertainty=0.06 if coarse else 0.0)


def _clock_offset(token: SimToken, clock: VirtualClock) -> TokenRecord:
    record = TokenRecord(
        serial=token.identity.serial, slot=1, model=token.identity.model, selected=["clock_offset"]
    )
    ctx = ProcedureContext(
        token=token, clock=clock, profile=load_profile("qa"), record=record, seed=SlotSeed.fresh()
    )
    run_procedure(ctx, "clock_offset", clock_offset)
    return record


def test_a_coarse_first_timing_is_retaken_and_the_token_passes() -> None:
    plain, clock = sim_token("C302")
    token = SlowReadings(plain, fine_after=2)
    record = _clock_offset(token, clock)
    assert token.burns == 2  # one retake, after a fresh sync
    resolution = record.measurement("clock.offset_resolution")
    assert resolution is not None
    assert resolution.value <= 0.05
    assert record.inconclusive == []
    assert record.verdict == "pass"


def test_a_timing_that_stays_coarse_is_inconclusive_not_failed() -> None:
    plain, clock = sim_token("C302")
    token = SlowReadings(plain, fine_after=None)
    record = _clock_offset(token, clock)
    assert token.burns == OFFSET_TRIES  # bounded retakes
    assert record.measurement("clock.offset_resolution") is None  # not judged
    assert record.findings == []
    assert record.verdict == "inconclusive"
    (note,) = record.inconclusive
    assert "clock_offset: clock.offset_resolution" in note
    assert f"after {OFFSET_TRIES} tries (limit 50 ms)" in note
    offset = record.measurement("clock.offset_after_sync")
    assert offset is not None
    assert offset.outcome.value != "fail"  # the offset itself is still judged


def test_a_token_far_off_still_fails_on_its_offset_with_a_coarse_timing() -> None:
    plain, clock = sim_token("C302", faults=["clock_not_set_by_sync"])
    record = _clock_offset(SlowReadings(plain, fine_after=None), clock)
    assert record.verdict == "fail"
    assert record.findings
