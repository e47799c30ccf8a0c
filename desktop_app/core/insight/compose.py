"""Laying out an insight pane: the frame scaled into one part of the pane, a panel of maps or tiles beside it,
captions that stay legible when the pane is shown small, and the coordinate maps a click needs to find its way
back from pane pixels to frame pixels and tiles. Pure numpy/cv2, shared by every insight runner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from desktop_app.core.insight.preprocess import InputGeometry
from desktop_app.core.insight.views import GridLayout
from desktop_app.core.render.heatmap import Colormap, colorize
from desktop_app.core.models.results import TaskResult
from desktop_app.core.render.annotate import scaled_result
from desktop_app.core.render.canvas import fill_into
from desktop_app.core.render.style import Corner, RenderStyle
from desktop_app.core.render.text import (
    draw_label_into,
    draw_text_into,
    fit_text_scale,
    measure_label,
    truncate_to_width,
)

BACKGROUND = (30, 30, 30)
CAPTION = (235, 235, 235)
DETAIL = (170, 220, 255)
HIGHLIGHT = (0, 255, 255)
# Top-k panels go top-right: the pipeline's HUD sits top-left.
PANEL_STYLE = RenderStyle(panel_corner=Corner.TOP_RIGHT)
# Panes are often shown at about this size (two or four side by side); text is sized to stay legible there.
DISPLAY_HW = (360, 640)


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned rectangle of pane pixels: top-left `x`, `y` and size `w`, `h`."""

    x: int
    y: int
    w: int
    h: int

    def contains(self, px: float, py: float) -> bool:
        return self.x <= px < self.x + self.w and self.y <= py < self.y + self.h

    def inset(self, margin: int) -> "Box":
        return Box(self.x + margin, self.y + margin, max(1, self.w - 2 * margin), max(1, self.h - 2 * margin))


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an image of `source_wh` sits on the pane after a uniform `scale`: `box` in pane pixels."""

    source_wh: tuple[int, int]
    box: Box
    scale: float

    def to_source(self, px: float, py: float) -> tuple[float, float] | None:
        """Pane pixel -> source pixel (continuous), or None outside the placed image."""
        if not self.box.contains(px, py):
            return None
        return ((px - self.box.x) / self.scale, (py - self.box.y) / self.scale)

    def to_pane_xyxy(self, xyxy: Sequence[float]) -> tuple[float, float, float, float]:
        """A source-pixel box in pane pixels."""
        s, b = self.scale, self.box
        return (b.x + xyxy[0] * s, b.y + xyxy[1] * s, b.x + xyxy[2] * s, b.y + xyxy[3] * s)


def fit(source_wh: tuple[int, int], box: Box, valign: str = "center") -> Placement:
    """The largest placement of `source_wh` inside `box` that keeps the aspect ratio, centred horizontally and
    aligned to the `top`, `center` or `bottom` of the box."""
    sw, sh = source_wh
    scale = min(box.w / sw, box.h / sh)
    w, h = max(1, round(sw * scale)), max(1, round(sh * scale))
    y = {"top": box.y, "bottom": box.y + box.h - h}.get(valign, box.y + (box.h - h) // 2)
    return Placement(source_wh, Box(box.x + (box.w - w) // 2, y, w, h), scale)


def split_for_panel(pane_wh: tuple[int, int], panel_fraction: float = 0.3) -> tuple[Box, Box]:
    """(view box, panel box): the panel takes `panel_fraction` of the longer side (right, or bottom when the
    pane is taller than wide), the view the rest."""
    w, h = pane_wh
    if w >= h:
        panel_w = max(1, round(w * panel_fraction))
        return Box(0, 0, w - panel_w, h), Box(w - panel_w, 0, panel_w, h)
    panel_h = max(1, round(h * panel_fraction))
    return Box(0, 0, w, h - panel_h), Box(0, h - panel_h, w, panel_h)


def split_even(box: Box, parts: int, gap: int = 4) -> list[Box]:
    """`box` cut into `parts` equal boxes along its longer side."""
    horizontal = box.w >= box.h
    total = box.w if horizontal else box.h
    size = max(1, (total - gap * (parts - 1)) // parts)
    boxes = []
    for i in range(parts):
        offset = i * (size + gap)
        boxes.append(Box(box.x + offset, box.y, size, box.h) if horizontal else Box(box.x, box.y + offset, box.w, size))
    return boxes


def blank(pane_wh: tuple[int, int]) -> np.ndarray:
    """A pane-sized canvas in the background colour."""
    canvas = np.empty((pane_wh[1], pane_wh[0], 3), np.uint8)
    fill_into(canvas, BACKGROUND)
    return canvas


def paste(canvas: np.ndarray, image: np.ndarray, placement: Placement, interpolation: int = cv2.INTER_LINEAR) -> None:
    """Resize `image` to `placement` and copy it onto `canvas` in place."""
    b = placement.box
    if image.shape[1] != b.w or image.shape[0] != b.h:
        image = cv2.resize(image, (b.w, b.h), interpolation=interpolation)
    canvas[b.y : b.y + b.h, b.x : b.x + b.w] = image


def text_scale(pane_hw: tuple[int, ...], base: float = 0.42) -> float:
    """A font scale that reads like `base` does on a pane shown at 640x360 (bigger frames, bigger text)."""
    factor = min(pane_hw[0] / DISPLAY_HW[0], pane_hw[1] / DISPLAY_HW[1])
    return max(0.35, base * max(1.0, factor))


def lines_height(count: int, scale: float) -> int:
    """Height `draw_lines` uses for `count` lines at `scale`."""
    size = measure_label("Ag", scale)
    return count * (size.height - size.padding) + 4


def draw_lines(canvas: np.ndarray, lines: Sequence[tuple[str, tuple[int, int, int]]], box: Box,
               scale: float) -> int:
    """Draw `(text, colour)` lines top-down in `box` (each shrunk or cut to fit); returns the height used."""
    step = lines_height(1, scale) - 4
    baseline = measure_label("Ag", scale).baseline
    y = box.y
    for text, color in lines:
        line_scale = fit_text_scale(text, box.w, scale, min_scale=scale * 0.7)
        text = truncate_to_width(text, box.w, line_scale)
        y += step
        draw_text_into(canvas, text, (box.x, y - baseline), color, line_scale)
    return y - box.y + 4


def best_grid(count: int, box: Box, aspect_hw: float, gap: int = 2) -> GridLayout:
    """The grid of `count` cells of aspect `h / w` that fits in `box` with big cells and few empty slots."""
    best, best_score = GridLayout(count, 1, (1, 1), gap), -1.0
    for columns in range(1, count + 1):
        rows = -(-count // columns)
        cell_w = min((box.w - gap * (columns + 1)) / columns, (box.h - gap * (rows + 1)) / rows / aspect_hw)
        score = cell_w * cell_w * count / (rows * columns)  # cell area, less the slots a ragged last row wastes
        if cell_w >= 1 and score > best_score:
            best_score = score
            best = GridLayout(count, columns, (int(cell_w), max(1, int(cell_w * aspect_hw))), gap)
    return best


def centred(layout: GridLayout, box: Box, valign: str = "center") -> tuple[int, int]:
    """Top-left pane pixel that centres the grid in `box` horizontally (vertically: `top`/`center`/`bottom`)."""
    w, h = layout.size_wh
    spare = max(0, box.h - h)
    y = {"top": 0, "bottom": spare}.get(valign, spare // 2)
    return box.x + max(0, (box.w - w) // 2), box.y + y


def resized_geometry(geometry: InputGeometry, size_wh: tuple[int, int]) -> InputGeometry:
    """The model-input map of the frame resized to `size_wh`: resized pixels -> input pixels."""
    sx, sy = size_wh[0] / geometry.frame_wh[0], size_wh[1] / geometry.frame_wh[1]
    return InputGeometry(size_wh, geometry.input_wh, (geometry.scale_xy[0] / sx, geometry.scale_xy[1] / sy),
                         geometry.offset_xy)


def heat_on_view(view_bgr: np.ndarray, heat_map: np.ndarray, geometry: InputGeometry, *, alpha: float = 0.45,
                 colormap: Colormap | str = Colormap.JET, detail: int = 4, dst: np.ndarray | None = None) -> np.ndarray:
    """`view_bgr` (the frame resized) with a model-input map (h, w) in [0, 1] blended over it, into `dst` (a
    view-sized region of the pane, written in place) or a new image.

    The map is resampled and coloured at 1/`detail` of the view's resolution, then smoothly upscaled: a heatmap
    has no finer detail than its feature map, and this keeps the per-frame cost low on big frames.
    """
    h, w = view_bgr.shape[:2]
    small = (max(1, w // detail), max(1, h // detail))
    heat = resized_geometry(geometry, small).heat_to_frame(heat_map)
    colored = cv2.resize(colorize(heat, colormap, value_range=(0.0, 1.0)), (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.addWeighted(view_bgr, 1.0 - alpha, colored, alpha, 0.0, dst=dst)


def region(canvas: np.ndarray, box: Box) -> np.ndarray:
    """The part of `canvas` under `box`, as a view (drawing on it draws on the canvas)."""
    return canvas[box.y : box.y + box.h, box.x : box.x + box.w]


def scale_result(result: TaskResult, placement: Placement) -> TaskResult:
    """`result` in the coordinates of the frame as placed on the pane (boxes and keypoints scaled; masks keep
    their resolution and are scaled by the mask renderer, over their own regions only)."""
    return scaled_result(result, (placement.scale, placement.scale))


def outline(canvas: np.ndarray, xyxy: Sequence[float], color=HIGHLIGHT, thickness: int = 2) -> None:
    """A rectangle outline (continuous pane-pixel edges) drawn in place."""
    x0, y0 = int(np.floor(xyxy[0])), int(np.floor(xyxy[1]))
    x1, y1 = int(np.ceil(xyxy[2])) - 1, int(np.ceil(xyxy[3])) - 1
    cv2.rectangle(canvas, (x0, y0), (max(x0, x1), max(y0, y1)), color, thickness)


class LabelStamps:
    """Small text labels (channel numbers) drawn once and pasted afterwards: drawing text costs far more than
    copying a few hundred pixels, and the same labels come back frame after frame."""

    def __init__(self, background: tuple[int, int, int] = (40, 40, 40), limit: int = 4096) -> None:
        self._background = background
        self._limit = limit
        self._patches: dict[tuple[str, float], np.ndarray] = {}

    def stamp(self, canvas: np.ndarray, text: str, top_left: tuple[int, int], scale: float) -> None:
        """Paste the label for `text` with its top-left corner at `top_left` (clipped to the canvas)."""
        patch = self._patches.get((text, scale))
        if patch is None:
            size = measure_label(text, scale)
            patch = np.empty((size.height, size.width, 3), np.uint8)
            draw_label_into(patch, text, (0, 0), self._background, scale, size=size)
            if len(self._patches) >= self._limit:
                self._patches.clear()
            self._patches[(text, scale)] = patch
        x, y = top_left
        h = min(patch.shape[0], canvas.shape[0] - y)
        w = min(patch.shape[1], canvas.shape[1] - x)
        if h > 0 and w > 0:
            canvas[y : y + h, x : x + w] = patch[:h, :w]
