"""The `hierarchy` pane: early, middle and deep layers of one model side by side, from its prediction pass."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from desktop_app.core.errors import InsightError
from desktop_app.core.frames import Frame
from desktop_app.core.insight import compose
from desktop_app.core.insight.compose import Box
from desktop_app.core.insight.hooked_view import HookedView, draw_channel_tiles, probe_layers
from desktop_app.core.insight.layers import LayerInfo, find_layer, pick_hierarchy_layers
from desktop_app.core.insight.recorder import FeatureMaps
from desktop_app.core.insight.runner_base import LiveSettings
from desktop_app.core.models.base import ModelAdapter, PredictOptions
from desktop_app.core.models.results import StageTimes
from desktop_app.core.pipeline import FinishPane, PaneOutput


class HierarchyRunner(HookedView):
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

    def infer(self, frame: Frame, pane_index: int) -> FinishPane:
        """Predict with hooks on the shown layers now; the step returned draws one column per layer (on the
        pipeline's draw thread)."""
        names = self._shown.value.names
        result, maps, collect_ms = self._record(frame, names)
        shown = [maps[n] for n in names]
        t = result.timings
        timings = StageTimes(t.preprocess_ms, t.inference_ms, t.postprocess_ms + collect_ms)
        label, pane_wh = self.label, self.pane_wh(frame)

        def draw() -> PaneOutput:
            started = time.perf_counter()
            image = self._render(frame, shown, pane_wh)
            render_ms = (time.perf_counter() - started) * 1000.0
            extras = {"view": self.kind, "layers": self.layers, "shown_layers": names}
            return PaneOutput(pane_index, image, result, label, timings, render_ms, extras=extras)

        return draw

    def run(self, frame: Frame, pane_index: int) -> PaneOutput:
        """Predict with hooks on the shown layers and draw one column per layer."""
        return self.infer(frame, pane_index)()

    def _render(self, frame: Frame, maps: list[FeatureMaps], pane_wh: tuple[int, int] | None = None) -> np.ndarray:
        fh, fw = frame.image.shape[:2]
        pane_wh = pane_wh or (fw, fh)
        canvas = compose.blank(pane_wh)
        scale = compose.text_scale(canvas.shape)
        titles = self.TITLES if len(maps) == 3 else tuple(f"layer {i + 1}" for i in range(len(maps)))
        scene = None
        columns = compose.split_even(Box(0, 0, *pane_wh).inset(4), len(maps), gap=8)
        for column, fm, title in zip(columns, maps, titles):
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
            compose.heat_on_view(scene, fm.mean_map, self.geometry((fw, fh), fm.input_hw), alpha=0.55,
                                 dst=compose.region(canvas, view.box))
            n, mh, mw = fm.channel_maps.shape
            grid = compose.best_grid(n, bottom.inset(2), mh / mw)
            draw_channel_tiles(canvas, fm, grid, compose.centred(grid, bottom.inset(2), "top"), scale * 0.7, (h, w))
        return canvas


@dataclass(frozen=True, slots=True)
class _Shown:
    names: tuple[str, ...]
