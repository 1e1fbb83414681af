"""The segment-probe decoder on rendered frames: right or refused, never wrong."""

from __future__ import annotations

import numpy as np
import pytest

from tokenrig.harness.camera.decoder import decode, find_windows
from tokenrig.harness.camera.segments import code_segments
from tokenrig.harness.sim.lcd_render import SEVERITIES, STYLES, render_frame


@pytest.mark.parametrize("severity", sorted(SEVERITIES))
def test_reads_are_right_or_refused(severity: str) -> None:
    rng = np.random.default_rng(11)
    right = 0
    for i in range(40):
        code = f"{int(rng.integers(0, 10**6)):06d}"
        style = list(STYLES.values())[i % len(STYLES)]
        frame = render_frame(
            [code_segments(code)], severity=SEVERITIES[severity], rng=rng, styles=[style]
        )
        windows = find_windows(frame.image)
        if len(windows) != 1:
            continue
        result = decode(frame.image, windows[0])
        if result.status == "code":
            assert result.code == code
            right += 1
    assert right >= 20  # most frames are read at every severity


def test_blank_display_reads_off_and_half_switched_segment_is_refused() -> None:
    rng = np.random.default_rng(3)
    blank = render_frame([code_segments(None)], rng=rng)
    assert decode(blank.image, find_windows(blank.image)[0]).status == "off"
    states = code_segments("123456")
    states[0, 0] = 0.5  # digit 1 segment a mid-switch
    frame = render_frame([states], rng=rng)
    result = decode(frame.image, frame.quads[0])
    assert result.status == "unread"
    assert "half on" in result.reason


def test_dropped_leading_zero_reads_as_shown_and_four_windows_are_found() -> None:
    rng = np.random.default_rng(5)
    frame = render_frame([code_segments("42137")], rng=rng)
    assert decode(frame.image, frame.quads[0]).code == "42137"
    codes = ["123456", "789012", "345678", "901234"]
    scene = render_frame([code_segments(c) for c in codes], rng=rng, size=(1280, 720))
    windows = find_windows(scene.image)
    assert len(windows) == 4
    assert [decode(scene.image, q).code for q in windows] == codes
