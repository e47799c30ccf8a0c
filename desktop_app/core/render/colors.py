"""Stable colours: one fixed palette, indexed by class id or track id, and text colours that read on them."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from desktop_app.core.models.results import Detections
from desktop_app.core.render.style import ColorBy

BGR = tuple[int, int, int]


def _hex_to_bgr(hex_rgb: str) -> BGR:
    value = int(hex_rgb, 16)
    return (value & 0xFF, (value >> 8) & 0xFF, (value >> 16) & 0xFF)


# Saturated, mutually distinct colours (after Trubetskoy's "20 distinct colours", without the near-black and
# near-grey entries that vanish on video). Neighbouring entries differ strongly in hue, so classes 0, 1, 2...
# never look alike.
_PALETTE_HEX = (
    "E6194B", "3CB44B", "FFE119", "4363D8", "F58231", "911EB4", "42D4F4", "F032E6", "BFEF45",
    "FABED4", "469990", "DCBEFF", "9A6324", "FFFAC8", "800000", "AAFFC3", "808000", "FFD8B1",
)
PALETTE: tuple[BGR, ...] = tuple(_hex_to_bgr(h) for h in _PALETTE_HEX)
PALETTE_ARRAY = np.array(PALETTE, dtype=np.uint8)
PALETTE_ARRAY.setflags(write=False)

# Track ids step through the palette 7 entries at a time (7 is coprime with its length), so consecutive tracks
# of the same class still get clearly different colours.
_TRACK_STEP = 7


def class_color(class_id: int) -> BGR:
    """The colour of a class id (BGR), the same in every frame and every run."""
    return PALETTE[int(class_id) % len(PALETTE)]


def track_color(track_id: int) -> BGR:
    """The colour of a track id (BGR), the same for the whole life of the track."""
    return PALETTE[(int(track_id) * _TRACK_STEP) % len(PALETTE)]


def palette_indices(detections: Detections, color_by: ColorBy = ColorBy.AUTO) -> np.ndarray:
    """Palette index per object, (n,) int64, following `color_by`."""
    use_track = color_by is ColorBy.TRACK or (color_by is ColorBy.AUTO and detections.track_id is not None)
    if use_track and detections.track_id is not None:
        return (detections.track_id * _TRACK_STEP) % len(PALETTE)
    return detections.class_id % len(PALETTE)


def detection_colors(detections: Detections, color_by: ColorBy = ColorBy.AUTO) -> np.ndarray:
    """BGR colour per object, (n, 3) uint8."""
    return PALETTE_ARRAY[palette_indices(detections, color_by)]


def _relative_luminance(bgr: BGR) -> float:
    # WCAG 2 relative luminance of an sRGB colour.
    def linear(channel: int) -> float:
        c = channel / 255.0
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    b, g, r = bgr
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast_ratio(a: BGR, b: BGR) -> float:
    """WCAG contrast ratio between two colours, from 1 (same) to 21 (black on white)."""
    la, lb = sorted((_relative_luminance(a), _relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


BLACK: BGR = (0, 0, 0)
WHITE: BGR = (255, 255, 255)


def readable_text_color(background: BGR) -> BGR:
    """Black or white, whichever contrasts more with `background`."""
    return _readable_text_color(tuple(int(c) for c in background))


@lru_cache(maxsize=1024)  # a handful of palette colours repeat every frame
def _readable_text_color(background: BGR) -> BGR:
    return BLACK if contrast_ratio(background, BLACK) >= contrast_ratio(background, WHITE) else WHITE
