"""One frame through an Ultralytics predictor that is already set up: its three stages run directly, with the
GPU input path (`device_input`) and CUDA graph replay (`cuda_graphs`) where they are switched on.

`YOLO.predict` re-merges arguments and rebuilds its source loader on every call (~2 ms a frame on the CPU); with
unchanged arguments the predictor is ready, so its preprocess, inference and postprocess run here as its own
stream loop runs them, each timed.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np
import torch

from desktop_app.core.models.cuda_graphs import GraphedForward
from desktop_app.core.models.device_input import DevicePreprocessor


def graph_model_key(predictor: Any) -> tuple:
    """What a CUDA graph of this predictor's model depends on beyond its input: the model object, and the
    tensors its detection head caches per input shape (anchors, strides), which an eager pass at another shape
    replaces; a graph would otherwise read their freed memory."""
    layers = getattr(getattr(predictor.model, "model", None), "model", None)
    head = layers[-1] if isinstance(layers, torch.nn.Sequential) and len(layers) else None
    cached = tuple(v.data_ptr() for v in vars(head).values() if isinstance(v, torch.Tensor)) if head else ()
    return id(predictor.model), cached


class PredictorStages:
    """Runs frames through one adapter's predictor. `network()` gives the module that hooks are put on (Ultralytics'
    AutoBackend holds it outside its own module tree), so graphs can see them."""

    def __init__(self, *, device_input: bool, cuda_graphs: bool,
                 network: Callable[[], torch.nn.Module | None]) -> None:
        self._use_device_input = device_input
        self._use_graphs = cuda_graphs
        self._network = network
        self._device_input: DevicePreprocessor | None = None
        self._graphed: tuple[tuple[int, int], GraphedForward] | None = None
        self._predictor: Any = None  # the one running now; its letterbox gives the device input's geometry

    def _input_for(self, predictor: Any) -> DevicePreprocessor | None:
        if not self._use_device_input:
            return None
        if self._device_input is None:
            self._device_input = DevicePreprocessor(
                predictor.device, half=bool(getattr(predictor.model, "fp16", False)),
                padded_shape=lambda image: self._predictor.pre_transform([image])[0].shape[:2])
        return self._device_input

    def _graphed_for(self, predictor: Any) -> GraphedForward | None:
        if not self._use_graphs or not isinstance(getattr(predictor, "model", None), torch.nn.Module):
            return None
        key = (id(predictor), id(predictor.model))
        if self._graphed is None or self._graphed[0] != key:
            watched = torch.nn.ModuleList([predictor.model, self._network() or predictor.model])
            self._graphed = (key, GraphedForward(predictor.inference, watched))
        return self._graphed[1]

    def run(self, predictor: Any, image: np.ndarray) -> Any:
        """The predictor's result for one BGR frame, with `speed` holding the three stage times in ms."""
        predictor.batch = (["frame"], [image], [""])
        self._predictor = predictor
        started = time.perf_counter()
        device_input = self._input_for(predictor)
        if device_input is not None:
            im = device_input(image, key=(id(predictor), tuple(predictor.imgsz)))
        else:
            im = predictor.preprocess([image])
        preprocessed = time.perf_counter()
        graphed = self._graphed_for(predictor)
        preds = graphed(im, model_key=graph_model_key(predictor)) if graphed else predictor.inference(im)
        if im.device.type == "cuda":
            torch.cuda.synchronize(im.device)
        inferred = time.perf_counter()
        result = predictor.postprocess(preds, im, [image])[0]
        done = time.perf_counter()
        result.speed = {"preprocess": (preprocessed - started) * 1e3, "inference": (inferred - preprocessed) * 1e3,
                        "postprocess": (done - inferred) * 1e3}
        return result

    def eager_pass_ahead(self) -> None:
        """Call before a forward pass that does not go through `run` (a re-armed predictor, tracking): it may
        rebuild what a captured graph reads, so the graph is dropped and captured again later."""
        if self._graphed is not None:
            self._graphed[1].reset()

    @property
    def uses_device_input(self) -> bool:
        return self._device_input is not None

    @property
    def graph_stats(self) -> dict[str, int]:
        """CUDA graph captures and replays so far (zeros when graphs are not in use)."""
        graphed = self._graphed[1] if self._graphed else None
        return {"captures": graphed.captures if graphed else 0, "replays": graphed.replays if graphed else 0}

    def close(self) -> None:
        """Release the pinned buffers and the captured graph."""
        self._predictor = None
        if self._device_input is not None:
            self._device_input.close()
            self._device_input = None
        if self._graphed is not None:
            self._graphed[1].reset()
            self._graphed = None
