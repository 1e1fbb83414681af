"""When a display changed, from the frames around the change: two estimators.

* **Frame counting**: the midpoint between the last frame that read the old code and the
  first that read the new one. Unbiased, but quantised to the frame period: at 30 fps the
  error is spread over ±1.5 frames (s.d. of several ms), whatever the LCD does.
* **Switch fraction**: a segment that changes fades over the LCD's switching time; the
  decoder's per-segment darkness says how far each changing segment has gone in every frame.
  Summing the not-yet-switched fraction of the changing segments over the frames, times the
  frame period, integrates the fade: the estimate lands half the switching time after the
  true instant (a constant bias, calibrated as part of the LCD delay), with a much smaller
  spread because the phase of the frames no longer matters.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tokenrig.harness.camera.decoder import Decoded
from tokenrig.harness.camera.segments import code_segments


def by_counting(times: Sequence[float], codes: Sequence[str | None], old: str, new: str) -> float:
    """Midpoint of the last frame reading ``old`` and the first reading ``new`` after it."""
    last_old = max(i for i, c in enumerate(codes) if c == old)
    first_new = min(i for i, c in enumerate(codes) if c == new and i > last_old)
    return (times[last_old] + times[first_new]) / 2


def by_switch_fraction(
    times: Sequence[float], decoded: Sequence[Decoded], old: str, new: str
) -> float:
    """The change instant from the progress of the changing segments, frame by frame.

    ``times`` must start on frames that show ``old`` and end on frames that show ``new``,
    evenly spaced (one camera, constant frame rate)."""
    before, after = code_segments(old), code_segments(new)
    changing = before != after
    if not changing.any():
        raise ValueError("the two codes light the same segments")
    turning_on = after[changing] > 0.5
    period = float(np.median(np.diff(times)))
    remaining = 0.0
    for result in decoded:
        ratios = np.clip(result.ratios[changing], 0.0, 1.0)
        progress = np.where(turning_on, ratios, 1.0 - ratios)
        remaining += float(1.0 - progress.mean())
    # Trapezoid rule: the first frame (all old) and the last (all new) count half.
    return times[0] + (remaining - 0.5) * period
