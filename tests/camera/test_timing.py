"""The two change-instant estimators on exact segment data: counting frames gives the
midpoint of the frames either side; the switch fraction integrates a linear fade and lands
half the switching time after the change, whatever the phase of the frames."""

from __future__ import annotations

import numpy as np
import pytest

from tokenrig.harness.camera.decoder import Decoded
from tokenrig.harness.camera.segments import code_segments
from tokenrig.harness.camera.timing import by_counting, by_switch_fraction

OLD, NEW = "123456", "123457"
PERIOD = 1 / 30


def _frames(phase: float, change: float, switch: float) -> tuple[list[float], list[Decoded]]:
    before, after = code_segments(OLD), code_segments(NEW)
    times = [phase + k * PERIOD for k in range(12)]
    decoded = []
    for t in times:
        p = min(max((t - change) / switch, 0.0), 1.0)
        decoded.append(Decoded("unread", ratios=(before + (after - before) * p).astype(np.float32)))
    return times, decoded


@pytest.mark.parametrize("phase", [0.0, 0.007, 0.019, 0.031])
def test_switch_fraction_is_half_the_fade_late_at_any_phase(phase: float) -> None:
    change, switch = 0.2, 0.05
    times, decoded = _frames(phase, change, switch)
    assert by_switch_fraction(times, decoded, OLD, NEW) == pytest.approx(
        change + switch / 2,
        abs=0.004,  # kinks of the fade inside a frame: O(T²/S)
    )


def test_counting_takes_the_midpoint_of_the_frames_either_side() -> None:
    times = [0.0, 0.1, 0.2, 0.3, 0.4]
    assert by_counting(times, [OLD, OLD, None, NEW, NEW], OLD, NEW) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="same segments"):
        by_switch_fraction(times, [Decoded("off")] * 5, OLD, OLD)
