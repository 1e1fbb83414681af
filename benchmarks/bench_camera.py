"""Decoder accuracy and speed on held-out rendered frames at three severities.

Run: ``python benchmarks/bench_camera.py [frames per severity, default 2000]``. Prints, per
severity, percent right / unread / wrong and ms per frame (find + decode). Wrong must be 0.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from tokenrig.harness.camera.decoder import decode, find_windows
from tokenrig.harness.camera.segments import code_segments
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


if __name__ == "__main__":
    sys.exit(0 if run(int(sys.argv[1]) if len(sys.argv) > 1 else 2000) else 1)
