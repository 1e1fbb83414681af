"""Building simulated tokens and realistic batches."""

from __future__ import annotations

import statistics

import pytest

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.sim.factory import (
    BATCH_DRIFT_LIMIT_PPM,
    BATCH_OFFSET_LIMIT_S,
    SINGLE_PROFILE_MODELS,
    make_sim_firmware,
    realistic_batch,
)
from tokenrig.harness.sim.firmware import SimFirmwareError
from tokenrig.harness.tokens.models import MODELS, model_for_serial

START = 1_767_225_600.0


@pytest.mark.parametrize("name", SINGLE_PROFILE_MODELS)
def test_serial_carries_the_models_real_prefix(name: str) -> None:
    fw = make_sim_firmware(name, clock=VirtualClock(START), index=17)
    spec = model_for_serial(fw.identity.serial)
    assert spec is MODELS[name]
    assert fw.identity.serial.endswith("000017")


def test_factory_applies_drift_offset_and_faults() -> None:
    clock = VirtualClock(START)
    fw = make_sim_firmware(
        "C302", clock=clock, drift_ppm=3.8, rtc_offset=-2.5, faults=["rounded_counter"]
    )
    assert fw.faults == frozenset({"rounded_counter"})
    assert fw.rtc_now() == pytest.approx(START - 2.5)
    clock.advance(1_000_000)
    assert fw.rtc_now() - clock.now() == pytest.approx(-2.5 + 3.8, abs=1e-6)


def test_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(SimFirmwareError, match=r"C999.*known: .*C302") as info:
        make_sim_firmware("C999")
    assert info.value.code == "MODEL"


def test_batch_is_deterministic_for_a_seed_and_differs_across_seeds() -> None:
    def describe(seed: int) -> list[tuple[str, str, float, float]]:
        batch = realistic_batch(20, clock=VirtualClock(START), seed=seed)
        return [(f.identity.model, f.identity.serial, f.drift_ppm, f.rtc_offset) for f in batch]

    assert describe(1) == describe(1)
    assert describe(1) != describe(2)


def test_batch_draws_realistic_drift_and_offsets() -> None:
    batch = realistic_batch(400, clock=VirtualClock(START), seed=3)
    drifts = [f.drift_ppm for f in batch]
    offsets = [f.rtc_offset for f in batch]
    assert all(abs(d) <= BATCH_DRIFT_LIMIT_PPM for d in drifts)
    assert all(abs(o) <= BATCH_OFFSET_LIMIT_S for o in offsets)
    assert abs(statistics.mean(drifts)) < 1.0
    assert 4.0 < statistics.stdev(drifts) < 6.0
    assert len({f.identity.model for f in batch}) == len(SINGLE_PROFILE_MODELS)
    assert len({f.identity.serial for f in batch}) == 400
    assert not any(f.faults for f in batch)


def test_batch_puts_faults_in_the_named_positions() -> None:
    batch = realistic_batch(4, clock=VirtualClock(START), faults={2: ["off_by_one_step"]})
    assert [f.faults for f in batch] == [
        frozenset(),
        frozenset(),
        frozenset({"off_by_one_step"}),
        frozenset(),
    ]


def test_batch_of_molto2_only() -> None:
    batch = realistic_batch(3, clock=VirtualClock(START), models=["Molto2"])
    assert {f.identity.model for f in batch} == {"Molto2"}
    assert all(f.identity.serial.startswith("T2M") for f in batch)


@pytest.mark.parametrize(("count", "models"), [(-1, SINGLE_PROFILE_MODELS), (2, ())])
def test_bad_batch_parameters_are_refused(count: int, models: tuple[str, ...]) -> None:
    with pytest.raises(SimFirmwareError) as info:
        realistic_batch(count, models=models)
    assert info.value.code == "BAD_PARAM"
