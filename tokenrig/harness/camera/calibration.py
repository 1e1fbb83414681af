"""How late a camera sees a display change, measured once per rig and applied to every read.

Two delays sit between a token's electronics switching the display and the host time stamped
on the frame that shows it: the camera's latency (exposure to delivery, typically 50-150 ms
for a USB webcam) and the LCD's own switching time (the liquid crystal takes tens of ms to
turn dark enough to read). Both are constant for a rig, so they are measured and subtracted:

* **camera latency**: a relay channel's LED is in view (the DCT Tech boards have one per
  channel). The host switches it at a known time; the first frame where it is lit is stamped
  latency plus a uniform 0..1 frame later. Repeated at random phases, the mean minus half a
  frame is the latency.
* **LCD delay**: with the display off, the button is pressed through the same channel; the
  frames from the LED lighting to the first frame with a readable code give the delay from
  the contact closing to a readable display. That includes the firmware's wake-up, so it is
  an upper bound of the switching delay, and it is what a step change costs as well.

The result is stored per rig as JSON (default: next to the rig file,
``<rig>.calibration.json``) and the camera rig applies it to every reading.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tokenrig.harness.camera.frames import Frame, FrameSource
from tokenrig.harness.clock import Clock
from tokenrig.harness.tokens.base import InfrastructureError

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels


@dataclass(frozen=True)
class Calibration:
    camera_latency: float = 0.0  # s: frame time stamp minus the moment it shows
    lcd_delay: float = 0.0  # s: contact closed (or step boundary) to a readable display
    uncertainty: float = 0.0  # s: one standard error of the total
    samples: int = 0

    @property
    def delay(self) -> float:
        return self.camera_latency + self.lcd_delay


UNCALIBRATED = Calibration()


def calibration_path(rig_file: Path) -> Path:
    return rig_file.with_name(rig_file.stem + ".calibration.json")


def load_calibration(path: Path) -> Calibration:
    """The stored calibration, or :data:`UNCALIBRATED` when there is none yet."""
    if not path.exists():
        return UNCALIBRATED
    try:
        data = json.loads(path.read_text())
        return Calibration(**{k: data[k] for k in asdict(UNCALIBRATED)})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InfrastructureError(f"{path}: not a camera calibration ({exc})") from None


def save_calibration(path: Path, calibration: Calibration) -> None:
    path.write_text(json.dumps(asdict(calibration), indent=2) + "\n")


def led_level(frame: Frame, box: Box) -> float:
    x0, y0, x1, y1 = box
    patch = frame.image[y0:y1, x0:x1]
    if patch.size == 0:
        raise InfrastructureError(
            f"LED box {box} is outside the {frame.image.shape[1]}x{frame.image.shape[0]} frame"
        )
    return float(np.asarray(patch, dtype=np.float32)[..., 2].mean())  # red channel


Switch = Callable[[bool], None]
ReadsCode = Callable[[Frame], bool | None]  # True code, False off, None unread


def calibrate(
    source: FrameSource,
    clock: Clock,
    *,
    led: Box,
    switch: Switch,
    reads_code: ReadsCode | None = None,
    wait_off: Callable[[], None] | None = None,
    toggles: int = 12,
    presses: int = 4,
    rng: np.random.Generator | None = None,
) -> Calibration:
    """Measure the camera latency with ``switch`` (a relay channel whose LED is in ``led``),
    then, if ``reads_code`` is given, the LCD delay by pressing through the same channel
    ``presses`` times (``wait_off`` waits until the display is off again)."""
    rng = rng if rng is not None else np.random.default_rng()
    frame_s = 1.0 / source.fps
    off = _level(source, led)
    switch(True)
    on = _level(source, led)
    switch(False)
    if on - off < 40:
        raise InfrastructureError(
            f"LED box {led}: lit and unlit differ by {on - off:.0f} grey levels (< 40); put "
            "the relay board's LED in view and give its box in the rig file"
        )
    threshold = (on + off) / 2
    lags: list[float] = []
    for _ in range(toggles):
        _drain(source, 3)
        clock.sleep(float(rng.uniform(0, frame_s)))
        start = clock.now()
        switch(True)
        lit = _first(source, lambda f: led_level(f, led) > threshold)
        lags.append(lit.t - start)
        switch(False)
        _first(source, lambda f: led_level(f, led) < threshold)
    latency = statistics.fmean(lags) - frame_s / 2
    spread = [statistics.stdev(lags) / math.sqrt(len(lags)) if len(lags) > 1 else frame_s]
    lcd = 0.0
    if reads_code is not None:
        delays = []
        for _ in range(presses):
            if wait_off is not None:
                wait_off()
            _drain(source, 2)
            clock.sleep(float(rng.uniform(0, frame_s)))
            switch(True)
            pressed = clock.now()
            lit = _first(source, lambda f: led_level(f, led) > threshold)
            shown = _hold_and_watch(source, clock, switch, reads_code, lit, pressed)
            delays.append(shown.t - lit.t)
        lcd = statistics.fmean(delays)
        if len(delays) > 1:
            spread.append(statistics.stdev(delays) / math.sqrt(len(delays)))
    return Calibration(
        camera_latency=round(latency, 4),
        lcd_delay=round(lcd, 4),
        uncertainty=round(math.hypot(*spread), 4),
        samples=len(lags),
    )


PRESS_S = 0.15  # how long the calibration press holds the contact


def _hold_and_watch(
    source: FrameSource,
    clock: Clock,
    switch: Switch,
    reads_code: ReadsCode,
    lit: Frame,
    pressed: float,
    limit: int = 300,
) -> Frame:
    """The first frame from ``lit`` on with a readable code, releasing the contact after
    :data:`PRESS_S` *while still watching*: sleeping through the hold would skip the frames in
    which the display comes on (a fresh-frame camera drops them) and bias the delay up to the
    hold's length."""
    closed = True
    frame = lit
    try:
        for _ in range(limit):
            if reads_code(frame) is True:
                return frame
            if closed and clock.now() - pressed >= PRESS_S:
                switch(False)
                closed = False
            frame = _grab(source)
    finally:
        if closed:
            switch(False)
    raise InfrastructureError(
        f"camera {source.name}: no readable code in {limit} frames after a press while "
        "calibrating (display or region not in view?)"
    )


def _grab(source: FrameSource) -> Frame:
    frame = source.grab()
    if frame is None:
        raise InfrastructureError(f"camera {source.name}: ran out of frames while calibrating")
    return frame


def _drain(source: FrameSource, count: int) -> None:
    for _ in range(count):
        _grab(source)


def _level(source: FrameSource, led: Box) -> float:
    _drain(source, 3)
    return statistics.median(led_level(_grab(source), led) for _ in range(3))


def _first(
    source: FrameSource,
    test: Callable[[Frame], bool],
    *,
    start: Frame | None = None,
    limit: int = 300,
) -> Frame:
    if start is not None and test(start):
        return start
    for _ in range(limit):
        frame = _grab(source)
        if test(frame):
            return frame
    raise InfrastructureError(
        f"camera {source.name}: nothing changed in {limit} frames while calibrating "
        "(LED or display not in view?)"
    )
