"""Where the segments of a 6-digit seven-segment LCD are, in one canonical straightened window.

The renderer draws displays with this geometry and the decoder probes the same places, so the
two can never disagree about what "segment b of digit 3" is. A real LCD is brought into this
frame by a perspective warp of its window (:mod:`tokenrig.harness.camera.decoder`); glass that
differs (thicker strokes, italic digits) is covered by the small set of :data:`GLYPH_STYLES`
the decoder tries when it aligns a window.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

DIGITS = 6
SEGMENTS = "abcdefg"
CELL_W = 64
WINDOW_W = DIGITS * CELL_W
WINDOW_H = 112
# The digit box inside a cell (x0, y0, x1, y1), before slant.
BOX = (14, 14, 50, 98)

# Which segments each digit lights (a top, b top right, c bottom right, d bottom,
# e bottom left, f top left, g middle).
DIGIT_SEGMENTS: dict[str, str] = {
    "0": "abcdef",
    "1": "bc",
    "2": "abdeg",
    "3": "abcdg",
    "4": "bcfg",
    "5": "acdfg",
    "6": "acdefg",
    "7": "abc",
    "8": "abcdefg",
    "9": "abcdfg",
    " ": "",
}
PATTERN_DIGIT: dict[tuple[bool, ...], str] = {
    tuple(s in segs for s in SEGMENTS): d for d, segs in DIGIT_SEGMENTS.items()
}
# Some LCDs show 6 and 9 without the tail (a / d off): accepted as the same digits.
PATTERN_DIGIT[tuple(s in "cdefg" for s in SEGMENTS)] = "6"
PATTERN_DIGIT[tuple(s in "abcfg" for s in SEGMENTS)] = "9"

Polygon = npt.NDArray[np.float32]


@dataclass(frozen=True)
class GlyphStyle:
    """Stroke thickness (px in the canonical window) and italic slant (dx per dy)."""

    thickness: float = 8.0
    slant: float = 0.0


GLYPH_STYLES: tuple[GlyphStyle, ...] = (
    GlyphStyle(8.0, 0.0),
    GlyphStyle(6.0, 0.0),
    GlyphStyle(10.0, 0.0),
    GlyphStyle(8.0, 0.12),
)


def segment_polygons(style: GlyphStyle, *, shrink: float = 0.0) -> list[list[Polygon]]:
    """Per digit, per segment a..g: the segment's outline (a hexagon-ish bar), ``shrink`` px in."""
    x0, y0, x1, y1 = BOX
    t = style.thickness
    h = t / 2
    ym = (y0 + y1) / 2
    gap = 1.5 + shrink
    bars = {
        "a": ((x0 + h, y0 + h), (x1 - h, y0 + h)),
        "b": ((x1 - h, y0 + h), (x1 - h, ym)),
        "c": ((x1 - h, ym), (x1 - h, y1 - h)),
        "d": ((x0 + h, y1 - h), (x1 - h, y1 - h)),
        "e": ((x0 + h, ym), (x0 + h, y1 - h)),
        "f": ((x0 + h, y0 + h), (x0 + h, ym)),
        "g": ((x0 + h, ym), (x1 - h, ym)),
    }
    out: list[list[Polygon]] = []
    for digit in range(DIGITS):
        dx = digit * CELL_W
        polys = []
        for name in SEGMENTS:
            (ax, ay), (bx, by) = bars[name]
            polys.append(_bar(ax + dx, ay, bx + dx, by, h - shrink, gap, style.slant, ym))
        out.append(polys)
    return out


def _bar(
    ax: float, ay: float, bx: float, by: float, half: float, gap: float, slant: float, ym: float
) -> Polygon:
    """A bar from a to b with pointed ends (as LCD glass draws them), slanted about ``ym``."""
    half = max(half, 0.5)
    if ay == by:  # horizontal
        pts = [
            (ax + gap, ay),
            (ax + gap + half, ay - half),
            (bx - gap - half, by - half),
            (bx - gap, by),
            (bx - gap - half, by + half),
            (ax + gap + half, ay + half),
        ]
    else:
        pts = [
            (ax, ay + gap),
            (ax + half, ay + gap + half),
            (bx + half, by - gap - half),
            (bx, by - gap),
            (bx - half, by - gap - half),
            (ax - half, ay + gap + half),
        ]
    return np.array([(x + slant * (ym - y), y) for x, y in pts], dtype=np.float32)


def segment_masks(style: GlyphStyle, *, shrink: float = 0.0) -> npt.NDArray[np.bool_]:
    """Boolean masks, shape (digits, 7, H, W), of each segment in the canonical window."""
    masks = np.zeros((DIGITS, len(SEGMENTS), WINDOW_H, WINDOW_W), dtype=np.uint8)
    for d, polys in enumerate(segment_polygons(style, shrink=shrink)):
        for s, poly in enumerate(polys):
            cv2.fillPoly(masks[d, s], [np.round(poly * 4).astype(np.int32)], 1, cv2.LINE_8, 2)
    return masks.astype(bool)


def code_segments(code: str | None) -> npt.NDArray[np.float32]:
    """Segment states (digits, 7) in 0..1 for a code as the LCD shows it (right-aligned)."""
    states = np.zeros((DIGITS, len(SEGMENTS)), dtype=np.float32)
    if code is None:
        return states
    text = code.rjust(DIGITS)[-DIGITS:]
    for d, char in enumerate(text):
        lit = DIGIT_SEGMENTS.get(char, "")
        for s, name in enumerate(SEGMENTS):
            states[d, s] = 1.0 if name in lit else 0.0
    return states
