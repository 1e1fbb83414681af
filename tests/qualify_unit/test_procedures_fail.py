"""Procedures no simulated firmware fault drives to failure: each is shown to fail here.

The fault catalogue covers most procedures (test_verdicts.py); these tokens break the promises
it leaves out (the device refusing an oversize seed on its own, the restricted-sync rule, the
2106 roll-over, the days-in-window prediction), so a procedure that could never fail would be
caught.
"""

from __future__ import annotations

import dataclasses

import pytest

from tests.qualify_unit.helpers import sim_token
from tokenrig.harness.clock import SYSTEM_CLOCK, VirtualClock
from tokenrig.harness.qualify.context import ProcedureContext, SlotSeed
from tokenrig.harness.qualify.measurement import Limits
from tokenrig.harness.qualify.procedures import PROCEDURE_FUNCTIONS, ROLLOVER_2106
from tokenrig.harness.qualify.profile import Profile, load_profile
from tokenrig.harness.qualify.record import TokenRecord
from tokenrig.harness.secrets import Secret
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import PtyRigServer
from tokenrig.harness.tokens.base import BurnRequest, InfrastructureError, SeedState, TokenError
from tokenrig.harness.tokens.models import UnsupportedConfig
from tokenrig.harness.tokens.rig_token import RigToken
from tokenrig.harness.tokens.sim_token import SimToken
from tokenrig.harness.transports.rig_client import RigClient


def run_procedure(
    token: SimToken, clock: VirtualClock, procedure: str, profile: Profile | None = None
) -> TokenRecord:
    record = TokenRecord(serial=token.identity.serial, slot=1, model=token.identity.model)
    ctx = ProcedureContext(
        token=token,
        clock=clock,
        profile=profile or load_profile("vendor"),
        record=record,
        seed=SlotSeed.fresh(),
    )
    ctx.procedure = procedure
    PROCEDURE_FUNCTIONS[procedure](ctx)
    return record


def _value(record: TokenRecord, name: str) -> float:
    measurement = record.measurement(name)
    assert measurement is not None, name
    return measurement.value


class AcceptsOversizeSeed(SimToken):
    """Firmware that takes a seed longer than the model's maximum (and keeps what fits)."""

    sent_unchecked: list[int]

    def burn(self, request: BurnRequest, *, check: bool = True) -> None:
        self.sent_unchecked = [*getattr(self, "sent_unchecked", []), *([] if check else [1])]
        key = request.secret.reveal()
        if len(key) > self.spec.seed_max:
            request = dataclasses.replace(
                request, secret=Secret(key[: self.spec.seed_max], kind="seed")
            )
        super().burn(request, check=check)


def test_the_oversize_probe_reaches_the_firmware_which_refuses_it() -> None:
    token, clock = sim_token("miniOTP-2")
    record = run_procedure(token, clock, "seed_lengths")
    assert _value(record, "seed_length.oversize_accepted") == 0
    assert record.findings == []


def test_a_firmware_that_accepts_an_oversize_seed_fails_with_a_finding() -> None:
    plain, clock = sim_token("miniOTP-2")
    token = AcceptsOversizeSeed(plain.firmware)
    record = run_procedure(token, clock, "seed_lengths")
    assert token.sent_unchecked == [1]  # only the oversize probe skips the host-side check
    assert _value(record, "seed_length.oversize_accepted") == 1
    assert any("64-byte seed was accepted" in f.defect for f in record.findings), record.findings


class TimeWriteKeepsSeed(SimToken):
    """A restricted-sync model whose time write leaves the seed (and the clock) alone."""

    def set_clock(self, unix_time: int, *, profile: int = 0) -> SeedState:
        return SeedState.KEPT


class TimeWriteErasesSeed(SimToken):
    """An unrestricted model whose time write wrongly erases the seed."""

    def set_clock(self, unix_time: int, *, profile: int = 0) -> SeedState:
        return SeedState.ERASED


def test_restricted_sync_fails_when_a_restricted_model_keeps_its_seed() -> None:
    plain, clock = sim_token("C301")
    assert plain.spec.restricted_sync
    record = run_procedure(TimeWriteKeepsSeed(plain.firmware), clock, "restricted_sync")
    assert _value(record, "restricted_sync.mismatches") >= 1
    defects = [f.defect for f in record.findings]
    assert any("reported the seed kept" in d for d in defects), defects
    assert any("still produces codes" in d for d in defects), defects


def test_restricted_sync_fails_when_an_unrestricted_model_erases_its_seed() -> None:
    plain, clock = sim_token("miniOTP-2")
    assert not plain.spec.restricted_sync
    record = run_procedure(TimeWriteErasesSeed(plain.firmware), clock, "restricted_sync")
    assert _value(record, "restricted_sync.mismatches") >= 1
    assert any("reported the seed erased" in f.defect for f in record.findings)


def test_restricted_sync_passes_on_healthy_models() -> None:
    for model in ("C301", "miniOTP-2"):
        token, clock = sim_token(model)
        record = run_procedure(token, clock, "restricted_sync")
        assert _value(record, "restricted_sync.mismatches") == 0, record.findings


class ThirtyOneBitClock(SimToken):
    """Firmware that stores the written time in 31 bits (a cousin of the signed-time bug)."""

    def burn(self, request: BurnRequest, *, check: bool = True) -> None:
        if request.clock_time is not None:
            request = dataclasses.replace(request, clock_time=request.clock_time & 0x7FFF_FFFF)
        super().burn(request, check=check)


def test_rollover_2106_fails_when_the_clock_does_not_reach_it() -> None:
    plain, clock = sim_token("miniOTP-2")
    assert ROLLOVER_2106 > 0x7FFF_FFFF
    record = run_procedure(ThirtyOneBitClock(plain.firmware), clock, "rollover_2106")
    assert _value(record, "rollover.code_mismatches[2106-02-07]") == 1
    assert any("2106-02-07 roll-over" in f.defect for f in record.findings), record.findings


def test_rollover_2106_passes_on_a_healthy_token() -> None:
    token, clock = sim_token("miniOTP-2")
    record = run_procedure(token, clock, "rollover_2106")
    assert _value(record, "rollover.code_mismatches[2106-02-07]") == 0, record.findings


@pytest.mark.parametrize("drift_ppm", [20.0, -20.0])
def test_days_in_window_fails_on_drift_within_its_own_limit(drift_ppm: float) -> None:
    """±20 ppm passes the ±30 ppm drift limit but leaves a one-step window within weeks: a
    profile asking for a year in the window must fail the token on that measurement alone."""
    qa = load_profile("qa")
    strict = dataclasses.replace(
        qa, limits={**qa.limits, "window.days_in_window": Limits(low=365.0)}
    )
    token, clock = sim_token("miniOTP-2", drift_ppm=drift_ppm)
    record = run_procedure(token, clock, "drift", strict)
    drift = record.measurement("drift.ppm")
    days = record.measurement("window.days_in_window")
    assert drift is not None
    assert days is not None
    assert drift.outcome.value != "fail"
    assert days.outcome.value == "fail"
    assert days.value < 365
    assert any("predicted to leave the jumpcloud window" in f.defect for f in record.findings)


def test_an_unchecked_oversize_burn_is_refused_by_the_rig_itself() -> None:
    """Over a real pty, the rig answers an error for a 64-byte seed: a token refusal, not a
    broken link, and not the host-side model check (which would raise UnsupportedConfig)."""
    firmware = make_sim_firmware("miniOTP-2", clock=SYSTEM_CLOCK, index=1)
    request = BurnRequest(secret=Secret(bytes(firmware.spec.seed_max + 1), kind="seed"))
    server = PtyRigServer(SimRig([firmware], clock=SYSTEM_CLOCK))
    with server, RigClient(server.path, name="oversize-rig", timeout=3.0) as client:
        token = RigToken(client, 1, identity=firmware.identity, spec=firmware.spec)
        with pytest.raises(UnsupportedConfig):
            token.burn(request)
        with pytest.raises(TokenError) as refused:
            token.burn(request, check=False)
    assert not isinstance(refused.value, (InfrastructureError, UnsupportedConfig))
    assert "SEED refused" in str(refused.value)
    assert "SEED_LENGTH" in str(refused.value)  # the firmware's own refusal, relayed
