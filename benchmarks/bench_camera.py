"""Decoder accuracy and speed on held-out rendered frames at three severities, and the error
of the display-change instant at 30 fps by two methods side by side.

Run: ``python benchmarks/bench_camera.py [frames per severity, default 2000]``. Prints, per
severity, percent right / unread / wrong and ms per frame (find + decode). Wrong must be 0.
``python benchmarks/bench_camera.py timing [trials, default 200]``: a code change filmed by a
simulated camera (30 fps, random phase, 30 ms LCD fade) timed by counting frames and by the
switch fraction (:mod:`tokenrig.harness.camera.timing`); prints each method's mean error
(bias), s.d. and worst error in ms.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from tokenrig.harness.camera.decoder import decode, find_windows
from tokenrig.harness.camera.reading import read_frame
from tokenrig.harness.camera.segments import code_segments
from tokenrig.harness.camera.timing import by_counting, by_switch_fraction
from tokenrig.harness.sim.camera import ScriptedCamera
from tokenrig.harness.sim.lcd_render import SEVERITIES, STYLES, render_frame

HELD_OUT_SEED = 20261202  # not a seed any test uses


def run(frames: int) -> bool:
    rng = np.random.default_rng(HELD_OUT_SEED)
    ok = True
    for name, severity in SEVERITIES.items():
        right = unread = wrong = 0
        spent = 0.0
        for i in range(frames):
            code = f"{int(rng.integers(0, 10**6)):06d}"
            style = list(STYLES.values())[i % len(STYLES)]
            frame = render_frame([code_segments(code)], severity=severity, rng=rng, styles=[style])
            start = time.perf_counter()
            windows = find_windows(frame.image)
            result = decode(frame.image, windows[0]) if len(windows) == 1 else None
            spent += time.perf_counter() - start
            if result is None or result.status != "code":
                unread += 1
            elif result.code == code:
                right += 1
            else:
                wrong += 1
        ok = ok and wrong == 0
        print(
            f"{name:7s} frames {frames}  right {100 * right / frames:5.1f} %  "
            f"unread {100 * unread / frames:5.1f} %  wrong {100 * wrong / frames:5.2f} % "
            f"({wrong})  {1000 * spent / frames:.1f} ms/frame"
        )
    return ok


def timing(trials: int, *, fps: float = 30.0, switch: float = 0.03) -> dict[str, list[float]]:
    """Errors (s) of each method over ``trials`` filmed changes, the frame time stamps taken
    back to exposure (the latency is known, as after calibration)."""
    errors: dict[str, list[float]] = {"counting": [], "fraction": []}
    rng = np.random.default_rng(HELD_OUT_SEED + 1)
    t0 = 1_767_225_600.0
    for trial in range(trials):
        old, new = (f"{int(v):06d}" for v in rng.integers(0, 10**6, 2))
        camera = ScriptedCamera(
            [(t0 - 0.3, old), (t0, new)], fps=fps, latency=0.08, switch=switch, seed=trial
        )
        times, codes, decoded = [], [], []
        while (frame := camera.grab()) is not None and frame.t - camera.latency < t0 + 0.25:
            result = read_frame(frame, None)
            times.append(frame.t - camera.latency)
            codes.append(result.code if result.status == "code" else None)
            decoded.append(result)
        if old not in codes or new not in codes:
            continue  # a frame the decoder refused at the edge: not a timing sample
        errors["counting"].append(by_counting(times, codes, old, new) - t0)
        first = codes.index(old)
        last = len(codes) - 1 - codes[::-1].index(new)
        errors["fraction"].append(
            by_switch_fraction(times[first : last + 1], decoded[first : last + 1], old, new) - t0
        )
    for name, values in errors.items():
        ms = np.array(values) * 1000
        print(
            f"{name:9s} n {len(ms)}  bias {ms.mean():+6.1f} ms  s.d. {ms.std(ddof=1):5.1f} ms  "
            f"worst {np.abs(ms - ms.mean()).max():5.1f} ms from the bias"
        )
    return errors


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "timing":
        timing(int(sys.argv[2]) if len(sys.argv) > 2 else 200)
        sys.exit(0)
    sys.exit(0 if run(int(sys.argv[1]) if len(sys.argv) > 1 else 2000) else 1)
