"""Status text over the frame: a small translucent HUD box and a full-width warning banner."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import numpy as np

from desktop_app.core.render.canvas import blend_rect_into, corner_origin, new_canvas
from desktop_app.core.render.colors import BGR, WHITE, readable_text_color
from desktop_app.core.render.style import Corner, RenderStyle
from desktop_app.core.render.text import draw_text_into, fit_text_scale, measure_label, text_thickness

HUD_COLOR: BGR = (16, 16, 16)
UNTRAINED_TEXT = "UNTRAINED \u2014 random weights, not a prediction"


class BannerLevel(str, Enum):
    """How serious a banner is; sets its colour."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


BANNER_COLORS: dict[BannerLevel, BGR] = {
    BannerLevel.INFO: (150, 90, 30),     # blue
    BannerLevel.WARNING: (0, 180, 255),  # amber
    BannerLevel.ERROR: (40, 40, 210),    # red
}


class Edge(str, Enum):
    """The frame edge a banner sits on."""

    TOP = "top"
    BOTTOM = "bottom"


def _text_scale(shape: tuple[int, ...], scale: float | None) -> float:
    return scale if scale is not None else RenderStyle().text_scale_for(shape)


def _hud_layout(shape: tuple[int, ...], lines: Sequence[str], corner: Corner, scale: float):
    thickness = text_thickness(scale)
    sizes = [measure_label(line, scale, thickness) for line in lines]
    line_h = max(s.height for s in sizes) - sizes[0].padding  # rows share their padding
    pad = sizes[0].padding
    box_w = max(s.width for s in sizes) + pad
    box_h = line_h * len(lines) + 2 * pad
    height, width = shape[:2]
    margin = max(4, round(min(width, height) * 0.02))
    x0, y0 = corner_origin(corner, (box_w, box_h), (width, height), margin)
    return (x0, y0, x0 + box_w, y0 + box_h), sizes, line_h, pad, thickness


def hud_rect(shape: tuple[int, ...], lines: Sequence[str], corner: Corner | str = Corner.TOP_LEFT, *,
             scale: float | None = None) -> tuple[int, int, int, int] | None:
    """The (x0, y0, x1, y1) box `draw_hud` would cover on an image of `shape`, or None for no lines."""
    if not lines:
        return None
    return _hud_layout(shape, [str(line) for line in lines], Corner(corner), _text_scale(shape, scale))[0]


def draw_hud(
    image: np.ndarray,
    lines: Sequence[str],
    corner: Corner | str = Corner.TOP_LEFT,
    *,
    alpha: float = 0.6,
    scale: float | None = None,
) -> np.ndarray:
    """A copy of `image` with `lines` of white text on a small translucent dark box in `corner`."""
    canvas = new_canvas(image)
    lines = [str(line) for line in lines]
    if not lines:
        return canvas
    scale = _text_scale(canvas.shape, scale)
    (x0, y0, x1, y1), sizes, line_h, pad, thickness = _hud_layout(canvas.shape, lines, Corner(corner), scale)
    blend_rect_into(canvas, x0, y0, x1, y1, HUD_COLOR, alpha)
    for row, (line, size) in enumerate(zip(lines, sizes)):
        baseline_y = y0 + pad + (row + 1) * line_h - size.baseline - pad // 2
        draw_text_into(canvas, line, (x0 + pad, baseline_y), WHITE, scale, thickness)
    return canvas


def draw_banner(
    image: np.ndarray,
    text: str = UNTRAINED_TEXT,
    level: BannerLevel | str = BannerLevel.WARNING,
    *,
    edge: Edge | str = Edge.BOTTOM,
    alpha: float = 0.85,
) -> np.ndarray:
    """A copy of `image` with a full-width banner of `text` (shrunk to fit) on `edge`, coloured by `level`.

    Used to mark untrained models ("UNTRAINED - random weights, not a prediction") and other warnings.
    """
    canvas = new_canvas(image)
    draw_banner_into(canvas, text, level, edge=edge, alpha=alpha)
    return canvas


def draw_banner_into(
    canvas: np.ndarray,
    text: str = UNTRAINED_TEXT,
    level: BannerLevel | str = BannerLevel.WARNING,
    *,
    edge: Edge | str = Edge.BOTTOM,
    alpha: float = 0.85,
) -> None:
    """`draw_banner` in place, on a canvas the caller owns (e.g. one `annotate` just returned)."""
    level, edge = BannerLevel(level), Edge(edge)
    height, width = canvas.shape[:2]
    scale = fit_text_scale(text, int(width * 0.96), _text_scale(canvas.shape, None) * 1.15)
    thickness = text_thickness(scale)
    size = measure_label(text, scale, thickness)
    banner_h = min(height, size.height + size.padding)
    y0 = 0 if edge is Edge.TOP else height - banner_h
    background = BANNER_COLORS[level]
    blend_rect_into(canvas, 0, y0, width, y0 + banner_h, background, alpha)
    x = max(0, (width - size.width) // 2 + size.padding)
    baseline_y = y0 + banner_h - size.padding - size.baseline
    draw_text_into(canvas, text, (x, baseline_y), readable_text_color(background), scale, thickness)
