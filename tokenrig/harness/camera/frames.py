"""Where camera frames come from, each with the host time it was captured.

A frame's time is what every display reading is timed by, so each source says how it knows:

* a live camera (V4L2 device ``/dev/videoN`` or index, or an OpenCV/GStreamer URL): the host
  clock when ``VideoCapture.read`` returned; the camera's own latency is removed later by the
  rig's calibration (:mod:`tokenrig.harness.camera.calibration`);
* a video file: the container's presentation time (``CAP_PROP_POS_MSEC``);
* a directory of images, sorted by name: ``index / fps``.

All sources are :class:`FrameSource`; the simulated camera
(:mod:`tokenrig.harness.sim.camera`) is one too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from tokenrig.harness.clock import SYSTEM_CLOCK, Clock
from tokenrig.harness.tokens.base import InfrastructureError

Image = npt.NDArray[np.uint8]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
MAX_QUEUED = 8  # V4L2 buffers a webcam driver keeps, at most (usually 4)
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".mjpg", ".mjpeg")


@dataclass(frozen=True)
class Frame:
    image: Image
    t: float  # seconds: host time (live) or time from the start (files)
    index: int
    name: str | None = None  # file name, for image directories


class FrameSource(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def fps(self) -> float: ...

    def grab(self) -> Frame | None:
        """The next frame; ``None`` at the end of a file (a live camera raises instead)."""
        ...

    def close(self) -> None: ...


class ImageDirSource:
    """Images in a directory, sorted by name, timed ``index / fps``."""

    def __init__(self, directory: Path, *, fps: float = 30.0) -> None:
        self._files = sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self._files:
            raise InfrastructureError(f"{directory}: no images ({', '.join(IMAGE_SUFFIXES)})")
        self._dir = directory
        self._fps = fps
        self._next = 0

    @property
    def name(self) -> str:
        return str(self._dir)

    @property
    def fps(self) -> float:
        return self._fps

    def grab(self) -> Frame | None:
        while self._next < len(self._files):
            path = self._files[self._next]
            index = self._next
            self._next += 1
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise InfrastructureError(f"{path}: not an image OpenCV can read")
            return Frame(np.asarray(image, dtype=np.uint8), index / self._fps, index, path.name)
        return None

    def close(self) -> None:
        return None


class OpenCvSource:
    """A camera or a video file through ``cv2.VideoCapture``."""

    def __init__(
        self,
        spec: str,
        *,
        clock: Clock = SYSTEM_CLOCK,
        fps: float | None = None,
        capture: Any = None,
    ) -> None:
        self._spec = spec
        self._clock = clock
        self._live = not Path(spec).is_file()
        target: int | str = int(spec) if spec.isdigit() else spec
        match = re.fullmatch(r"/dev/video(\d+)", spec)
        if match:
            target = int(match.group(1))
        api = cv2.CAP_V4L2 if isinstance(target, int) else cv2.CAP_ANY
        # ``capture``: an object with VideoCapture's methods (tests stand in for a camera).
        self._cap = capture if capture is not None else cv2.VideoCapture(target, api)
        if not self._cap.isOpened():
            hint = (
                "check it is plugged in (v4l2-ctl --list-devices) and that this user is in "
                "group video"
                if isinstance(target, int)
                else "check the file or URL (OpenCV must have a backend for it)"
            )
            raise InfrastructureError(f"camera {spec}: cannot open; {hint}")
        if fps is not None and self._live:
            self._cap.set(cv2.CAP_PROP_FPS, fps)
        reported = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self._fps = fps or (reported if reported > 0 else 30.0)
        self._index = 0
        self.dropped = 0  # queued frames skipped to deliver fresh ones (live cameras)

    @property
    def name(self) -> str:
        return self._spec

    @property
    def fps(self) -> float:
        return self._fps

    def grab(self) -> Frame | None:
        if self._live:
            return self._grab_fresh()
        ok, image = self._cap.read()
        now = self._clock.now()
        if not ok or image is None:
            if self._live:
                raise InfrastructureError(f"camera {self._spec}: no frame (unplugged?)")
            return None
        index = self._index
        self._index += 1
        t = now if self._live else float(self._cap.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
        if not self._live and t <= 0.0 and index > 0:
            t = index / self._fps  # containers without timestamps
        return Frame(np.asarray(image, dtype=np.uint8), t, index)

    def _grab_fresh(self) -> Frame:
        """The newest frame of a live camera. V4L2 keeps a few frames queued; a reader that
        was busy would get old frames stamped now. A queued frame comes back at once, a fresh
        one only when the camera delivers it: so grab until one grab waits for the camera
        (a third of a frame or more), up to :data:`MAX_QUEUED` frames, then decode that one."""
        wait = 1 / (3 * self._fps)
        dropped = -1
        while True:
            started = self._clock.now()
            if not self._cap.grab():
                raise InfrastructureError(f"camera {self._spec}: no frame (unplugged?)")
            now = self._clock.now()
            dropped += 1
            if now - started >= wait or dropped >= MAX_QUEUED:
                break
        self.dropped += dropped
        ok, image = self._cap.retrieve()
        if not ok or image is None:
            raise InfrastructureError(f"camera {self._spec}: no frame (unplugged?)")
        index = self._index
        self._index += 1
        return Frame(np.asarray(image, dtype=np.uint8), now, index)

    def close(self) -> None:
        self._cap.release()


def open_source(spec: str, *, clock: Clock = SYSTEM_CLOCK, fps: float | None = None) -> FrameSource:
    """A directory of images, a video file, a V4L2 device or a URL."""
    path = Path(spec)
    if path.is_dir():
        return ImageDirSource(path, fps=fps or 30.0)
    looks_like_file = spec.startswith("/") or path.suffix.lower() in VIDEO_SUFFIXES
    if not path.exists() and looks_like_file and not spec.startswith("/dev/"):
        raise InfrastructureError(f"{spec}: no such file or directory")
    return OpenCvSource(spec, clock=clock, fps=fps)


def frames(source: FrameSource) -> Iterator[Frame]:
    while (frame := source.grab()) is not None:
        yield frame
