"""The clock over NFC in ``clock_offset``: the Token2 info APDU to the simulated card, judged
against where the sync put the clock, next to (never instead of) the display timing."""

from __future__ import annotations

from tests.qualify_unit.helpers import sim_token
from tokenrig.harness.qualify.context import ProcedureContext, SlotSeed
from tokenrig.harness.qualify.nfc_clock import InfoApduClock
from tokenrig.harness.qualify.procedures import clock_offset
from tokenrig.harness.qualify.profile import load_profile
from tokenrig.harness.qualify.record import TokenRecord
from tokenrig.harness.qualify.verdict import run_procedure
from tokenrig.harness.sim.apdu_card import card_for
from tokenrig.harness.sim.firmware import SimFirmware
from tokenrig.harness.transports.apdu_channel import DirectApduChannel


def _clock_offset(model: str, faults: list[str], *, nfc: bool = True) -> TokenRecord:
    token, clock = sim_token(model, faults=faults, drift_ppm=3.0, rtc_offset=2.5)
    firmware = token.firmware
    assert isinstance(firmware, SimFirmware)
    reader = InfoApduClock(DirectApduChannel(card_for(firmware)), firmware.spec) if nfc else None
    record = TokenRecord(
        serial=token.identity.serial, slot=1, model=model, selected=["clock_offset"]
    )
    ctx = ProcedureContext(
        token=token,
        clock=clock,
        profile=load_profile("qa"),
        record=record,
        seed=SlotSeed.fresh(),
        nfc_clock=reader,
    )
    run_procedure(ctx, "clock_offset", clock_offset)
    return record


def test_a_healthy_token_reads_within_its_second_over_nfc() -> None:
    for model in ("C302", "Molto2"):
        record = _clock_offset(model, [])
        nfc = record.measurement("clock.nfc_offset_after_sync")
        resolution = record.measurement("clock.nfc_offset_resolution")
        assert nfc is not None
        assert resolution is not None
        assert abs(nfc.value) <= resolution.value  # the truth (0) is inside its interval
        assert resolution.value >= 0.5  # whole seconds: never finer than half a second
        assert record.verdict == "pass", record.findings
        precise = record.measurement("clock.offset_resolution")
        assert precise is not None
        assert precise.value < resolution.value  # the display timing stays the precise one


def test_a_clock_the_sync_did_not_set_is_seen_over_nfc_too() -> None:
    record = _clock_offset("C302", ["clock_not_set_by_sync"])
    nfc = record.measurement("clock.nfc_offset_after_sync")
    assert nfc is not None
    assert nfc.outcome.value == "fail"
    assert any("clock read over NFC" in f.defect for f in record.findings), record.findings


def test_without_apdu_pass_through_nothing_is_measured_over_nfc() -> None:
    record = _clock_offset("C302", [], nfc=False)
    assert record.measurement("clock.nfc_offset_after_sync") is None
    assert record.measurement("clock.offset_after_sync") is not None
