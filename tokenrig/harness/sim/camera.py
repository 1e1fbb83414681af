"""A simulated camera looking at one LCD whose code changes at known instants.

Frames come at ``fps`` with a random phase; each shows the display as it was at its exposure
instant, with the LCD's switching modelled as a linear fade over ``switch`` seconds, and is
stamped ``latency`` later (plus a little jitter), as a USB webcam delivers it. Because the
true change instants are known, the timing of :mod:`tokenrig.harness.camera.reading` can be
measured against them (tests/camera and benchmarks/bench_camera.py timing).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

from tokenrig.harness.camera.frames import Frame
from tokenrig.harness.camera.segments import code_segments
from tokenrig.harness.sim.lcd_render import SEVERITIES, Severity, render_frame


class ScriptedCamera:
    """``timeline`` is ``[(t, code or None), ...]`` sorted by time: from ``t`` on the token
    drives ``code`` (``None``: off)."""

    def __init__(
        self,
        timeline: Sequence[tuple[float, str | None]],
        *,
        fps: float = 30.0,
        latency: float = 0.08,
        switch: float = 0.03,
        jitter: float = 0.0005,
        severity: Severity = SEVERITIES["mild"],
        seed: int = 0,
    ) -> None:
        self._times = [t for t, _ in timeline]
        self._codes = [c for _, c in timeline]
        self._fps = fps
        self.latency = latency
        self.switch = switch
        self._jitter = jitter
        self._severity = severity
        self._rng = np.random.default_rng(seed)
        self._phase = float(self._rng.uniform(0, 1 / fps))
        self._index = 0

    @property
    def name(self) -> str:
        return "scripted camera"

    @property
    def fps(self) -> float:
        return self._fps

    def states_at(self, t: float) -> np.ndarray:
        i = bisect.bisect_right(self._times, t) - 1
        new = code_segments(self._codes[i] if i >= 0 else None)
        if i < 0:
            return new
        old = code_segments(self._codes[i - 1] if i >= 1 else None)
        fade = min(max((t - self._times[i]) / self.switch, 0.0), 1.0) if self.switch else 1.0
        return np.asarray(old + (new - old) * fade, dtype=np.float32)

    def grab(self) -> Frame | None:
        exposure = self._times[0] + self._phase + self._index / self._fps
        if exposure > self._times[-1] + 5.0:
            return None
        # Same body placement every frame (a fixed camera), fresh noise each frame.
        frame = render_frame(
            [self.states_at(exposure)],
            severity=self._severity,
            rng=np.random.default_rng([int(self._rng.integers(1 << 30)), 7]),
        )
        index = self._index
        self._index += 1
        stamp = exposure + self.latency + float(self._rng.normal(0, self._jitter))
        return Frame(frame.image, stamp, index)

    def close(self) -> None:
        return None
