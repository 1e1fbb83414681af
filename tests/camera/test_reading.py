"""Confirmed display readings over a frame stream: two frames to hold a code, stricter for a
code the seed cannot explain (still reported), readings timed at the change."""

from __future__ import annotations

import numpy as np
import pytest

from tokenrig.harness.camera.calibration import Calibration
from tokenrig.harness.camera.frames import Frame
from tokenrig.harness.camera.reading import Expected, SlotReader
from tokenrig.harness.otp.hotp import Algorithm, hotp
from tokenrig.harness.secrets import Secret
from tokenrig.harness.sim.camera import ScriptedCamera
from tokenrig.harness.tokens.base import InfrastructureError

KEY = b"12345678901234567890"
T0 = 1_767_225_600.0  # a step boundary (period 30)


def _reader(camera: ScriptedCamera, calibration: Calibration) -> SlotReader:
    def grab():  # type: ignore[no-untyped-def]
        frame = camera.grab()
        assert frame is not None
        return frame

    return SlotReader(grab, None, calibration=calibration)


def test_change_is_bracketed_within_a_frame_after_calibration() -> None:
    old, new = hotp(KEY, int(T0 // 30) - 1), hotp(KEY, int(T0 // 30))
    camera = ScriptedCamera([(T0 - 2.0, old), (T0, new)], latency=0.08, switch=0.03, seed=4)
    calibration = Calibration(camera_latency=0.08, lcd_delay=0.02, uncertainty=0.002)
    reader = _reader(camera, calibration)
    reader.expected = Expected(Secret(KEY), Algorithm.SHA1, 30, 6)
    before = reader.read()
    assert before.code == old
    assert before.extra["plausible"] == "yes"
    after = reader.read()
    while after.code == old:
        before, after = after, reader.read()
    assert after.code == new
    midpoint = (before.host_time + after.host_time) / 2
    frame = 1 / camera.fps
    assert after.host_time - before.host_time <= 2 * frame + 1e-6
    assert midpoint == pytest.approx(T0, abs=frame)


def test_unexpected_code_needs_more_frames_but_is_reported() -> None:
    camera = ScriptedCamera([(T0, "000000")], seed=5)
    reader = _reader(camera, Calibration())
    reader.expected = Expected(Secret(KEY), Algorithm.SHA1, 30, 6)
    reading = reader.read()
    assert reading.code == "000000"
    assert reading.extra["plausible"] == "no"
    assert int(reading.extra["frames"]) >= 4


def test_dropped_leading_zero_is_plausible_and_off_reads_none() -> None:
    step = next(s for s in range(int(T0 // 30), int(T0 // 30) + 400) if hotp(KEY, s)[0] == "0")
    t = step * 30.0
    camera = ScriptedCamera([(t - 1, None), (t + 0.5, hotp(KEY, step).lstrip("0"))], seed=6)
    reader = _reader(camera, Calibration())
    reader.expected = Expected(Secret(KEY), Algorithm.SHA1, 30, 6)
    assert reader.read().code is None
    reading = reader.read()
    while reading.code is None:
        reading = reader.read()
    assert reading.code == hotp(KEY, step).lstrip("0")
    assert reading.extra["plausible"] == "yes"
    assert int(reading.extra["frames"]) == 2


def test_unreadable_display_is_an_infrastructure_error() -> None:
    blank = Frame(np.full((360, 640, 3), 120, np.uint8), 0.0, 0)  # no token in view
    with pytest.raises(InfrastructureError, match=r"unreadable in 5 frames \(0 LCD windows"):
        SlotReader(lambda: blank, None, give_up=5, where="rig r slot 2").read()
