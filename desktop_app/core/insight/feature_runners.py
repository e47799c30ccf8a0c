"""The `features` pane: one layer's feature maps, recorded by forward hooks during the model's own prediction
pass (no second pass): the prediction with the layer's mean activation over the frame, its strongest channels
beside it, and the receptive field of a chosen cell.
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
from desktop_app.core.insight.hooked_view import HookedView, draw_channel_tiles, probe_layers
from desktop_app.core.insight.layers import LayerInfo, find_layer, pick_hierarchy_layers
from desktop_app.core.insight.preprocess import InputGeometry
from desktop_app.core.insight.receptive_field import receptive_field_rect
from desktop_app.core.insight.recorder import FeatureMaps
from desktop_app.core.insight.runner_base import LiveSettings
from desktop_app.core.insight.views import GridLayout, draw_receptive_field
from desktop_app.core.models.base import ModelAdapter, PredictOptions
from desktop_app.core.models.results import Classification, Detections, StageTimes
from desktop_app.core.pipeline import FinishPane, PaneOutput
from desktop_app.core.render import UNTRAINED_TEXT, draw_banner_into
from desktop_app.core.render.annotate import draw_detections_into
from desktop_app.core.render.classify import draw_classification_into


@dataclass(frozen=True, slots=True)
class CellHit:
    """The feature-map cell under a pane pixel: `row`, `col` of `layer_name`'s map, and `rect_xyxy`, the frame
    pixels of its receptive field. `channel` is the channel tile that was hit (None on the frame view)."""

    layer_name: str
    row: int
    col: int
    rect_xyxy: tuple[float, float, float, float]
    channel: int | None = None


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


class FeaturesRunner(HookedView):
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
        self._by_name = {layer.name: layer for layer in layers}
        self._settings = LiveSettings(_FeaturesSettings(name))
        self._layout: _FeaturesLayout | None = None
        self._template: _PanelTemplate | None = None
        self._stamps = compose.LabelStamps()

    @property
    def label(self) -> str:
        return f"features · {self.adapter.info.display_name} · {self._settings.value.layer}"

    @property
    def layer(self) -> LayerInfo:
        """The layer shown (from the next frame on, after `set_layer`)."""
        return self._by_name[self._settings.value.layer]

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
        """The cell under pixel (x, y) of this pane's image (`PaneOutput.image`), on the frame view or on a
        channel tile, with the frame box of its receptive field; None elsewhere or before the first frame."""
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

    def infer(self, frame: Frame, pane_index: int) -> FinishPane:
        """Predict with the hooks on now; the step returned draws the prediction, mean activation and channel
        grid (on the pipeline's draw thread)."""
        settings = self._settings.value
        result, maps, collect_ms = self._record(frame, (settings.layer,))
        shown = maps[settings.layer]
        t = result.timings
        timings = StageTimes(t.preprocess_ms, t.inference_ms, t.postprocess_ms + collect_ms)
        label, pane_wh = self.label, self.pane_wh(frame)

        def draw() -> PaneOutput:
            started = time.perf_counter()
            image, layout, rect = self._render(frame, result, shown, settings.cell, pane_wh)
            self._layout = layout
            render_ms = (time.perf_counter() - started) * 1000.0
            extras = {
                "view": self.kind, "layers": self.layers, "layer": settings.layer, "layer_info": layout.layer,
                "map_shape_chw": shown.shape_chw, "channels": layout.channels, "maps": shown,
                "selected_cell": settings.cell, "receptive_field_xyxy": rect,
            }
            return PaneOutput(pane_index, image, result, label, timings, render_ms, extras=extras)

        return draw

    def run(self, frame: Frame, pane_index: int) -> PaneOutput:
        """Predict with the hooks on, then draw the prediction, mean activation and channel grid."""
        return self.infer(frame, pane_index)()

    def _render(self, frame: Frame, result, maps: FeatureMaps, cell, pane_wh: tuple[int, int] | None = None):
        fh, fw = frame.image.shape[:2]
        template = self._panel_template((fw, fh), pane_wh or (fw, fh), maps)
        canvas = template.background.copy()
        view, layer = template.view, template.layer
        geometry = self.geometry((fw, fh), maps.input_hw)
        map_hw = (maps.shape_chw[1], maps.shape_chw[2])
        shown = compose.region(canvas, view.box)  # resized, blended and drawn in place: no per-frame copies
        cv2.resize(frame.image, (view.box.w, view.box.h), dst=shown, interpolation=cv2.INTER_LINEAR)
        compose.heat_on_view(shown, maps.mean_map, geometry, dst=shown)
        _draw_result_into(shown, result, view)
        if self.adapter.info.untrained:
            draw_banner_into(shown, UNTRAINED_TEXT, "warning")
        rect = None
        if cell is not None:
            row, col = min(cell[0], map_hw[0] - 1), min(cell[1], map_hw[1] - 1)
            rect = receptive_field_rect(layer, row, col, geometry)
            on_view = [v * view.scale for v in rect]
            approx = "~" if layer.approximate else ""
            shown[:] = draw_receptive_field(shown, on_view, label=f"cell ({row},{col})  RF {approx}"
                                            f"{layer.receptive_field:.0f} px")
            cell = (row, col)
        draw_channel_tiles(canvas, maps, template.grid, template.origin, template.label_scale, map_hw, cell,
                           stamps=self._stamps)
        channels = tuple(int(i) for i in maps.channel_index)
        return canvas, _FeaturesLayout(layer, map_hw, geometry, view, template.grid, template.origin, channels), rect

    def _panel_template(self, frame_wh: tuple[int, int], pane_wh: tuple[int, int],
                        maps: FeatureMaps) -> "_PanelTemplate":
        """The pane without this frame's pixels: layout, background and captions, made once per layer and size."""
        key = (frame_wh, pane_wh, maps.layer_name, maps.shape_chw, maps.channel_maps.shape)
        if self._template is not None and self._template.key == key:
            return self._template
        canvas = compose.blank(pane_wh)
        view_box, panel_box = compose.split_for_panel(pane_wh)
        view = compose.fit(frame_wh, view_box.inset(4))
        layer = self._by_name[maps.layer_name]
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
        canvas.setflags(write=False)
        self._template = _PanelTemplate(key, canvas, view, layer, grid, compose.centred(grid, grid_box), scale * 0.75)
        return self._template


@dataclass(frozen=True, slots=True)
class _PanelTemplate:
    key: tuple
    background: np.ndarray
    view: Placement
    layer: LayerInfo
    grid: GridLayout
    origin: tuple[int, int]
    label_scale: float


def _draw_result_into(scene, result, view: Placement) -> None:
    if isinstance(result, Detections):
        draw_detections_into(scene, compose.scale_result(result, view))
    elif isinstance(result, Classification):
        draw_classification_into(scene, result, compose.PANEL_STYLE)
