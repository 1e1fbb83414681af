"""Reading a 6-digit seven-segment LCD from a camera frame, refusing whenever in doubt.

For a token display a wrong read is far worse than none: a misread code becomes a defect
reported against a healthy token. So the decoder does not "recognise digits"; it probes every
segment where the glass has it and decides on/off with a wide dead band:

1. the LCD window (a quadrilateral, found automatically or given per slot) is straightened
   with ``cv2.warpPerspective`` into the canonical window of
   :mod:`tokenrig.harness.camera.segments`, with a margin;
2. the all-segments ("888888") template of each known glyph style is aligned with
   ``cv2.matchTemplate``; the best style and offset win;
3. each segment's inner patch is averaged and compared with the glass around its digit;
   the darkness of each segment relative to the frame's lit level must be clearly on or
   clearly off: one segment half-way between (switching, glare, blur) rejects the frame;
4. the segment patterns must be digits, blanks only leading (a token that drops leading
   zeros shows them blank).

The result carries each segment's relative darkness so the caller can time a change inside
a frame (see :mod:`tokenrig.harness.camera.timing`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from tokenrig.harness.camera.segments import (
    CELL_W,
    DIGITS,
    GLYPH_STYLES,
    PATTERN_DIGIT,
    SEGMENTS,
    WINDOW_H,
    WINDOW_W,
    GlyphStyle,
    segment_masks,
)

Image = npt.NDArray[np.uint8]
Quad = npt.NDArray[np.float32]
MARGIN = 10  # canonical px searched around the straightened window
ON_RATIO = 0.62  # a segment this dark (relative to the lit level) or more is on
OFF_RATIO = 0.36  # ...this dark or less is off; in between rejects the frame
BLANK_CONTRAST = 0.10  # darkest segment below this fraction of the glass: display off
MIN_CONTRAST = 0.18  # lit segments must be at least this much darker than the glass
MIN_MATCH = 0.35  # template correlation below this: the window is not a display

Status = Literal["code", "off", "unread"]


@dataclass(frozen=True)
class Decoded:
    """One frame's reading of one display.

    ``status`` ``code``: ``code`` is what it shows (leading blanks stripped); ``off``: the
    display is blank; ``unread``: refused, ``reason`` says why. ``ratios`` is each segment's
    darkness relative to the lit level (digits x 7), for sub-frame timing.
    """

    status: Status
    code: str | None = None
    reason: str = ""
    ratios: npt.NDArray[np.float32] = field(
        default_factory=lambda: np.zeros((DIGITS, len(SEGMENTS)), dtype=np.float32)
    )
    match: float = 0.0


@dataclass(frozen=True)
class _Probe:
    style: GlyphStyle
    template: npt.NDArray[np.float32]
    seg_idx: list[npt.NDArray[np.intp]]  # flat indices in the canonical window, per segment
    bg_idx: list[npt.NDArray[np.intp]]  # glass around each digit


@lru_cache(maxsize=8)
def _probe(style: GlyphStyle) -> _Probe:
    full = segment_masks(style)
    inner = segment_masks(style, shrink=max(1.5, style.thickness * 0.22))
    union = np.asarray(full.reshape(-1, WINDOW_H, WINDOW_W).any(axis=0), dtype=np.uint8)
    near = cv2.dilate(union, np.ones((7, 7), np.uint8)).astype(bool)
    template = np.where(union.astype(bool), 60.0, 200.0).astype(np.float32)
    template = np.asarray(cv2.GaussianBlur(template, (0, 0), 1.5), dtype=np.float32)
    seg_idx = [np.flatnonzero(inner[d, s]) for d in range(DIGITS) for s in range(len(SEGMENTS))]
    bg_idx = []
    for d in range(DIGITS):
        cell = np.zeros((WINDOW_H, WINDOW_W), dtype=bool)
        cell[6 : WINDOW_H - 6, d * CELL_W + 3 : (d + 1) * CELL_W - 3] = True
        bg_idx.append(np.flatnonzero(cell & ~near))
    return _Probe(style, template, seg_idx, bg_idx)


def order_corners(points: npt.NDArray[np.float32]) -> Quad:
    """Four points as top-left, top-right, bottom-right, bottom-left."""
    pts = np.asarray(points, dtype=np.float32).reshape(4, 2)
    s = pts.sum(axis=1)
    d = pts[:, 1] - pts[:, 0]
    return np.array(
        [pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]],
        dtype=np.float32,
    )


def find_windows(frame: Image, *, min_area: float = 0.004) -> list[Quad]:
    """LCD windows in a frame: light quadrilaterals of a display's shape inside a dark body,
    sorted left to right, top to bottom (reading order of a grid of tokens)."""
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    gray = cv2.GaussianBlur(gray, (5, 5), 0)
    _, dark = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    contours, hierarchy = cv2.findContours(dark, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    area_min = min_area * gray.shape[0] * gray.shape[1]
    found: list[Quad] = []
    for index, contour in enumerate(contours):
        if hierarchy[0][index][3] < 0:  # outer boundary: a body, not the hole inside it
            continue
        area = cv2.contourArea(contour)
        if area < area_min:
            continue
        (w, h) = cv2.minAreaRect(contour)[1]
        long, short = max(w, h), min(w, h)
        if short <= 0 or not 2.0 <= long / short <= 6.0 or area < 0.75 * w * h:
            continue
        hull = cv2.convexHull(contour)
        approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
        corners = approx if len(approx) == 4 else cv2.boxPoints(cv2.minAreaRect(contour))
        found.append(order_corners(np.asarray(corners, dtype=np.float32)))
    rows = sorted(found, key=lambda q: float(q[:, 1].mean()))
    return _reading_order(rows)


def _reading_order(quads: list[Quad]) -> list[Quad]:
    ordered: list[Quad] = []
    row: list[Quad] = []
    for quad in quads:
        height = float(quad[:, 1].max() - quad[:, 1].min())
        if row and float(quad[:, 1].mean() - row[0][:, 1].mean()) > height / 2:
            ordered += sorted(row, key=lambda q: float(q[:, 0].mean()))
            row = []
        row.append(quad)
    return ordered + sorted(row, key=lambda q: float(q[:, 0].mean()))


def straighten(frame: Image, quad: Quad) -> npt.NDArray[np.float32]:
    """The window as grey levels in canonical coordinates, with :data:`MARGIN` around it."""
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    dst = np.array(
        [
            [MARGIN, MARGIN],
            [MARGIN + WINDOW_W, MARGIN],
            [MARGIN + WINDOW_W, MARGIN + WINDOW_H],
            [MARGIN, MARGIN + WINDOW_H],
        ],
        dtype=np.float32,
    )
    transform = cv2.getPerspectiveTransform(np.asarray(quad, dtype=np.float32), dst)
    size = (WINDOW_W + 2 * MARGIN, WINDOW_H + 2 * MARGIN)
    warped = cv2.warpPerspective(gray, transform, size, flags=cv2.INTER_LINEAR)
    return warped.astype(np.float32)


def decode(frame: Image, quad: Quad, styles: tuple[GlyphStyle, ...] = GLYPH_STYLES) -> Decoded:
    """Read the display whose window is ``quad`` in ``frame``, or refuse with a reason."""
    window = straighten(frame, quad)
    best: tuple[float, tuple[int, int], _Probe] | None = None
    for style in styles:
        probe = _probe(style)
        scores = cv2.matchTemplate(window, probe.template, cv2.TM_CCOEFF_NORMED)
        _, score, _, (x, y) = cv2.minMaxLoc(scores)
        if best is None or score > best[0]:
            best = (float(score), (x, y), probe)
    assert best is not None
    score, (x, y), probe = best
    aligned = window[y : y + WINDOW_H, x : x + WINDOW_W].reshape(-1)
    return _classify(aligned, probe, score)


def _classify(flat: npt.NDArray[np.float32], probe: _Probe, score: float) -> Decoded:
    n = len(SEGMENTS)
    glass = np.array([float(np.median(flat[idx])) for idx in probe.bg_idx], dtype=np.float32)
    seg = np.array([float(flat[idx].mean()) for idx in probe.seg_idx], dtype=np.float32)
    depth = (np.repeat(glass, n) - seg).reshape(DIGITS, n)
    level = float(np.median(glass))
    if level <= 1.0:
        return Decoded("unread", reason="window is black (no light or lens covered)", match=score)
    darkest = float(depth.max())
    if darkest < BLANK_CONTRAST * level:
        return Decoded("off", ratios=depth / level, match=score)
    if darkest < MIN_CONTRAST * level:
        return Decoded("unread", reason="too little contrast", ratios=depth / level, match=score)
    if score < MIN_MATCH:
        return Decoded("unread", reason=f"no display shape (match {score:.2f})", match=score)
    values = np.sort(depth.reshape(-1))
    split = _two_means(values)
    lit = float(values[values >= split].mean())
    ratios = (depth / lit).astype(np.float32)
    doubtful = np.argwhere((ratios > OFF_RATIO) & (ratios < ON_RATIO))
    if len(doubtful):
        d, s = (int(v) for v in doubtful[0])
        return Decoded(
            "unread",
            reason=f"digit {d + 1} segment {SEGMENTS[s]} half on ({ratios[d, s]:.2f})",
            ratios=ratios,
            match=score,
        )
    text = ""
    for d in range(DIGITS):
        digit = PATTERN_DIGIT.get(tuple(bool(r >= ON_RATIO) for r in ratios[d]))
        if digit is None:
            return Decoded(
                "unread", reason=f"digit {d + 1} is no digit", ratios=ratios, match=score
            )
        if digit == " " and text.strip():
            return Decoded(
                "unread", reason=f"digit {d + 1} blank inside the code", ratios=ratios, match=score
            )
        text += digit
    code = text.strip()
    if not code:
        return Decoded("off", ratios=ratios, match=score)
    return Decoded("code", code=code, ratios=ratios, match=score)


def _two_means(values: npt.NDArray[np.float32]) -> float:
    """The threshold splitting sorted ``values`` into two groups with the least spread."""
    best, split = np.inf, float(values[-1])
    for i in range(1, len(values)):
        low, high = values[:i], values[i:]
        cost = float(low.var() * len(low) + high.var() * len(high))
        if cost < best:
            best, split = cost, float(values[i])
    return split
