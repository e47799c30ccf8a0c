"""Convolution, padding, pooling and stride worked out by hand on a small patch of the live frame.

Pure numpy, so every number on the panel can be checked with a pencil. As in every CNN library, "convolution"
here is cross-correlation: the kernel is not flipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from desktop_app.core.render.text import draw_text_into

_KERNELS = {
    "sobel_x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "sobel_y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "blur": [[1 / 9] * 3] * 3,
    "edge": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
}


class LessonKernel(str, Enum):
    """The 3×3 kernels the panel offers."""

    SOBEL_X = "sobel_x"  # vertical edges (brightness changing left → right)
    SOBEL_Y = "sobel_y"  # horizontal edges
    SHARPEN = "sharpen"
    BLUR = "blur"  # box blur, 1/9 each
    EDGE = "edge"  # Laplacian-style outline detector

    @property
    def weights(self) -> np.ndarray:
        """(3, 3) float32."""
        return np.array(_KERNELS[self.value], dtype=np.float32)


class Padding(str, Enum):
    """'same' zero-pads so stride 1 keeps the size; 'valid' does not pad and the output shrinks."""

    SAME = "same"
    VALID = "valid"


def correlate2d(x: np.ndarray, kernel: np.ndarray, padding: Padding = Padding.VALID, stride: int = 1) -> np.ndarray:
    """2-D cross-correlation of an (h, w) map with a (k, k) kernel (odd k), float32."""
    x = np.asarray(x, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    k = kernel.shape[0]
    if kernel.shape != (k, k) or k % 2 == 0:
        raise ValueError(f"kernel must be square with an odd side, got {kernel.shape}")
    if Padding(padding) is Padding.SAME:
        x = np.pad(x, k // 2)
    windows = sliding_window_view(x, (k, k))[::stride, ::stride]
    return np.einsum("ijkl,kl->ij", windows, kernel).astype(np.float32)


def max_pool2d(x: np.ndarray, size: int = 2, stride: int = 2) -> np.ndarray:
    """Max over each size×size window, moving `stride` cells at a time (no padding)."""
    windows = sliding_window_view(np.asarray(x, dtype=np.float32), (size, size))[::stride, ::stride]
    return windows.max(axis=(2, 3))


@dataclass(frozen=True, slots=True)
class LessonStage:
    """One grid of the panel: `values` (h, w) float32, a title and what happened to the shape."""

    title: str
    values: np.ndarray
    detail: str

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.values.shape[0]), int(self.values.shape[1]))


@dataclass(frozen=True, slots=True)
class ConvLesson:
    """A frame patch taken through a 3×3 kernel with both paddings, a 2×2 max pool and a stride-2 step.

    `patch_xyxy` is where the patch came from, in frame pixels (half-open). Stages, in order: input patch,
    kernel, same-padded conv, valid conv, max pool of the same-padded conv, stride-2 conv.
    """

    kernel: LessonKernel
    patch_xyxy: tuple[int, int, int, int]
    stages: tuple[LessonStage, ...]

    def stage(self, title_start: str) -> LessonStage:
        """The first stage whose title starts with `title_start` (case-insensitive)."""
        for stage in self.stages:
            if stage.title.lower().startswith(title_start.lower()):
                return stage
        raise KeyError(title_start)


def conv_lesson(
    image_bgr: np.ndarray, center_xy: tuple[int, int], kernel: LessonKernel = LessonKernel.SOBEL_X,
    patch_size: int = 8,
) -> ConvLesson:
    """Work the lesson on the grey patch of `patch_size` pixels around `center_xy` (moved inside the frame)."""
    if patch_size < 4 or patch_size % 2:
        raise ValueError(f"patch_size must be even and at least 4, got {patch_size}")
    h, w = image_bgr.shape[:2]
    if h < patch_size or w < patch_size:
        raise ValueError(f"the frame ({w}x{h}) is smaller than the {patch_size}x{patch_size} patch")
    x0 = int(np.clip(center_xy[0] - patch_size // 2, 0, w - patch_size))
    y0 = int(np.clip(center_xy[1] - patch_size // 2, 0, h - patch_size))
    grey = cv2.cvtColor(image_bgr[y0 : y0 + patch_size, x0 : x0 + patch_size], cv2.COLOR_BGR2GRAY)
    patch = grey.astype(np.float32)
    kernel = LessonKernel(kernel)
    weights = kernel.weights
    same = correlate2d(patch, weights, Padding.SAME)
    valid = correlate2d(patch, weights, Padding.VALID)
    pooled = max_pool2d(same)
    strided = correlate2d(patch, weights, Padding.SAME, stride=2)
    n = patch_size
    stages = (
        LessonStage("Input patch (grey)", patch, f"{n}x{n} pixels"),
        LessonStage(f"Kernel {kernel.value}", weights, "3x3, slides over the patch"),
        LessonStage("Conv, same padding", same, f"{n}x{n} -> {_hw(same)} (zero border of 1)"),
        LessonStage("Conv, valid padding", valid, f"{n}x{n} -> {_hw(valid)} (no border: edges lost)"),
        LessonStage("Max pool 2x2", pooled, f"{_hw(same)} -> {_hw(pooled)} (largest of each 2x2)"),
        LessonStage("Conv, stride 2", strided, f"{n}x{n} -> {_hw(strided)} (every 2nd position)"),
    )
    for stage in stages:
        stage.values.setflags(write=False)
    return ConvLesson(kernel, (x0, y0, x0 + n, y0 + n), stages)


def render_lesson(lesson: ConvLesson, *, cell_px: int = 34) -> np.ndarray:
    """The panel: every stage as a grid of numbers coloured by value, with its title and shape change."""
    margin, title_h, detail_h = 10, 22, 20
    rows = [lesson.stages[:4], lesson.stages[4:]]
    grids = [[_grid_image(stage, cell_px) for stage in row] for row in rows]
    widths = [[max(g.shape[1], _text_width(s.title), _text_width(s.detail, 0.4)) for g, s in zip(gs, row)]
              for gs, row in zip(grids, rows)]
    heights = [max(g.shape[0] for g in gs) + title_h + detail_h for gs in grids]
    canvas_w = max(sum(ws) + margin * (len(ws) + 1) for ws in widths)
    canvas = np.full((sum(heights) + margin * (len(rows) + 1), canvas_w, 3), 24, np.uint8)
    y = margin
    for gs, row, ws, row_h in zip(grids, rows, widths, heights):
        x = margin
        for grid, stage, width in zip(gs, row, ws):
            gh, gw = grid.shape[:2]
            draw_text_into(canvas, stage.title, (x, y + 15), (255, 255, 255), 0.45)
            canvas[y + title_h : y + title_h + gh, x : x + gw] = grid
            draw_text_into(canvas, stage.detail, (x, y + title_h + gh + 15), (170, 220, 255), 0.4)
            x += width + margin
        y += row_h + margin
    return canvas


def _grid_image(stage: LessonStage, cell_px: int) -> np.ndarray:
    values = stage.values
    h, w = values.shape
    grid = np.zeros((h * cell_px + 1, w * cell_px + 1, 3), np.uint8)
    is_pixels = stage.title.startswith("Input")
    scale = float(np.abs(values).max()) or 1.0
    for i in range(h):
        for j in range(w):
            v = float(values[i, j])
            if is_pixels:
                color = (int(v),) * 3
            else:  # diverging: red for positive, blue for negative, white-ish strength by magnitude
                t = min(1.0, abs(v) / scale)
                color = (int(255 * (1 - t)), int(255 * (1 - t)), 255) if v >= 0 else (255, int(255 * (1 - t)),
                                                                                        int(255 * (1 - t)))
                color = tuple(int(c * 0.85) for c in color)
            x0, y0 = j * cell_px, i * cell_px
            cv2.rectangle(grid, (x0, y0), (x0 + cell_px, y0 + cell_px), color, cv2.FILLED)
            cv2.rectangle(grid, (x0, y0), (x0 + cell_px, y0 + cell_px), (90, 90, 90), 1)
            text = _number(v)
            ink = (0, 0, 0) if sum(color) / 3 > 110 else (255, 255, 255)
            scale_txt = 0.32 if len(text) <= 4 else 0.26
            (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale_txt, 1)
            draw_text_into(grid, text, (x0 + (cell_px - tw) // 2, y0 + (cell_px + th) // 2), ink, scale_txt, 1)
    return grid


def _number(v: float) -> str:
    if abs(v - round(v)) < 1e-4 or abs(v) >= 10:
        return str(int(round(v)))
    return f"{v:.2f}".lstrip("0").replace("-0.", "-.") if abs(v) < 1 else f"{v:.1f}"


def _text_width(text: str, scale: float = 0.45) -> int:
    return cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0]


def _hw(x: np.ndarray) -> str:
    return f"{x.shape[0]}x{x.shape[1]}"
