"""Images of what the network sees: channel grids, activation heatmaps, the layer hierarchy, first-layer filters
and receptive-field outlines. Pure functions over numpy arrays; every one returns a new BGR uint8 image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from desktop_app.core.insight.layers import LayerInfo
from desktop_app.core.insight.preprocess import InputGeometry
from desktop_app.core.insight.recorder import FeatureMaps
from desktop_app.core.render.canvas import new_canvas
from desktop_app.core.render.heatmap import Colormap, colorize, overlay_heatmap
from desktop_app.core.render.text import draw_label_into, fit_text_scale, truncate_to_width

_BACKGROUND = (32, 32, 32)
_CAPTION = (48, 48, 48)
_RF_COLOR = (0, 255, 255)


@dataclass(frozen=True, slots=True)
class GridLayout:
    """Where the cells of a tiled image lie, so a click can be mapped back to a channel or filter index."""

    count: int
    columns: int
    cell_wh: tuple[int, int]
    gap: int = 2

    @property
    def rows(self) -> int:
        return max(1, -(-self.count // self.columns))

    @property
    def size_wh(self) -> tuple[int, int]:
        """(width, height) of the whole grid image."""
        cw, ch = self.cell_wh
        return (self.columns * (cw + self.gap) + self.gap, self.rows * (ch + self.gap) + self.gap)

    def cell_origin(self, i: int) -> tuple[int, int]:
        """Top-left pixel of cell i."""
        cw, ch = self.cell_wh
        return (self.gap + (i % self.columns) * (cw + self.gap), self.gap + (i // self.columns) * (ch + self.gap))

    def cell_at(self, x: float, y: float) -> int | None:
        """Index of the cell under pixel (x, y), or None between cells or past the last one."""
        cw, ch = self.cell_wh
        col, dx = divmod(int(x) - self.gap, cw + self.gap)
        row, dy = divmod(int(y) - self.gap, ch + self.gap)
        if x < self.gap or y < self.gap or dx >= cw or dy >= ch or col >= self.columns:
            return None
        i = row * self.columns + col
        return i if i < self.count else None


def grid_layout(count: int, cell_px: int, columns: int | None = None, aspect_hw: float = 1.0) -> GridLayout:
    """A near-square grid for `count` cells of width `cell_px` (height follows the maps' aspect `h / w`)."""
    columns = columns or max(1, int(np.ceil(np.sqrt(count))))
    return GridLayout(count, columns, (cell_px, max(1, round(cell_px * aspect_hw))))


def channel_grid(
    maps: FeatureMaps,
    *,
    cell_px: int = 96,
    columns: int | None = None,
    colormap: Colormap | str = Colormap.VIRIDIS,
    show_index: bool = True,
) -> np.ndarray:
    """The recorded channels, strongest first, each normalised on its own and colour-mapped, index in a corner."""
    n, h, w = maps.channel_maps.shape
    layout = grid_layout(n, cell_px, columns, h / w)
    canvas = _blank(layout.size_wh)
    cw, ch = layout.cell_wh
    for i in range(n):
        tile = colorize(maps.channel_maps[i], colormap, value_range=(0.0, 1.0))
        # nearest keeps each feature-map cell a visible square: the grid *is* the layer's resolution
        tile = cv2.resize(tile, (cw, ch), interpolation=cv2.INTER_NEAREST)
        x, y = layout.cell_origin(i)
        canvas[y : y + ch, x : x + cw] = tile
        if show_index:
            draw_label_into(canvas, f"#{int(maps.channel_index[i])}", (x, y), _CAPTION, 0.35)
    return canvas


def mean_activation_overlay(
    image_bgr: np.ndarray,
    maps: FeatureMaps,
    geometry: InputGeometry,
    *,
    alpha: float = 0.5,
    colormap: Colormap | str = Colormap.JET,
) -> np.ndarray:
    """The layer's mean activation as a heatmap over the frame (through the model's resize/letterbox)."""
    return heat_overlay(image_bgr, geometry.heat_to_frame(maps.mean_map), alpha=alpha, colormap=colormap)


def heat_overlay(
    image_bgr: np.ndarray, heat: np.ndarray, *, alpha: float = 0.5, colormap: Colormap | str = Colormap.JET
) -> np.ndarray:
    """A frame-resolution heat in [0, 1] (CAM, filter response, mean map) blended over the frame."""
    return overlay_heatmap(image_bgr, heat, alpha=alpha, colormap=colormap, value_range=(0.0, 1.0))


def hierarchy_strip(
    maps: Sequence[FeatureMaps],
    layers: Sequence[LayerInfo],
    *,
    panel_px: int = 200,
    channels: int = 4,
    colormap: Colormap | str = Colormap.VIRIDIS,
) -> np.ndarray:
    """Early → deep layers side by side: each panel shows a layer's strongest channels and its stride and RF."""
    if not maps:
        raise ValueError("hierarchy_strip needs at least one layer's feature maps")
    by_name = {layer.name: layer for layer in layers}
    caption_h = 36
    panels = []
    for fm in maps:
        k = min(channels, len(fm.channel_index))
        side = int(np.ceil(np.sqrt(k)))
        cell = (panel_px - 2 * (side + 1)) // side
        subset = FeatureMaps(fm.frame_index, fm.timestamp_s, fm.layer_name, fm.shape_chw, fm.input_hw,
                             fm.channel_index[:k], fm.channel_strength[:k], fm.channel_maps[:k], fm.mean_map)
        grid = channel_grid(subset, cell_px=cell, columns=side, colormap=colormap, show_index=False)
        panel = _blank((panel_px, panel_px + caption_h))
        gh, gw = grid.shape[:2]
        gh, gw = min(gh, panel_px), min(gw, panel_px)
        panel[:gh, :gw] = grid[:gh, :gw]
        layer = by_name.get(fm.layer_name)
        c, h, w = fm.shape_chw
        detail = f"{c}x{h}x{w}"
        if layer is not None:
            detail += f"  s{_fmt(layer.cumulative_stride)} RF{_fmt(layer.receptive_field)}"
        for line, y in ((fm.layer_name, panel_px + 2), (detail, panel_px + 19)):
            scale = fit_text_scale(line, panel_px - 4, 0.4)
            draw_label_into(panel, truncate_to_width(line, panel_px - 4, scale), (2, y), _BACKGROUND, scale)
        panels.append(panel)
    spacer = _blank((4, panel_px + caption_h))
    parts = [panels[0]]
    for panel in panels[1:]:
        parts += [spacer, panel]
    return np.ascontiguousarray(np.hstack(parts))


def filter_tiles(kernels_rgb: np.ndarray, *, tile_px: int = 32, columns: int = 8) -> np.ndarray:
    """First-layer kernels (N, kh, kw, 3) RGB as colour tiles, each stretched to its own full range."""
    kernels_rgb = np.asarray(kernels_rgb, dtype=np.float32)
    if kernels_rgb.ndim != 4 or kernels_rgb.shape[3] != 3:
        raise ValueError(f"kernels must be (N, kh, kw, 3), got {kernels_rgb.shape}")
    n = len(kernels_rgb)
    layout = GridLayout(n, min(columns, n), (tile_px, tile_px))
    canvas = _blank(layout.size_wh)
    for i, kernel in enumerate(kernels_rgb):
        # symmetric around zero so a grey tile means "no preference" and colour shows what the filter wants
        peak = float(np.abs(kernel).max()) or 1.0
        rgb = np.clip((kernel / peak * 0.5 + 0.5) * 255.0, 0, 255).astype(np.uint8)
        tile = cv2.resize(rgb[:, :, ::-1], (tile_px, tile_px), interpolation=cv2.INTER_NEAREST)
        x, y = layout.cell_origin(i)
        canvas[y : y + tile_px, x : x + tile_px] = tile
    return canvas


def filter_tiles_layout(count: int, *, tile_px: int = 32, columns: int = 8) -> GridLayout:
    """The layout `filter_tiles` uses, for mapping a click to a filter index."""
    return GridLayout(count, min(columns, count), (tile_px, tile_px))


def draw_receptive_field(
    image_bgr: np.ndarray,
    rect_xyxy: tuple[float, float, float, float],
    *,
    label: str | None = None,
    color: tuple[int, int, int] = _RF_COLOR,
    dim: float = 0.45,
) -> np.ndarray:
    """The frame with everything outside the receptive field dimmed and the field outlined."""
    canvas = new_canvas(image_bgr)
    h, w = canvas.shape[:2]
    x0, y0 = int(np.floor(max(rect_xyxy[0], 0))), int(np.floor(max(rect_xyxy[1], 0)))
    x1, y1 = int(np.ceil(min(rect_xyxy[2], w))), int(np.ceil(min(rect_xyxy[3], h)))
    inside = canvas[y0:y1, x0:x1].copy()
    canvas[:] = (canvas.astype(np.float32) * (1.0 - dim)).astype(np.uint8)
    canvas[y0:y1, x0:x1] = inside
    cv2.rectangle(canvas, (x0, y0), (max(x0, x1 - 1), max(y0, y1 - 1)), color, 2)
    if label:
        draw_label_into(canvas, label, (x0, max(0, y0 - 20)), color, 0.45)
    return canvas


def _blank(size_wh: tuple[int, int]) -> np.ndarray:
    canvas = np.empty((size_wh[1], size_wh[0], 3), np.uint8)
    canvas[:] = _BACKGROUND
    return canvas


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"

