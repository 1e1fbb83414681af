"""What the qualification must show: every simulated firmware fault is caught, by a finding
that names the defect, and healthy simulated tokens never fail.

Both are measured over the simulator's own fault catalogue and its realistic batches, so a new
fault without a detection (or a procedure that starts failing good tokens) breaks this file.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.qualify_unit.helpers import qualify_token, sim_token
from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.qualify.context import SlotSeed
from tokenrig.harness.qualify.profile import load_profile
from tokenrig.harness.secrets import Secret
from tokenrig.harness.sim.factory import realistic_batch
from tokenrig.harness.sim.faults import FAULTS, LONG_DISPLAY_FAULTS
from tokenrig.harness.tokens.models import MODELS
from tokenrig.harness.tokens.sim_token import SimToken

# The words a finding must contain for each fault: the defect, named.
DEFECT_NAMED_BY = {
    "wrong_truncation_offset": "truncation takes its offset from byte 19",
    "signed_32bit_time": "signed 32-bit time, sign-extended to 64 bits",
    "signed_32bit_time_low32": "signed 32-bit time, its step count kept in the counter's low 32",
    "signed_32bit_time_unsigned_wrap": "negative time wrapped to unsigned 64 bits",
    "power_of_ten_u32": "10-digit modulus overflows 32 bits",
    "truncation_sign_bit": "does not mask the top bit",
    "drops_leading_zero_long": "drops leading zeros at 8/10 digits (4/6 digits shown in full)",
    "display_last_6_digits": "only the last 6 digits of the",
    "rounded_counter": "rounded instead of floored",
    "period_stuck_30": "30 s step although 60 s was burned",
    "sha1_instead_of_sha256": "SHA1 although SHA256 was burned",
    "seed_truncated_20": "only the first 20 bytes",
    "seed_truncated_32": "only the first 32 bytes",
    "drops_leading_zero": "drops leading zeros",
    "off_by_one_step": "off-by-one step",
    "clock_not_set_by_sync": "clock not set by the burn/sync",
    "seed_lost_on_power_cycle": "seed lost on power cycle",
    "drift_out_of_spec": "clock drifts",
    "display_not_updating": "does not update at the step boundary",
    "block_seed_mispadded": "block-aligned seed mis-padded",
}
# Faults the batch-acceptance profile must catch with SHA1/30 s seeds of 20 bytes (the others
# only show with other configurations, which the vendor profile covers).
QA_CATCHES = {
    "rounded_counter",
    "drops_leading_zero",
    "off_by_one_step",
    "clock_not_set_by_sync",
    "seed_lost_on_power_cycle",
    "drift_out_of_spec",
    "display_not_updating",
}
MODELS_UNDER_TEST = ("C301", "miniOTP-2", "Molto2")  # restricted sync, unrestricted, multi-profile


def test_every_simulated_fault_has_a_named_detection() -> None:
    assert set(DEFECT_NAMED_BY) == set(FAULTS)


# Faults of a display longer than 6 digits can only show on the Molto2.
VENDOR_CASES = [
    (fault, model)
    for fault in sorted(FAULTS)
    for model in MODELS_UNDER_TEST
    if model == "Molto2" or fault not in LONG_DISPLAY_FAULTS
]


@pytest.mark.parametrize(("fault", "model"), VENDOR_CASES)
def test_vendor_profile_catches_every_fault(fault: str, model: str) -> None:
    token, clock = sim_token(model, faults=[fault], drift_ppm=2.0, rtc_offset=1.5)
    record = qualify_token(token, clock, load_profile("vendor"))
    defects = [f.defect for f in record.findings]
    assert record.verdict == "fail"
    assert any(DEFECT_NAMED_BY[fault] in d for d in defects), defects


@pytest.mark.parametrize("fault", sorted(QA_CATCHES))
def test_qa_profile_catches_the_faults_of_its_configuration(fault: str) -> None:
    token, clock = sim_token("C302", faults=[fault], drift_ppm=-3.0, rtc_offset=-2.0)
    record = qualify_token(token, clock, load_profile("qa"))
    assert record.verdict == "fail"
    assert any(DEFECT_NAMED_BY[fault] in f.defect for f in record.findings), record.findings


@pytest.mark.parametrize("profile", ["qa", "vendor"])
@pytest.mark.parametrize("batch_seed", [1, 2026])
def test_healthy_realistic_batches_never_fail(profile: str, batch_seed: int) -> None:
    qualifying = load_profile(profile)
    failures = []
    for firmware in realistic_batch(
        24, clock=VirtualClock(1_767_225_600.0), seed=batch_seed, models=tuple(MODELS)
    ):
        clock = firmware.clock
        assert isinstance(clock, VirtualClock)
        record = qualify_token(SimToken(firmware), clock, qualifying)
        if record.verdict != "pass":
            failures.append((firmware.identity.serial, [f.defect for f in record.findings]))
    assert failures == []


@settings(max_examples=25, deadline=None)
@given(
    model=st.sampled_from(sorted(MODELS)),
    drift=st.floats(-20.0, 20.0),
    offset=st.floats(-10.0, 10.0),
    start=st.floats(1_500_000_000.0, 2_100_000_000.0),
    algorithm=st.sampled_from([Algorithm.SHA1, Algorithm.SHA256]),
    period=st.sampled_from([30, 60]),
    seed_len=st.integers(1, 63),
)
def test_a_healthy_token_passes_everything(
    model: str,
    drift: float,
    offset: float,
    start: float,
    algorithm: Algorithm,
    period: int,
    seed_len: int,
) -> None:
    token, clock = sim_token(model, drift_ppm=drift, rtc_offset=offset, start=start)
    seed = SlotSeed(Secret(bytes(range(seed_len)), kind="seed"), algorithm, period)
    record = qualify_token(token, clock, load_profile("vendor"), seed)
    assert record.verdict == "pass", [f.defect for f in record.findings]
    drift_ppm = record.measurement("drift.ppm")
    assert drift_ppm is not None
    assert abs(drift_ppm.value - drift) < 0.05  # the soak recovers the crystal's drift
