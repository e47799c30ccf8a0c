"""Panes about the very first steps of a CNN: `filters` (the first layer's learned kernels and one kernel's
response on the frame) and `lesson` (convolution, padding, pooling and stride worked out on a frame patch).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from desktop_app.core.errors import InsightError
from desktop_app.core.frames import Frame
from desktop_app.core.insight import compose
from desktop_app.core.insight.compose import Box, Placement
from desktop_app.core.insight.filters import filter_response, first_layer_conv, first_layer_kernels
from desktop_app.core.insight.lesson import LessonKernel, conv_lesson, render_lesson
from desktop_app.core.insight.preprocess import Preprocess, ResizeMode
from desktop_app.core.insight.runner_base import LiveSettings, model_preprocess
from desktop_app.core.insight.views import GridLayout, filter_tiles, heat_overlay
from desktop_app.core.models.base import ModelAdapter, PredictOptions
from desktop_app.core.models.results import StageTimes
from desktop_app.core.pipeline import PaneOutput


@dataclass(frozen=True, slots=True)
class _FilterSettings:
    index: int


@dataclass(frozen=True, slots=True)
class _TilesLayout:
    grid: GridLayout
    origin: tuple[int, int]


class FiltersRunner:
    """The first convolution's kernels as colour tiles beside the frame, which shows the selected kernel's
    response (the layer's output for that one filter, before any activation)."""

    kind = "filters"
    RESPONSE_SIDE = 640

    def __init__(self, adapter: ModelAdapter, options: PredictOptions) -> None:
        self.adapter = adapter
        self.options = options
        self._preprocess = model_preprocess(adapter, options.imgsz)
        iw, ih = self._preprocess.input_wh
        self.layer_name, self._conv = first_layer_conv(adapter.torch_module, (ih, iw))
        self.kernels = first_layer_kernels(self._conv)
        self.kernels.setflags(write=False)
        # start on the kernel with the most weight: usually a clear edge or colour detector
        strongest = int(np.argmax(np.square(self.kernels).sum(axis=(1, 2, 3))))
        self._settings = LiveSettings(_FilterSettings(strongest))
        self._tiles: tuple[tuple, np.ndarray, _TilesLayout] | None = None  # cached per pane size
        self._layout: _TilesLayout | None = None
        self._response_preprocess: Preprocess | None = None
        #: The size the composed view shows this pane at, when smaller than the frame (set by the pipeline).
        self.display_wh: tuple[int, int] | None = None

    @property
    def label(self) -> str:
        return f"filters · {self.adapter.info.display_name} · {self.layer_name} #{self.filter_index}"

    @property
    def filter_count(self) -> int:
        return int(len(self.kernels))

    @property
    def filter_index(self) -> int:
        return self._settings.value.index

    def set_filter(self, index: int) -> None:
        """Show the response of filter `index` from the next frame on (any thread)."""
        if not 0 <= int(index) < self.filter_count:
            raise InsightError(f"filter {index} does not exist: {self.layer_name} has {self.filter_count} filters "
                               f"(0 to {self.filter_count - 1})")
        self._settings.update(index=int(index))

    def filter_at(self, pane_x: float, pane_y: float) -> int | None:
        """The filter tile under pane pixel (x, y), or None."""
        layout = self._layout
        if layout is None:
            return None
        return layout.grid.cell_at(pane_x - layout.origin[0], pane_y - layout.origin[1])

    def select_at(self, pane_x: float, pane_y: float) -> int | None:
        """Select the filter under pane pixel (x, y); returns its index, or None."""
        index = self.filter_at(pane_x, pane_y)
        if index is not None:
            self.set_filter(index)
        return index

    def run(self, frame: Frame, pane_index: int) -> PaneOutput:
        """Convolve the frame with the selected kernel and draw the response beside the kernel tiles."""
        index = self._settings.value.index
        started = time.perf_counter()
        response = filter_response(self._conv, index, self._whole_frame(frame.resolution_wh), frame.image)
        inference_ms = (time.perf_counter() - started) * 1000.0
        started = time.perf_counter()
        image = self._render(frame, response, index, self.display_wh or frame.resolution_wh)
        render_ms = (time.perf_counter() - started) * 1000.0
        extras = {"view": self.kind, "layer": self.layer_name, "filter": index, "filter_count": self.filter_count,
                  "kernel_hw": tuple(self.kernels.shape[1:3])}
        return PaneOutput(pane_index, image, None, self.label, StageTimes(0.0, inference_ms, 0.0), render_ms,
                          extras=extras)

    def _whole_frame(self, frame_wh: tuple[int, int]) -> Preprocess:
        """The model's normalisation over the whole frame at up to `RESPONSE_SIDE` pixels: a first-layer filter
        is local, so its response needs neither the model's crop nor its letterbox, and is sharper this way."""
        fw, fh = frame_wh
        scale = min(1.0, self.RESPONSE_SIDE / max(fw, fh))
        size = (max(8, round(fw * scale)), max(8, round(fh * scale)))
        if self._response_preprocess is None or self._response_preprocess.input_wh != size:
            model = self._preprocess
            self._response_preprocess = Preprocess(size, ResizeMode.STRETCH, model.mean_rgb, model.std_rgb,
                                                   area_when_shrinking=True)
        return self._response_preprocess

    def _render(self, frame: Frame, response: np.ndarray, index: int, pane_wh: tuple[int, int]) -> np.ndarray:
        fw, fh = pane_wh
        canvas = compose.blank((fw, fh))
        view_box, panel_box = compose.split_for_panel((fw, fh), 0.32)
        view = compose.fit(frame.resolution_wh, view_box.inset(4))
        scene = cv2.resize(frame.image, (view.box.w, view.box.h), interpolation=cv2.INTER_AREA)
        compose.paste(canvas, heat_overlay(scene, response, alpha=0.6), view)
        scale = compose.text_scale(canvas.shape)
        n, kh, kw, _ = self.kernels.shape
        stride = self._conv.stride[0]
        lines = [(f"first layer: {self.layer_name}", compose.CAPTION),
                 (f"{n} filters {kh}x{kw} over RGB, stride {stride}", compose.DETAIL),
                 (f"filter #{index}: its response on the frame", compose.DETAIL)]
        inner = panel_box.inset(6)
        used = compose.draw_lines(canvas, lines, inner, scale)
        tiles, layout = self._tile_image((fw, fh), Box(inner.x, inner.y + used, inner.w, max(1, inner.h - used)))
        ox, oy = layout.origin
        th, tw = min(tiles.shape[0], fh - oy), min(tiles.shape[1], fw - ox)  # tiny frames: tiles run off the pane
        if th > 0 and tw > 0:
            canvas[oy : oy + th, ox : ox + tw] = tiles[:th, :tw]
        x, y = layout.grid.cell_origin(index)
        cw, ch = layout.grid.cell_wh
        compose.outline(canvas, (ox + x - 2, oy + y - 2, ox + x + cw + 2, oy + y + ch + 2), thickness=2)
        self._layout = layout
        return canvas

    def _tile_image(self, pane_wh: tuple[int, int], box: Box) -> tuple[np.ndarray, _TilesLayout]:
        key = (pane_wh, box)
        if self._tiles is None or self._tiles[0] != key:  # the kernels never change: draw them once per size
            grid = compose.best_grid(self.filter_count, box.inset(3), 1.0, gap=4)
            tiles = filter_tiles(self.kernels, tile_px=grid.cell_wh[0], columns=grid.columns)
            drawn = GridLayout(grid.count, grid.columns, (grid.cell_wh[0],) * 2)  # the layout filter_tiles uses
            layout = _TilesLayout(drawn, compose.centred(drawn, box))
            self._tiles = (key, tiles, layout)
        return self._tiles[1], self._tiles[2]

    def close(self) -> None:
        self.adapter.close()


@dataclass(frozen=True, slots=True)
class _LessonSettings:
    kernel: LessonKernel = LessonKernel.SOBEL_X
    point_xy: tuple[float, float] | None = None  # frame pixels; None: the frame's centre


class LessonRunner:
    """The convolution lesson on the live frame: an 8x8 grey patch through a 3x3 kernel with 'same' and 'valid'
    padding, a 2x2 max pool and a stride-2 step, every number shown. No model is involved."""

    kind = "lesson"

    def __init__(self, kernel: LessonKernel | str = LessonKernel.SOBEL_X) -> None:
        self._settings = LiveSettings(_LessonSettings())
        self.set_kernel(kernel)
        self._thumb: Placement | None = None
        self.adapter = None  # no model behind this pane
        #: The size the composed view shows this pane at, when smaller than the frame (set by the pipeline).
        self.display_wh: tuple[int, int] | None = None

    @property
    def label(self) -> str:
        return f"lesson · {self.kernel.value} kernel on a frame patch"

    @property
    def kernel(self) -> LessonKernel:
        return self._settings.value.kernel

    def set_kernel(self, name: LessonKernel | str) -> None:
        """Use kernel `name` (sobel_x, sobel_y, sharpen, blur, edge) from the next frame on (any thread)."""
        try:
            kernel = LessonKernel(name)
        except ValueError:
            choices = ", ".join(k.value for k in LessonKernel)
            raise InsightError(f"unknown lesson kernel {name!r}; choose one of: {choices}") from None
        self._settings.update(kernel=kernel)

    def set_point(self, x: float, y: float) -> None:
        """Centre the patch on frame pixel (x, y) (moved inside the frame if needed)."""
        if x < 0 or y < 0:
            raise InsightError(f"the patch centre must be inside the frame, got ({x}, {y})")
        self._settings.update(point_xy=(float(x), float(y)))

    def point_at(self, pane_x: float, pane_y: float) -> tuple[float, float] | None:
        """The frame pixel under pane pixel (x, y) when it is on the frame thumbnail, else None."""
        thumb = self._thumb
        return thumb.to_source(pane_x, pane_y) if thumb is not None else None

    def select_at(self, pane_x: float, pane_y: float) -> tuple[float, float] | None:
        """Move the patch to the frame point under pane pixel (x, y), if it is on the thumbnail."""
        point = self.point_at(pane_x, pane_y)
        if point is not None:
            self.set_point(*point)
        return point

    def run(self, frame: Frame, pane_index: int) -> PaneOutput:
        """Work the lesson on the patch and draw the panel with the frame thumbnail showing where it is."""
        settings = self._settings.value
        fh, fw = frame.image.shape[:2]
        point = settings.point_xy or (fw / 2.0, fh / 2.0)
        started = time.perf_counter()
        lesson = conv_lesson(frame.image, (int(point[0]), int(point[1])), settings.kernel)
        panel = render_lesson(lesson)
        fw, fh = self.display_wh or (fw, fh)  # from here on: the pane, laid out at the size it is shown
        canvas = compose.blank((fw, fh))
        top = int(fh * 0.1)  # room for the HUD above the first grid's title
        placed = compose.fit(panel.shape[1::-1], Box(4, top, fw - 8, fh - top - 4))
        compose.paste(canvas, panel, placed, cv2.INTER_AREA if placed.scale < 1 else cv2.INTER_LINEAR)
        free = _free_corner(panel, placed, (fw, fh))
        thumb = compose.fit(frame.resolution_wh, free.inset(8))
        scene = cv2.resize(frame.image, (thumb.box.w, thumb.box.h), interpolation=cv2.INTER_AREA)
        compose.paste(canvas, scene, thumb)
        x0, y0, x1, y1 = thumb.to_pane_xyxy(lesson.patch_xyxy)
        cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, max(6.0, (x1 - x0) / 2)  # an 8-pixel patch needs a marker
        compose.outline(canvas, (cx - half, cy - half, cx + half, cy + half), thickness=2)
        scale = compose.text_scale(canvas.shape, 0.36)
        compose.draw_lines(canvas, [(f"patch at ({lesson.patch_xyxy[0]}, {lesson.patch_xyxy[1]}); click to move",
                                     compose.DETAIL)],
                           Box(thumb.box.x, max(0, thumb.box.y - 28), thumb.box.w, 28), scale)
        self._thumb = thumb
        render_ms = (time.perf_counter() - started) * 1000.0
        extras = {"view": self.kind, "kernel": settings.kernel.value, "patch_xyxy": lesson.patch_xyxy,
                  "stages": tuple((s.title, s.shape) for s in lesson.stages)}
        return PaneOutput(pane_index, canvas, None, self.label, StageTimes(), render_ms, extras=extras)

    def close(self) -> None:
        """Nothing to release: the lesson holds no model."""


def _free_corner(panel: np.ndarray, placed: Placement, pane_wh: tuple[int, int]) -> Box:
    """The empty bottom-right of the pane beside the panel's short second row, in pane pixels."""
    h, w = panel.shape[:2]
    top = int(h * 0.55)
    background = panel[top, w - 1]
    used_columns = np.flatnonzero(np.any(panel[top:] != background, axis=(0, 2)))
    right = int(used_columns.max()) + 1 if len(used_columns) else 0
    x = placed.box.x + int(right * placed.scale) + 8
    y = placed.box.y + int(top * placed.scale) + 28
    return Box(x, y, max(8, pane_wh[0] - x), max(8, pane_wh[1] - y))
