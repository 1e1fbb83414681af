"""The ``[camera]`` table of a camera rig file, as validated data.

Kept apart from the rig kind so that ``tokenrig camera read --rig FILE`` can use a rig file's
regions without opening relays or readers. Every mistake names the file and the key, as the
other rig-file errors do (:class:`~tokenrig.harness.rigs.config.RigFileError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tokenrig.harness.rigs.config import RigConfig, RigFileError

SIM_SOURCE = "sim"
_CAMERA_KEYS = {
    "source",
    "fps",
    "board",
    "power",
    "press_ms",
    "nfc_reader",
    "led",
    "calibration",
    "latency_ms",
    "lcd_delay_ms",
    "slot",
}
_SLOT_KEYS = {"slot", "channel", "command", "region", "nfc_reader"}


@dataclass(frozen=True)
class CameraSlot:
    slot: int
    channel: int | None = None  # relay channel across the button
    command: str | None = None  # or a command presser
    region: tuple[tuple[float, float], ...] | None = None  # LCD window corners; None: found
    nfc_reader: str | None = None  # this slot's own PC/SC reader (else camera.nfc_reader)

    def quad(self) -> npt.NDArray[np.float32] | None:
        return None if self.region is None else np.array(self.region, dtype=np.float32)


@dataclass(frozen=True)
class CameraOptions:
    source: str
    fps: float = 30.0
    board: str | None = None
    power: int | None = None
    press_ms: int = 200
    nfc_reader: str | None = None  # a PC/SC reader shared by the slots without their own
    led: tuple[int, int, int, int] | None = None
    calibration: str | None = None
    latency_ms: float | None = None  # stated instead of calibrated
    lcd_delay_ms: float | None = None
    slots: tuple[CameraSlot, ...] = ()

    @property
    def simulated(self) -> bool:
        return self.source == SIM_SOURCE

    def slot(self, number: int) -> CameraSlot:
        for entry in self.slots:
            if entry.slot == number:
                return entry
        return CameraSlot(number)

    def reader_for(self, number: int) -> tuple[str | None, bool]:
        """The NFC reader slot ``number`` burns through, and whether it is the shared one."""
        own = self.slot(number).nfc_reader
        return (own, False) if own is not None else (self.nfc_reader, self.nfc_reader is not None)

    def calibration_file(self, rig_source: str) -> Path | None:
        if self.calibration:
            base = Path(rig_source).parent if rig_source else Path.cwd()
            return base / self.calibration
        if rig_source and Path(rig_source).suffix == ".toml":
            return Path(rig_source).with_name(Path(rig_source).stem + ".calibration.json")
        return None


def camera_options(config: RigConfig) -> CameraOptions:
    """The ``[camera]`` table of ``config`` (a rig file of ``kind = "camera"``)."""
    src = config.source or "(rig)"
    raw = config.options.get("camera")
    if not isinstance(raw, Mapping):
        raise RigFileError(src, "camera", "a camera rig needs a [camera] table with source")
    unknown = sorted(set(raw) - _CAMERA_KEYS)
    if unknown:
        raise RigFileError(
            src, f"camera.{unknown[0]}", f"unknown key (known: {sorted(_CAMERA_KEYS)})"
        )
    source = raw.get("source")
    if isinstance(source, int) and not isinstance(source, bool):
        source = str(source)
    if not isinstance(source, str) or not source:
        raise RigFileError(src, "camera.source", "a V4L2 device, index, URL, file, dir or 'sim'")
    slots = []
    entries = raw.get("slot", [])
    if not isinstance(entries, list):
        raise RigFileError(src, "camera.slot", "must be an array of tables ([[camera.slot]])")
    for i, entry in enumerate(entries, start=1):
        slots.append(_slot(entry, f"camera.slot[{i}]", src))
    led = raw.get("led")
    return CameraOptions(
        source=source,
        fps=_number(raw, "fps", src, 30.0, low=1.0, high=240.0),
        board=_text(raw, "board", src),
        power=_channel(raw.get("power"), "camera.power", src),
        press_ms=int(_number(raw, "press_ms", src, 200, low=10, high=10_000)),
        nfc_reader=_text(raw, "nfc_reader", src),
        led=_box(led, src) if led is not None else None,
        calibration=_text(raw, "calibration", src),
        latency_ms=_optional(raw, "latency_ms", src),
        lcd_delay_ms=_optional(raw, "lcd_delay_ms", src),
        slots=tuple(slots),
    )


def _slot(entry: object, where: str, src: str) -> CameraSlot:
    if not isinstance(entry, Mapping):
        raise RigFileError(src, where, "must be a table")
    unknown = sorted(set(entry) - _SLOT_KEYS)
    if unknown:
        raise RigFileError(
            src, f"{where}.{unknown[0]}", f"unknown key (known: {sorted(_SLOT_KEYS)})"
        )
    number = entry.get("slot")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise RigFileError(src, f"{where}.slot", "must be a slot number (1, 2, ...)")
    command = entry.get("command")
    if command is not None and (not isinstance(command, str) or not command.strip()):
        raise RigFileError(src, f"{where}.command", "must be a command line")
    region = entry.get("region")
    corners = None
    if region is not None:
        ok = isinstance(region, list) and len(region) == 4
        ok = ok and all(
            isinstance(p, list)
            and len(p) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p)
            for p in region
        )
        if not ok:
            raise RigFileError(
                src, f"{where}.region", "four corners [[x, y], ...] (tl, tr, br, bl) in pixels"
            )
        corners = tuple((float(p[0]), float(p[1])) for p in region)
    reader = entry.get("nfc_reader")
    if reader is not None and (not isinstance(reader, str) or not reader):
        raise RigFileError(src, f"{where}.nfc_reader", "must be a PC/SC reader name")
    return CameraSlot(
        number, _channel(entry.get("channel"), f"{where}.channel", src), command, corners, reader
    )


def _channel(value: object, key: str, src: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 16:
        raise RigFileError(src, key, "a relay channel number, 1-16")
    return value


def _text(raw: Mapping[str, Any], key: str, src: str) -> str | None:
    value = raw.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise RigFileError(src, f"camera.{key}", "must be a non-empty string")
    return value


def _number(
    raw: Mapping[str, Any], key: str, src: str, default: float, *, low: float, high: float
) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise RigFileError(src, f"camera.{key}", f"a number from {low:g} to {high:g}")
    return float(value)


def _optional(raw: Mapping[str, Any], key: str, src: str) -> float | None:
    if key not in raw:
        return None
    return _number(raw, key, src, 0.0, low=0.0, high=2000.0)


def _box(value: object, src: str) -> tuple[int, int, int, int]:
    if (
        isinstance(value, list)
        and len(value) == 4
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
        and value[0] < value[2]
        and value[1] < value[3]
    ):
        return (int(value[0]), int(value[1]), int(value[2]), int(value[3]))
    raise RigFileError(src, "camera.led", "the LED's box [x0, y0, x1, y1] in pixels")
