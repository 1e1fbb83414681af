"""Webcam-like frames of 6-digit seven-segment LCDs, for testing the camera rig without one.

A frame is what a cheap USB camera sees of a bench: tokens (dark bodies with a grey-green LCD
window) on a desk, a little out of square, lit unevenly. :class:`Severity` says how bad the
picture is (blur, sensor noise, a glare spot, perspective, exposure, JPEG artefacts, the faint
"ghost" of unlit segments); :func:`render_frame` draws any segment states, including segments
half-way through switching, so the decoder's timing and its refusal of in-between frames are
tested against the same physics a real LCD shows. Everything is drawn from a seeded
:class:`numpy.random.Generator`, so a failing frame can be drawn again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

from tokenrig.harness.camera.segments import (
    DIGITS,
    GLYPH_STYLES,
    SEGMENTS,
    WINDOW_H,
    WINDOW_W,
    GlyphStyle,
    segment_polygons,
)

Image = npt.NDArray[np.uint8]
FloatImage = npt.NDArray[np.float32]
Quad = npt.NDArray[np.float32]  # 4 corners (tl, tr, br, bl) in frame pixels

_PAD = 36  # token body around the LCD window, canonical px
_SUPER = 8  # fillPoly sub-pixel bits


@dataclass(frozen=True)
class LcdStyle:
    """How a model's LCD looks: glyph shape, glass and ink colours (BGR), body colour."""

    glyph: GlyphStyle = GLYPH_STYLES[0]
    glass: tuple[float, float, float] = (168.0, 186.0, 176.0)
    ink: tuple[float, float, float] = (46.0, 56.0, 52.0)
    body: tuple[float, float, float] = (38.0, 38.0, 42.0)


STYLES: dict[str, LcdStyle] = {
    "reflective": LcdStyle(),
    "thin": LcdStyle(glyph=GLYPH_STYLES[1], glass=(178.0, 190.0, 186.0), ink=(60.0, 64.0, 62.0)),
    "bold": LcdStyle(glyph=GLYPH_STYLES[2], glass=(150.0, 170.0, 165.0), ink=(40.0, 44.0, 40.0)),
    "italic": LcdStyle(glyph=GLYPH_STYLES[3], glass=(190.0, 200.0, 170.0), ink=(50.0, 50.0, 40.0)),
}


@dataclass(frozen=True)
class Severity:
    """How bad the picture is; each value is the upper end of a uniform draw per frame."""

    name: str
    blur: float  # Gaussian sigma, frame px
    noise: float  # sensor noise sigma, grey levels
    glare: float  # peak of an additive glare spot, grey levels
    perspective: float  # corner jitter, fraction of the window's width
    exposure: float  # gain drawn from 1 +- this
    jpeg: int  # worst JPEG quality
    ghost: float  # darkness of unlit segments (0 none, 1 as dark as lit)


SEVERITIES: dict[str, Severity] = {
    "mild": Severity("mild", 0.8, 3.0, 20.0, 0.02, 0.15, 85, 0.05),
    "normal": Severity("normal", 1.6, 6.0, 60.0, 0.05, 0.3, 60, 0.12),
    "harsh": Severity("harsh", 2.4, 10.0, 110.0, 0.08, 0.45, 35, 0.2),
}


@dataclass(frozen=True)
class RenderedFrame:
    """A frame and, per display, where its LCD window is (the ground truth for tests)."""

    image: Image
    quads: tuple[Quad, ...]


@lru_cache(maxsize=16)
def _segment_weights(glyph: GlyphStyle) -> FloatImage:
    """Anti-aliased coverage of each segment, shape (digits*7, H, W), 0..1."""
    weights = np.zeros((DIGITS * len(SEGMENTS), WINDOW_H, WINDOW_W), dtype=np.float32)
    scale = 1 << _SUPER
    for d, polys in enumerate(segment_polygons(glyph)):
        for s, poly in enumerate(polys):
            layer = np.zeros((WINDOW_H, WINDOW_W), dtype=np.uint8)
            pts = np.round(poly * scale).astype(np.int32)
            cv2.fillPoly(layer, [pts], 255, cv2.LINE_AA, _SUPER)
            weights[d * len(SEGMENTS) + s] = layer.astype(np.float32) / 255.0
    return weights


def render_window(
    states: npt.NDArray[np.float32], style: LcdStyle = STYLES["reflective"], *, ghost: float = 0.0
) -> FloatImage:
    """The straightened LCD window (H, W, 3) for segment states (digits, 7) in 0..1."""
    darkness = np.clip(ghost + (1.0 - ghost) * states.reshape(-1), 0.0, 1.0).astype(np.float32)
    cover = np.tensordot(darkness, _segment_weights(style.glyph), axes=1)
    glass = np.array(style.glass, dtype=np.float32)
    ink = np.array(style.ink, dtype=np.float32)
    return np.asarray(glass + cover[..., None] * (ink - glass), dtype=np.float32)


def _card(window: FloatImage, style: LcdStyle) -> FloatImage:
    card = np.empty((WINDOW_H + 2 * _PAD, WINDOW_W + 2 * _PAD, 3), dtype=np.float32)
    card[:] = np.array(style.body, dtype=np.float32)
    card[_PAD : _PAD + WINDOW_H, _PAD : _PAD + WINDOW_W] = window
    return card


def grid_layout(count: int, size: tuple[int, int]) -> list[tuple[float, float, float]]:
    """Centre (x, y) and window width for ``count`` tokens in a grid filling a ``size`` frame."""
    width, height = size
    cols = 1 if count == 1 else 2 if count <= 4 else 4
    rows = -(-count // cols)
    cell_w, cell_h = width / cols, height / rows
    window_w = min(cell_w * 0.62, cell_h * 0.62 * WINDOW_W / WINDOW_H)
    return [((i % cols + 0.5) * cell_w, (i // cols + 0.5) * cell_h, window_w) for i in range(count)]


def render_frame(
    displays: Sequence[npt.NDArray[np.float32]],
    *,
    severity: Severity = SEVERITIES["mild"],
    rng: np.random.Generator | None = None,
    size: tuple[int, int] = (640, 360),
    styles: Sequence[LcdStyle] | None = None,
    layout: Sequence[tuple[float, float, float]] | None = None,
    placement: np.random.Generator | None = None,
) -> RenderedFrame:
    """One camera frame of ``displays`` (segment states per display) laid out in a grid.

    ``placement`` (default: ``rng``) draws where each body sits: give a generator seeded the
    same for every frame to film tokens that do not move (a fixed camera over a fixed bench).
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    place = placement if placement is not None else rng
    width, height = size
    places = list(layout) if layout is not None else grid_layout(len(displays), size)
    frame = _desk(rng, width, height)
    quads = []
    for index, states in enumerate(displays):
        style = styles[index % len(styles)] if styles else STYLES["reflective"]
        ghost = float(rng.uniform(0.0, severity.ghost))
        card = _card(render_window(states, style, ghost=ghost), style)
        cx, cy, window_w = places[index]
        transform = _placement(place, cx, cy, window_w, severity.perspective)
        cv2.warpPerspective(
            card, transform, (width, height), frame, cv2.INTER_LINEAR, cv2.BORDER_TRANSPARENT
        )
        corners = np.array(
            [
                [_PAD, _PAD],
                [_PAD + WINDOW_W, _PAD],
                [_PAD + WINDOW_W, _PAD + WINDOW_H],
                [_PAD, _PAD + WINDOW_H],
            ],
            dtype=np.float32,
        )
        quads.append(cv2.perspectiveTransform(corners[None], transform)[0])
    return RenderedFrame(_camera(frame, rng, severity), tuple(quads))


def _desk(rng: np.random.Generator, width: int, height: int) -> FloatImage:
    base = rng.uniform(90, 130)
    ramp = np.linspace(-15, 15, width, dtype=np.float32)[None, :, None]
    frame = np.empty((height, width, 3), dtype=np.float32)
    frame[:] = np.array([base * 0.9, base, base * 1.05], dtype=np.float32)
    return frame + ramp


def _placement(
    rng: np.random.Generator, cx: float, cy: float, window_w: float, perspective: float
) -> npt.NDArray[np.float64]:
    scale = window_w / WINDOW_W
    card_w, card_h = WINDOW_W + 2 * _PAD, WINDOW_H + 2 * _PAD
    src = np.array([[0, 0], [card_w, 0], [card_w, card_h], [0, card_h]], dtype=np.float32)
    angle = rng.uniform(-0.05, 0.05) * (1 + perspective * 10)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centred = (src - [card_w / 2, card_h / 2]) * scale
    jitter = rng.uniform(-perspective, perspective, (4, 2)) * window_w
    dst = (centred @ rot.T + [cx, cy] + jitter).astype(np.float32)
    return np.asarray(cv2.getPerspectiveTransform(src, dst), dtype=np.float64)


def _camera(frame: FloatImage, rng: np.random.Generator, severity: Severity) -> Image:
    height, width = frame.shape[:2]
    frame *= float(rng.uniform(1 - severity.exposure, 1 + severity.exposure))
    if severity.glare > 0:
        gx, gy = rng.uniform(0, width), rng.uniform(0, height)
        radius = rng.uniform(0.05, 0.2) * width
        ys, xs = np.ogrid[:height, :width]
        spot = np.exp(-((xs - gx) ** 2 + (ys - gy) ** 2) / (2 * radius**2)).astype(np.float32)
        frame += (float(rng.uniform(0, severity.glare)) * spot)[..., None]
    sigma = float(rng.uniform(0.3, severity.blur))
    frame = np.asarray(cv2.GaussianBlur(frame, (0, 0), sigma), dtype=np.float32)
    frame += rng.normal(0.0, float(rng.uniform(0.5, 1.0)) * severity.noise, frame.shape).astype(
        np.float32
    )
    image = np.clip(frame, 0, 255).astype(np.uint8)
    quality = int(rng.integers(severity.jpeg, 96))
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV always encodes a valid image
        return image
    return np.asarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR), dtype=np.uint8)
