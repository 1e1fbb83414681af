"""Display readings you can trust, from a stream of frames of one token's LCD window.

The decoder refuses a frame when in doubt; this layer adds the checks across frames:

* a code (or "off") counts only once it held for ``confirm`` consecutive frames (2);
* when the harness knows what the token was burned with (:class:`Expected`), a code that is
  none of the codes of steps t-2..t+2 (leading zeros dropped allowed) is held to a stricter
  rule: ``confirm_unexpected`` frames (4). It is still reported: a token showing a wrong
  code is a finding, never an "unread";
* the reading is timed by the first new frame showing the code (after the frame of the
  previous reading), minus the rig's calibrated delay, so two readings either side of a
  display change bracket it to about one frame. ``uncertainty`` is the calibration's.

A display that stays unreadable for ``give_up`` frames raises an
:class:`~tokenrig.harness.tokens.base.InfrastructureError` quoting the decoder's reason: a rig
problem (light, focus, position), never a token defect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tokenrig.harness.camera.calibration import UNCALIBRATED, Calibration
from tokenrig.harness.camera.decoder import Decoded, Quad, decode, find_windows
from tokenrig.harness.camera.frames import Frame
from tokenrig.harness.otp.hotp import Algorithm, hotp, time_step
from tokenrig.harness.secrets import Secret
from tokenrig.harness.tokens.base import DisplayReading, InfrastructureError


@dataclass(frozen=True)
class Expected:
    """What the token was burned with, so reads can be checked against steps t-2..t+2."""

    secret: Secret
    algorithm: Algorithm
    period: int
    digits: int

    def codes_near(self, host_time: float, steps: int = 2) -> set[str]:
        now = time_step(max(host_time, 0.0), period=self.period)
        key = self.secret.reveal()
        return {
            hotp(key, step, digits=self.digits, algorithm=self.algorithm)
            for step in range(max(now - steps, 0), now + steps + 1)
        }

    def plausible(self, code: str, host_time: float) -> bool:
        near = self.codes_near(host_time)
        return code.zfill(self.digits) in near or any(c.endswith(code) for c in near)


Grab = Callable[[], Frame]


@dataclass
class _Run:
    value: str | None  # code, or None for "off"
    frames: list[Frame]  # frames of the run not yet reported
    count: int  # frames of the run in a row, reported or not


class SlotReader:
    """Confirmed readings of the display in ``quad`` (``None``: the one LCD window found in
    each frame); ``grab`` returns the next frame."""

    def __init__(
        self,
        grab: Grab,
        quad: Quad | None,
        *,
        calibration: Calibration = UNCALIBRATED,
        confirm: int = 2,
        confirm_unexpected: int = 4,
        give_up: int = 90,
        where: str = "camera slot",
    ) -> None:
        self._grab = grab
        self._quad = quad
        self.calibration = calibration
        self.expected: Expected | None = None
        self._confirm = confirm
        self._confirm_unexpected = confirm_unexpected
        self._give_up = give_up
        self._where = where
        self._run: _Run | None = None
        self.last_decoded: Decoded | None = None

    @property
    def quad(self) -> Quad | None:
        return self._quad

    def read(self) -> DisplayReading:
        """Grab frames until the display's state is confirmed; at least one new frame."""
        unread = 0
        while True:
            frame = self._grab()
            decoded = read_frame(frame, self._quad)
            self.last_decoded = decoded
            if decoded.status == "unread":
                unread += 1
                self._run = None
                if unread >= self._give_up:
                    raise InfrastructureError(
                        f"{self._where}: display unreadable in {unread} frames ({decoded.reason})"
                    )
                continue
            value = decoded.code if decoded.status == "code" else None
            run = self._run
            if run is None or run.value != value:
                self._run = run = _Run(value, [frame], 1)
            else:
                run.frames.append(frame)
                run.count += 1
            if run.count >= self._needed(run):
                reading = self._reading(run, frame)
                run.frames = []
                return reading

    def _needed(self, run: _Run) -> int:
        if run.value is None or self.expected is None:
            return self._confirm
        t = run.frames[0].t - self.calibration.delay
        ok = self.expected.plausible(run.value, t)
        return self._confirm if ok else self._confirm_unexpected

    def _reading(self, run: _Run, last: Frame) -> DisplayReading:
        first = run.frames[0]
        t = first.t - self.calibration.delay
        extra = {"frame": str(first.index), "frames": str(run.count)}
        if run.value is not None and self.expected is not None:
            extra["plausible"] = "yes" if self.expected.plausible(run.value, t) else "no"
        return DisplayReading(
            code=run.value, host_time=t, uncertainty=self.calibration.uncertainty, extra=extra
        )


def read_frame(frame: Frame, quad: Quad | None) -> Decoded:
    """One frame's decoding of the window ``quad``, or of the one window found in it."""
    if quad is not None:
        return decode(frame.image, quad)
    windows = find_windows(frame.image)
    if len(windows) != 1:
        return Decoded("unread", reason=f"{len(windows)} LCD windows found, expected 1")
    return decode(frame.image, windows[0])
