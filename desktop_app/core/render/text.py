"""Text drawn with cv2's built-in Hershey font (no font files, nothing downloaded), on filled label boxes."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import cv2
import numpy as np

from desktop_app.core.render.canvas import new_canvas
from desktop_app.core.render.colors import BGR, readable_text_color

FONT = cv2.FONT_HERSHEY_SIMPLEX

# Hershey fonts only have ASCII glyphs and draw '?' for anything else; these read naturally when replaced.
_ASCII_FALLBACKS = str.maketrans({
    "\u2014": "-", "\u2013": "-", "\u2212": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u2026": "...", "\u00d7": "x", "\u00b7": "-", "\u2022": "-", "\u00a0": " ",
})


def ascii_safe(text: str) -> str:
    """`text` in the ASCII the Hershey font can draw: accents dropped, dashes and quotes simplified."""
    text = str(text).translate(_ASCII_FALLBACKS)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c if c.isascii() else ("" if unicodedata.combining(c) else "?") for c in decomposed)


def text_thickness(scale: float) -> int:
    """Stroke thickness that keeps Hershey glyphs crisp at this scale."""
    return 1 if scale < 0.8 else 2


@dataclass(frozen=True, slots=True)
class LabelBox:
    """Size of a text label with its padding: `width`, `height` in pixels; `baseline` and `padding` inside it."""

    width: int
    height: int
    baseline: int
    padding: int


def measure_label(text: str, scale: float, thickness: int | None = None) -> LabelBox:
    """How big a label with this text will be."""
    thickness = thickness or text_thickness(scale)
    (tw, th), baseline = cv2.getTextSize(ascii_safe(text), FONT, scale, thickness)
    padding = max(2, round(th * 0.3))
    return LabelBox(tw + 2 * padding, th + baseline + 2 * padding, baseline, padding)


def place_label(size: LabelBox, box_x0: int, box_y0: int, frame_wh: tuple[int, int],
                keep_clear: tuple[int, int, int, int] | None = None) -> tuple[int, int]:
    """Top-left corner for a box label: above the box's top edge, inside the box when there is no room above,
    and just below `keep_clear` (an area such as the HUD) when it would land there.

    The label is then shifted to stay inside the frame wherever it fits.
    """
    width, height = frame_wh
    x = box_x0
    y = box_y0 - size.height  # above the box
    if y < 0:
        y = box_y0  # no room above: hang inside the box, under its top edge
    x = max(0, min(x, width - size.width))
    if keep_clear is not None:
        cx0, cy0, cx1, cy1 = keep_clear
        if x < cx1 and x + size.width > cx0 and y < cy1 and y + size.height > cy0:
            y = cy1  # under the kept-clear area, still at the box's left edge
    y = min(y, height - size.height)
    return x, max(0, y)


def draw_label_into(
    canvas: np.ndarray,
    text: str,
    top_left: tuple[int, int],
    background: BGR,
    scale: float,
    thickness: int | None = None,
    text_color: BGR | None = None,
    size: LabelBox | None = None,
) -> LabelBox:
    """Draw `text` on a filled `background` box whose top-left corner is `top_left`, in place; cv2 clips it.

    The text colour is black or white, whichever reads better on the background, unless given. `size` is
    `measure_label(text, scale, thickness)` when the caller already has it.
    """
    thickness = thickness or text_thickness(scale)
    size = size or measure_label(text, scale, thickness)
    x, y = int(top_left[0]), int(top_left[1])
    background = tuple(int(c) for c in background)
    cv2.rectangle(canvas, (x, y), (x + size.width - 1, y + size.height - 1), background, cv2.FILLED)
    origin = (x + size.padding, y + size.height - size.padding - size.baseline)
    color = text_color or readable_text_color(background)
    cv2.putText(canvas, ascii_safe(text), origin, FONT, scale, color, thickness, cv2.LINE_AA)
    return size


def draw_text_into(
    canvas: np.ndarray, text: str, origin: tuple[int, int], color: BGR, scale: float, thickness: int | None = None
) -> None:
    """Draw bare `text` with its baseline starting at `origin`, in place (for panels that supply the contrast)."""
    thickness = thickness or text_thickness(scale)
    cv2.putText(canvas, ascii_safe(text), (int(origin[0]), int(origin[1])), FONT, scale,
                tuple(int(c) for c in color), thickness, cv2.LINE_AA)


def fit_text_scale(text: str, max_width: int, scale: float, min_scale: float = 0.3) -> float:
    """The largest scale <= `scale` at which `text` fits in `max_width` pixels (never below `min_scale`)."""
    size = measure_label(text, scale)
    if size.width <= max_width:
        return scale
    return max(min_scale, scale * max_width / size.width)


def truncate_to_width(text: str, max_width: int, scale: float) -> str:
    """`text` cut with '...' so that its label fits in `max_width` pixels."""
    text = ascii_safe(text)
    if measure_label(text, scale).width <= max_width:
        return text
    while len(text) > 1 and measure_label(text + "...", scale).width > max_width:
        text = text[:-1]
    return text + "..."


def draw_label(
    image: np.ndarray, text: str, top_left: tuple[int, int], background: BGR, scale: float = 0.6
) -> np.ndarray:
    """A copy of `image` with a filled text label at `top_left`."""
    canvas = new_canvas(image)
    draw_label_into(canvas, text, top_left, background, scale)
    return canvas
