"""What the feature-map panes share: a model whose prediction pass is recorded by forward hooks on a few of its
layers, and the channel tiles they draw."""

from __future__ import annotations

import time
from typing import Sequence

import cv2
import numpy as np

from desktop_app.core.errors import InsightError
from desktop_app.core.frames import Frame
from desktop_app.core.insight import compose
from desktop_app.core.insight.layers import LayerInfo, list_conv_layers
from desktop_app.core.insight.preprocess import InputGeometry, letterbox_geometry
from desktop_app.core.insight.recorder import ActivationRecorder, FeatureMaps
from desktop_app.core.insight.runner_base import is_ultralytics, model_preprocess
from desktop_app.core.insight.views import GridLayout
from desktop_app.core.models.base import ModelAdapter, PredictOptions
from desktop_app.core.models.tasks import Task
from desktop_app.core.render import Colormap, colorize
from desktop_app.core.render.text import draw_label_into


def probe_layers(adapter: ModelAdapter, options: PredictOptions) -> tuple[LayerInfo, ...]:
    """The model's conv/pool layers. Shapes are for a square input of the pane's image size (the classifier's
    crop size); strides and receptive fields hold at any input size."""
    iw, ih = model_preprocess(adapter, options.imgsz).input_wh
    return tuple(list_conv_layers(adapter.torch_module, (ih, iw)))


class HookedView:
    """A model whose prediction pass is recorded by forward hooks on some of its layers.

    Owns the adapter (closed in `close`) and the recorder; hooks are (re)attached only on the inference thread,
    between two passes.
    """

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
        #: The size the composed view shows this pane at, when smaller than the frame (the pipeline sets it):
        #: the view lays itself out and draws at that size. None: at frame size.
        self.display_wh: tuple[int, int] | None = None

    def pane_wh(self, frame: Frame) -> tuple[int, int]:
        """The size to draw this frame's pane at: where it is shown, or the frame's own size."""
        return self.display_wh or frame.resolution_wh

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



def draw_channel_tiles(canvas: np.ndarray, maps: FeatureMaps, grid: GridLayout, origin: tuple[int, int],
                       scale: float, map_hw: tuple[int, int], cell: tuple[int, int] | None = None,
                       show_index: bool = True, stamps: compose.LabelStamps | None = None) -> None:
    """The recorded channels on `canvas` in place, strongest first, each with its channel index; the selected
    cell, when given, outlined on every tile."""
    cw, ch = grid.cell_wh
    ox, oy = origin
    n, h, w = maps.channel_maps.shape
    # one colour lookup and one resize for all channels stacked: cv2's fixed cost per call dwarfs these tiny
    # maps; nearest keeps each feature-map cell a visible square (the tile *is* the layer's resolution)
    colored = colorize(maps.channel_maps.reshape(n * h, w), Colormap.VIRIDIS, value_range=(0.0, 1.0))
    tiles = cv2.resize(colored, (cw, n * ch), interpolation=cv2.INTER_NEAREST)
    for i in range(n):
        x, y = grid.cell_origin(i)
        x, y = x + ox, y + oy
        canvas[y : y + ch, x : x + cw] = tiles[i * ch : (i + 1) * ch]
        if cell is not None:
            mh, mw = map_hw
            sx, sy = cw / mw, ch / mh
            compose.outline(canvas, (x + cell[1] * sx, y + cell[0] * sy, x + (cell[1] + 1) * sx,
                                     y + (cell[0] + 1) * sy), thickness=1)
        if show_index and stamps is not None:
            stamps.stamp(canvas, f"#{int(maps.channel_index[i])}", (x, y), scale)
        elif show_index:
            draw_label_into(canvas, f"#{int(maps.channel_index[i])}", (x, y), (40, 40, 40), scale)
