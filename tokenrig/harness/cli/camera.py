"""``tokenrig camera``: read token displays from a camera, a video file or a folder of images.

``read`` prints one JSON object per display per frame, so a lab can check what the camera rig
would see before trusting it with a qualification; ``snapshot`` draws the regions it uses on
one frame; ``calibrate`` measures a camera rig's latency and LCD delay and stores them.
OpenCV is imported only when a sub-command runs (it is an optional dependency).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tokenrig.harness.cli.main import EXIT_OK, UsageError
from tokenrig.harness.rigs.config import RigFileError, load_rig_file
from tokenrig.harness.tokens.base import TokenError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "camera",
        help="read token displays with a camera (tokenrig camera read|snapshot|calibrate)",
        description="Camera rig tools: read displays from a camera, video or image folder.",
    )
    sub = parser.add_subparsers(dest="camera_command", metavar="ACTION")
    sub.required = True
    read = sub.add_parser("read", help="decode every frame; one JSON line per display")
    read.add_argument("path", metavar="PATH", help="video file, image folder, device or URL")
    read.add_argument("--rig", metavar="FILE", help="camera rig file: its regions per slot")
    read.add_argument("--fps", type=float, help="image folders: frame rate for t_ms (30)")
    read.add_argument("--frames", type=int, help="stop after N frames (live cameras)")
    read.set_defaults(func=_read)
    snap = sub.add_parser("snapshot", help="one frame as a PNG with the regions drawn")
    snap.add_argument("path", metavar="PATH", help="video file, image folder, device or URL")
    snap.add_argument("--rig", metavar="FILE", help="camera rig file: its regions per slot")
    snap.add_argument("--out", metavar="PNG", required=True, help="where to write the PNG")
    snap.set_defaults(func=_snapshot)
    cal = sub.add_parser("calibrate", help="measure camera latency and LCD delay of a rig")
    cal.add_argument("--rig", metavar="FILE", required=True, help="camera rig file")
    cal.add_argument("--slot", type=int, default=1, help="slot whose presser lights the LED")
    cal.add_argument(
        "--latency-only",
        action="store_true",
        help="only the camera latency (the LCD delay needs a burned token in the slot)",
    )
    cal.set_defaults(func=_calibrate)


def _regions(rig: str | None) -> dict[int, Any] | None:
    """Slot -> window quad (None: found in each frame) from a rig file; None without one."""
    if rig is None:
        return None
    from tokenrig.harness.camera.config import camera_options

    try:
        options = camera_options(load_rig_file(rig))
        config = load_rig_file(rig)
    except RigFileError as exc:
        raise UsageError(str(exc)) from None
    numbers = [s.slot for s in config.slots] or [s.slot for s in options.slots] or [1]
    return {n: options.slot(n).quad() for n in sorted(numbers)}


def _open(path: str, fps: float | None) -> Any:
    from tokenrig.harness.camera.frames import open_source

    try:
        return open_source(path, fps=fps)
    except TokenError as exc:
        raise UsageError(str(exc)) from None


def _decodings(frame: Any, regions: dict[int, Any] | None) -> list[tuple[int, Any, Any]]:
    """(slot, quad or None, Decoded) per display in ``frame``."""
    from tokenrig.harness.camera.decoder import decode, find_windows
    from tokenrig.harness.camera.reading import read_frame

    if regions is None:
        found = find_windows(frame.image)
        quad = found[0] if len(found) == 1 else None
        return [(1, quad, read_frame(frame, None))]
    out: list[tuple[int, Any, Any]] = []
    found_all: list[Any] | None = None
    for position, (slot, quad) in enumerate(regions.items()):
        if quad is None:
            found_all = found_all if found_all is not None else find_windows(frame.image)
            quad = found_all[position] if position < len(found_all) else None
        if quad is None:
            from tokenrig.harness.camera.decoder import Decoded

            out.append((slot, None, Decoded("unread", reason="no LCD window found for the slot")))
        else:
            out.append((slot, quad, decode(frame.image, quad)))
    return out


def _read(args: argparse.Namespace) -> int:
    regions = _regions(args.rig)
    source = _open(args.path, args.fps)
    count = 0
    try:
        while args.frames is None or count < args.frames:
            try:
                frame = source.grab()
            except TokenError as exc:
                raise UsageError(str(exc)) from None
            if frame is None:
                break
            if count == 0 and frame.image.size == 0:
                raise UsageError(f"{args.path}: empty frames")
            count += 1
            for slot, _, decoded in _decodings(frame, regions):
                line: dict[str, Any] = (
                    {"file": frame.name} if frame.name is not None else {"frame": frame.index}
                )
                line.update(
                    t_ms=round(frame.t * 1000, 1),
                    slot=slot,
                    code=decoded.code if decoded.status == "code" else None,
                    status=decoded.status,
                )
                if decoded.reason:
                    line["reason"] = decoded.reason
                print(json.dumps(line), flush=True)
    finally:
        source.close()
    if count == 0:
        raise UsageError(f"{args.path}: no frame could be read (not a video OpenCV can decode?)")
    return EXIT_OK


def _snapshot(args: argparse.Namespace) -> int:
    import cv2
    import numpy as np

    regions = _regions(args.rig)
    source = _open(args.path, None)
    try:
        frame = source.grab()
    except TokenError as exc:
        raise UsageError(str(exc)) from None
    finally:
        source.close()
    if frame is None:
        raise UsageError(f"{args.path}: no frame could be read (not a video OpenCV can decode?)")
    image = frame.image.copy()
    drawn = 0
    for slot, quad, decoded in _decodings(frame, regions):
        if quad is None:
            continue
        ok = decoded.status == "code"
        colour = (0, 200, 0) if ok else (0, 160, 255) if decoded.status == "off" else (0, 0, 255)
        pts = np.round(quad).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(image, [pts], True, colour, 2)
        label = f"{slot}: {decoded.code if ok else decoded.status}"
        x, y = int(quad[0][0]), max(int(quad[0][1]) - 6, 12)
        cv2.putText(image, label, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
        drawn += 1
    out = Path(args.out)
    if not cv2.imwrite(str(out), image):
        raise UsageError(f"{out}: cannot write the PNG")
    print(f"{out}: {drawn} region(s) drawn", file=sys.stderr)
    return EXIT_OK


def _calibrate(args: argparse.Namespace) -> int:
    from tokenrig.harness.camera.calibration import save_calibration
    from tokenrig.harness.camera.rig_kind import calibrate_rig

    try:
        config = load_rig_file(args.rig)
        calibration, path = calibrate_rig(config, args.slot, lcd=not args.latency_only)
    except (RigFileError, TokenError) as exc:
        raise UsageError(str(exc)) from None
    save_calibration(path, calibration)
    print(
        json.dumps(
            {
                "camera_latency_ms": round(calibration.camera_latency * 1000, 1),
                "lcd_delay_ms": round(calibration.lcd_delay * 1000, 1),
                "uncertainty_ms": round(calibration.uncertainty * 1000, 1),
                "samples": calibration.samples,
                "file": str(path),
            }
        )
    )
    return EXIT_OK
