"""Feature-map panes: one layer's channels and mean activation (`features`), and early/middle/deep layers side by
side (`hierarchy`). Both record with forward hooks during the model's own prediction pass: no second pass.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from desktop_app.core.errors import InsightError
from desktop_app.core.frames import Frame
from desktop_app.core.insight import compose
from desktop_app.core.insight.compose import Box, Placement
from desktop_app.core.insight.layers import LayerInfo, find_layer, list_conv_layers, pick_hierarchy_layers
from desktop_app.core.insight.preprocess import InputGeometry, letterbox_geometry
from desktop_app.core.insight.receptive_field import receptive_field_rect
from desktop_app.core.insight.recorder import ActivationRecorder, FeatureMaps
from desktop_app.core.insight.runner_base import LiveSettings, is_ultralytics, model_preprocess
from desktop_app.core.insight.views import GridLayout, draw_receptive_field
from desktop_app.core.models.base import ModelAdapter, PredictOptions
from desktop_app.core.models.results import Classification, Detections, StageTimes
from desktop_app.core.models.tasks import Task
from desktop_app.core.pipeline import UNTRAINED_BANNER, PaneOutput
from desktop_app.core.render import Colormap, colorize, draw_banner
from desktop_app.core.render.annotate import draw_detections_into
from desktop_app.core.render.classify import draw_classification_into
from desktop_app.core.render.text import draw_label_into

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CellHit:
    """The feature-map cell under a pane pixel: `row`, `col` of `layer_name`'s map, and `rect_xyxy`, the frame
    pixels of its receptive field. `channel` is the channel tile that was hit (None on the frame view)."""

    layer_name: str
    row: int
    col: int
    rect_xyxy: tuple[float, float, float, float]
    channel: int | None = None


def probe_layers(adapter: ModelAdapter, options: PredictOptions) -> tuple[LayerInfo, ...]:
    """The model's conv/pool layers. Shapes are for a square input of the pane's image size (the classifier's
    crop size); strides and receptive fields hold at any input size."""
    iw, ih = model_preprocess(adapter, options.imgsz).input_wh
    return tuple(list_conv_layers(adapter.torch_module, (ih, iw)))


class _HookedView:
    """A model whose prediction pass is recorded by forward hooks on some of its layers.

    Owns the adapter (closed in `close`) and the recorder; hooks are (re)attached only on the inference thread,
    between two passes.
    """

    kind = "features"

    def __init__(self, adapter: ModelAdapter, options: PredictOptions, layer_names: Sequence[str], *,
                 top_n: int, max_map_side: int) -> None:
        self.adapter = adapter
        self.options = options
        self._module = adapter.torch_module
        self._letterbox = is_ultralytics(adapter) and adapter.info.task is not Task.CLASSIFY
        self._preprocess = model_preprocess(adapter, options.imgsz)
        self._top_n, self._max_map_side = top_n, max_map_side
        self._recorder = ActivationRecorder(self._module, layer_names, top_n=top_n,
                                            max_map_side=max_map_side).attach()

    def _record(self, frame: Frame, layer_names: tuple[str, ...]):
        """Predict on `frame` with hooks on `layer_names`: (result, {layer: FeatureMaps}, collect ms)."""
        module = self.adapter.torch_module
        if module is not self._module:  # the adapter rebuilt its model: hooks must follow it
            self._recorder.detach()
            self._module = module
            self._recorder = ActivationRecorder(module, layer_names, top_n=self._top_n,
                                                max_map_side=self._max_map_side).attach()
        elif self._recorder.layer_names != layer_names:
            self._recorder.set_layers(layer_names)
        result = self.adapter.predict(frame, self.options)
        started = time.perf_counter()
        maps = self._recorder.collect(frame.frame_index, frame.timestamp_s)
        missing = [name for name in layer_names if name not in maps]
        if missing:
            raise InsightError(f"layer {missing[0]!r} did not run while predicting this frame; pick another layer")
        return result, maps, (time.perf_counter() - started) * 1000.0

    def geometry(self, frame_wh: tuple[int, int], input_hw: tuple[int, int]) -> InputGeometry:
        """Frame -> model-input map of the pass that produced maps of input size `input_hw`."""
        if self._letterbox:  # Ultralytics pads only to a stride multiple: the real input size is in the maps
            return letterbox_geometry(frame_wh, (input_hw[1], input_hw[0]))
        return self._preprocess.geometry(frame_wh)

    @property
    def hook_count(self) -> int:
        """Hooks this view has on the model right now."""
        return len(self._recorder.handles)

    def close(self) -> None:
        """Remove every hook, then release the model."""
        self._recorder.detach()
        self.adapter.close()


@dataclass(frozen=True, slots=True)
class _FeaturesSettings:
    layer: str
    cell: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class _FeaturesLayout:
    """Where the last frame put things on the pane, so a click can be mapped back (replaced whole each frame)."""

    layer: LayerInfo
    map_hw: tuple[int, int]
    geometry: InputGeometry
    view: Placement
    grid: GridLayout
    grid_origin: tuple[int, int]
    channels: tuple[int, ...]


class FeaturesRunner(_HookedView):
    """One layer's feature maps: the prediction with the layer's mean activation over the frame, and its
    strongest channels in a grid beside it. A selected cell outlines its receptive field on the frame."""

    kind = "features"

    def __init__(self, adapter: ModelAdapter, options: PredictOptions, layer: str | None = None, *,
                 top_n: int = 16) -> None:
        layers = probe_layers(adapter, options)
        default = pick_hierarchy_layers(layers, 3)
        name = find_layer(layers, layer).name if layer else default[len(default) // 2].name
        super().__init__(adapter, options, [name], top_n=top_n, max_map_side=48)
        self.layers: tuple[LayerInfo, ...] = layers
        self._settings = LiveSettings(_FeaturesSettings(name))
        self._layout: _FeaturesLayout | None = None

    @property
    def label(self) -> str:
        return f"features · {self.adapter.info.display_name} · {self._settings.value.layer}"

    @property
    def layer(self) -> LayerInfo:
        """The layer shown (from the next frame on, after `set_layer`)."""
        return find_layer(list(self.layers), self._settings.value.layer)

    def set_layer(self, name: str) -> None:
        """Show layer `name` from the next frame on (any thread); clears the selected cell."""
        find_layer(list(self.layers), name)
        self._settings.update(layer=name, cell=None)

    def select_cell(self, row: int, col: int) -> None:
        """Outline the receptive field of cell (row, col) of the shown layer on the next frames (any thread)."""
        if int(row) < 0 or int(col) < 0:
            raise InsightError(f"cell ({row}, {col}) does not exist: rows and columns start at 0")
        self._settings.update(cell=(int(row), int(col)))

    def clear_selection(self) -> None:
        """Stop outlining a receptive field."""
        self._settings.update(cell=None)

    def receptive_field_at(self, pane_x: float, pane_y: float) -> CellHit | None:
        """The cell under pane pixel (x, y), on the frame view or on a channel tile, with the frame box of its
        receptive field; None elsewhere or before the first frame."""
        layout = self._layout
        if layout is None:
            return None
        layer, (map_h, map_w) = layout.layer, layout.map_hw
        channel = None
        on_frame = layout.view.to_source(pane_x, pane_y)
        if on_frame is not None:
            ix, iy = layout.geometry.frame_to_input_xy(on_frame)
            # input edge coordinate -> pixel-centre coordinate -> nearest cell centre
            row = round((iy - 0.5 - layer.start_hw[0]) / layer.jump_hw[0])
            col = round((ix - 0.5 - layer.start_hw[1]) / layer.jump_hw[1])
        else:
            gx, gy = pane_x - layout.grid_origin[0], pane_y - layout.grid_origin[1]
            index = layout.grid.cell_at(gx, gy)
            if index is None:
                return None
            x0, y0 = layout.grid.cell_origin(index)
            cw, ch = layout.grid.cell_wh
            row, col = int((gy - y0) / ch * map_h), int((gx - x0) / cw * map_w)
            channel = layout.channels[index]
        row, col = int(np.clip(row, 0, map_h - 1)), int(np.clip(col, 0, map_w - 1))
        return CellHit(layer.name, row, col, receptive_field_rect(layer, row, col, layout.geometry), channel)

    def select_at(self, pane_x: float, pane_y: float) -> CellHit | None:
        """Select the cell under pane pixel (x, y) (see `receptive_field_at`); returns it, or None."""
        hit = self.receptive_field_at(pane_x, pane_y)
        if hit is not None and hit.layer_name == self._settings.value.layer:
            self.select_cell(hit.row, hit.col)
        return hit

    def run(self, frame: Frame, pane_index: int) -> PaneOutput:
        """Predict with the hooks on, then draw the prediction, mean activation and channel grid."""
        settings = self._settings.value
        result, maps, collect_ms = self._record(frame, (settings.layer,))
        started = time.perf_counter()
        image, layout, rect = self._render(frame, result, maps[settings.layer], settings.cell)
        self._layout = layout
        render_ms = (time.perf_counter() - started) * 1000.0
        t = result.timings
        timings = StageTimes(t.preprocess_ms, t.inference_ms, t.postprocess_ms + collect_ms)
        extras = {
            "view": self.kind, "layers": self.layers, "layer": settings.layer, "layer_info": layout.layer,
            "map_shape_chw": maps[settings.layer].shape_chw, "channels": layout.channels,
            "selected_cell": settings.cell, "receptive_field_xyxy": rect,
        }
        return PaneOutput(pane_index, image, result, self.label, timings, render_ms, extras=extras)

    def _render(self, frame: Frame, result, maps: FeatureMaps, cell):
        fh, fw = frame.image.shape[:2]
        canvas = compose.blank((fw, fh))
        view_box, panel_box = compose.split_for_panel((fw, fh))
        view = compose.fit((fw, fh), view_box.inset(4))
        geometry = self.geometry((fw, fh), maps.input_hw)
        layer = find_layer(list(self.layers), maps.layer_name)
        map_hw = (maps.shape_chw[1], maps.shape_chw[2])
        scene = cv2.resize(frame.image, (view.box.w, view.box.h), interpolation=cv2.INTER_LINEAR)
        scene = compose.heat_on_view(scene, maps.mean_map, geometry)
        _draw_result_into(scene, result, view)
        if self.adapter.info.untrained:
            scene = draw_banner(scene, UNTRAINED_BANNER, "warning")
        rect = None
        if cell is not None:
            row, col = min(cell[0], map_hw[0] - 1), min(cell[1], map_hw[1] - 1)
            rect = receptive_field_rect(layer, row, col, geometry)
            on_view = [v * view.scale for v in rect]
            approx = "~" if layer.approximate else ""
            scene = draw_receptive_field(scene, on_view, label=f"cell ({row},{col})  RF {approx}"
                                         f"{layer.receptive_field:.0f} px")
            cell = (row, col)
        compose.paste(canvas, scene, view)
        scale = compose.text_scale(canvas.shape)
        c, h, w = maps.shape_chw
        approx = "~" if layer.approximate else ""
        lines = [
            (layer.name, compose.CAPTION),
            (f"{layer.kind.value} {layer.kernel_hw[0]}x{layer.kernel_hw[1]}  out {c}x{h}x{w}", compose.DETAIL),
            (f"stride {layer.cumulative_stride:.0f}  RF {approx}{layer.receptive_field:.0f} px", compose.DETAIL),
            (f"{len(maps.channel_index)} strongest of {c} channels", compose.DETAIL),
        ]
        inner = panel_box.inset(6)
        used = compose.draw_lines(canvas, lines, inner, scale)
        grid_box = Box(inner.x, inner.y + used, inner.w, max(1, inner.h - used))
        n, mh, mw = maps.channel_maps.shape
        grid = compose.best_grid(n, grid_box, mh / mw)
        origin = compose.centred(grid, grid_box)
        draw_channel_tiles(canvas, maps, grid, origin, scale * 0.75, map_hw, cell)
        channels = tuple(int(i) for i in maps.channel_index)
        return canvas, _FeaturesLayout(layer, map_hw, geometry, view, grid, origin, channels), rect


def _draw_result_into(scene, result, view: Placement) -> None:
    if isinstance(result, Detections):
        draw_detections_into(scene, compose.scale_result(result, view))
    elif isinstance(result, Classification):
        draw_classification_into(scene, result, compose.PANEL_STYLE)


def draw_channel_tiles(canvas: np.ndarray, maps: FeatureMaps, grid: GridLayout, origin: tuple[int, int],
                       scale: float, map_hw: tuple[int, int], cell: tuple[int, int] | None = None,
                       show_index: bool = True) -> None:
    """The recorded channels on `canvas` in place, strongest first, each with its channel index; the selected
    cell, when given, outlined on every tile."""
    cw, ch = grid.cell_wh
    ox, oy = origin
    n, h, w = maps.channel_maps.shape
    # one colour lookup for all channels at once: cv2 pays a fixed cost per call that dwarfs these tiny maps
    colored = colorize(maps.channel_maps.reshape(n * h, w), Colormap.VIRIDIS, value_range=(0.0, 1.0))
    for i in range(n):
        # nearest keeps each feature-map cell a visible square: the tile *is* the layer's resolution
        tile = cv2.resize(colored[i * h : (i + 1) * h], (cw, ch), interpolation=cv2.INTER_NEAREST)
        x, y = grid.cell_origin(i)
        x, y = x + ox, y + oy
        canvas[y : y + ch, x : x + cw] = tile
        if cell is not None:
            mh, mw = map_hw
            sx, sy = cw / mw, ch / mh
            compose.outline(canvas, (x + cell[1] * sx, y + cell[0] * sy, x + (cell[1] + 1) * sx,
                                     y + (cell[0] + 1) * sy), thickness=1)
        if show_index:
            draw_label_into(canvas, f"#{int(maps.channel_index[i])}", (x, y), (40, 40, 40), scale)


class HierarchyRunner(_HookedView):
    """Early, middle and deep layers of one model on the same frame, from the one prediction pass: each column
    shows the layer's strongest channels and its mean activation over the frame."""

    kind = "hierarchy"
    TITLES = ("early", "middle", "deep")

    def __init__(self, adapter: ModelAdapter, options: PredictOptions, count: int = 3) -> None:
        layers = probe_layers(adapter, options)
        picks = tuple(layer.name for layer in pick_hierarchy_layers(layers, count))
        super().__init__(adapter, options, picks, top_n=4, max_map_side=48)
        self.layers: tuple[LayerInfo, ...] = layers
        self._shown = LiveSettings(_Shown(picks))

    @property
    def label(self) -> str:
        return f"hierarchy · {self.adapter.info.display_name}"

    @property
    def shown_layers(self) -> tuple[str, ...]:
        return self._shown.value.names

    def set_layers(self, names: Sequence[str]) -> None:
        """Show these 1-4 layers (in this order) from the next frame on (any thread)."""
        names = tuple(dict.fromkeys(names))
        if not 1 <= len(names) <= 4:
            raise InsightError(f"the hierarchy shows 1 to 4 layers, got {len(names)}")
        for name in names:
            find_layer(list(self.layers), name)
        self._shown.update(names=names)

    def run(self, frame: Frame, pane_index: int) -> PaneOutput:
        """Predict with hooks on the shown layers and draw one column per layer."""
        names = self._shown.value.names
        result, maps, collect_ms = self._record(frame, names)
        started = time.perf_counter()
        image = self._render(frame, [maps[n] for n in names])
        render_ms = (time.perf_counter() - started) * 1000.0
        t = result.timings
        timings = StageTimes(t.preprocess_ms, t.inference_ms, t.postprocess_ms + collect_ms)
        extras = {"view": self.kind, "layers": self.layers, "shown_layers": names}
        return PaneOutput(pane_index, image, result, self.label, timings, render_ms, extras=extras)

    def _render(self, frame: Frame, maps: list[FeatureMaps]) -> np.ndarray:
        fh, fw = frame.image.shape[:2]
        canvas = compose.blank((fw, fh))
        scale = compose.text_scale(canvas.shape)
        titles = self.TITLES if len(maps) == 3 else tuple(f"layer {i + 1}" for i in range(len(maps)))
        scene = None
        for column, fm, title in zip(compose.split_even(Box(0, 0, fw, fh).inset(4), len(maps), gap=8), maps, titles):
            layer = find_layer(list(self.layers), fm.layer_name)
            c, h, w = fm.shape_chw
            lines = [(f"{title}: {layer.name}", compose.CAPTION),
                     (f"{c}x{h}x{w}  stride {layer.cumulative_stride:.0f}  RF {layer.receptive_field:.0f}",
                      compose.DETAIL)]
            # frame on top (where the HUD sits, as on any frame), channels under it, captions at the bottom
            caption_h = compose.lines_height(len(lines), scale)
            compose.draw_lines(canvas, lines, Box(column.x, column.y + column.h - caption_h, column.w, caption_h),
                               scale)
            rest_h = max(2, column.h - caption_h)
            top = Box(column.x, column.y, column.w, rest_h // 2)
            bottom = Box(column.x, column.y + rest_h // 2, column.w, rest_h - rest_h // 2)
            view = compose.fit((fw, fh), top.inset(2), valign="bottom")
            if scene is None or scene.shape[:2] != (view.box.h, view.box.w):  # columns share one thumbnail
                scene = cv2.resize(frame.image, (view.box.w, view.box.h), interpolation=cv2.INTER_AREA)
            compose.paste(canvas, compose.heat_on_view(scene, fm.mean_map, self.geometry((fw, fh), fm.input_hw),
                                                       alpha=0.55), view)
            n, mh, mw = fm.channel_maps.shape
            grid = compose.best_grid(n, bottom.inset(2), mh / mw)
            draw_channel_tiles(canvas, fm, grid, compose.centred(grid, bottom.inset(2), "top"), scale * 0.7, (h, w))
        return canvas


@dataclass(frozen=True, slots=True)
class _Shown:
    names: tuple[str, ...]
