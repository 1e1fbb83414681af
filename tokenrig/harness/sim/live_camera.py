"""A simulated camera that films a live scene on the harness's clock (usually virtual).

:class:`~tokenrig.harness.sim.camera.ScriptedCamera` replays a timeline fixed in advance; this
one asks a *scene* what the displays show at each exposure, so the displays can be driven by
simulated token firmware that the harness presses and burns while the camera watches, and a
relay LED can be switched by the calibration procedure. Each ``grab`` waits (``clock.sleep``)
for the next exposure after "now", renders the scene as it is then and returns the frame
stamped ``latency`` later, as a host stamps a frame when ``VideoCapture.read`` returns.

A simplification, on purpose: the clock is not advanced by the latency (a real camera
pipelines frames, so it still delivers every frame; a scene driven by firmware can only be
asked about "now", not about an exposure in the past). So a frame's stamp is up to
``latency`` ahead of the clock; readings subtract the calibrated delay, which brings them back
to the exposure instant. The true latency is known, so the calibration can be checked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import cv2
import numpy as np
import numpy.typing as npt

from tokenrig.harness.camera.frames import Frame
from tokenrig.harness.clock import Clock
from tokenrig.harness.sim.lcd_render import SEVERITIES, Severity, render_frame

States = npt.NDArray[np.float32]
Scene = Callable[[float], Sequence[States]]  # exposure time -> segment states per display
Led = Callable[[float], bool]  # exposure time -> is the relay LED lit
LED_BOX = (8, 8, 28, 28)  # where the rendered LED sits (x0, y0, x1, y1): the top-left corner


class LiveSimCamera:
    def __init__(
        self,
        clock: Clock,
        scene: Scene,
        *,
        fps: float = 30.0,
        latency: float = 0.08,
        led: Led | None = None,
        severity: Severity = SEVERITIES["mild"],
        size: tuple[int, int] = (640, 360),
        seed: int = 0,
        name: str = "simulated camera",
    ) -> None:
        self._clock = clock
        self._scene = scene
        self._fps = fps
        self.latency = latency
        self._led = led
        self._severity = severity
        self._size = size
        self._rng = np.random.default_rng(seed)
        self._seed = seed
        self._phase = float(self._rng.uniform(0, 1 / fps))
        self._name = name
        self.frames = 0
        self._last = -(1 << 62)

    @property
    def name(self) -> str:
        return self._name

    @property
    def fps(self) -> float:
        return self._fps

    def grab(self) -> Frame:
        now = self._clock.now()
        period = 1 / self._fps
        index = max(math.ceil((now - self._phase) / period), self._last + 1)
        self._last = index
        exposure = self._phase + index * period
        self._clock.sleep(max(exposure - now, 0.0))
        rendered = render_frame(
            list(self._scene(exposure)),
            severity=self._severity,
            size=self._size,
            rng=np.random.default_rng([int(self._rng.integers(1 << 30)), 11]),
            placement=np.random.default_rng([self._seed, 13]),  # the bench does not move
        )
        image = rendered.image
        if self._led is not None:
            x0, y0, x1, y1 = LED_BOX
            colour = (40, 40, 250) if self._led(exposure) else (40, 40, 70)
            cv2.rectangle(image, (x0, y0), (x1 - 1, y1 - 1), colour, thickness=-1)
        self.frames += 1
        return Frame(image, exposure + self.latency, index)

    def close(self) -> None:
        return None
