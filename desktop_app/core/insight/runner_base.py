"""What every model-backed insight pane shares: loading its model, insisting on the PyTorch module, the input
convention of the model, and thread-safe live settings (the GUI thread sets, the inference thread reads).
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Callable, Generic, TypeVar

import numpy as np
import torch
from torch import nn

from desktop_app.core.errors import InsightError, ModelTaskError
from desktop_app.core.insight.preprocess import Preprocess, ResizeMode, imagenet_preprocess, yolo_preprocess
from desktop_app.core.models.base import ModelAdapter, PredictOptions
from desktop_app.core.models.tasks import Task

_EXPORT_SUFFIXES = ("openvino", "onnx", "tensorrt")
S = TypeVar("S")


def load_view_model(kind: str, model: str, device: str, progress=None, *, imgsz: int = 640,
                    needs_classifier: bool = False) -> ModelAdapter:
    """Load `model` for the insight view `kind`; raises InsightError when the view cannot look inside it
    (exported backend) and ModelTaskError when it needs a classifier and got something else."""
    from desktop_app.core.models.loader import load_model

    name, sep, backend = model.rpartition("@")
    if sep and name and backend.lower() in _EXPORT_SUFFIXES:
        raise InsightError(needs_torch_message(kind, model, backend.lower()))
    adapter = load_model(model, device=device, progress=progress, imgsz=imgsz)
    try:
        if needs_classifier and adapter.info.task is not Task.CLASSIFY:
            raise ModelTaskError(
                f"{kind} needs a classifier, but {adapter.info.model_id} is a {adapter.info.task.value} model; "
                "choose a classification model such as efficientnet-lite0")
        if not isinstance(adapter.torch_module, nn.Module):
            raise InsightError(needs_torch_message(kind, adapter.info.model_id, adapter.info.backend))
    except BaseException:
        adapter.close()
        raise
    return adapter


def needs_torch_message(kind: str, model: str, backend: str) -> str:
    """Why an exported model cannot feed a view that hooks into layers, and what to do instead."""
    return (f"the {kind} view needs the PyTorch model: {model} runs on the {backend} backend, which hides its "
            "layers; choose the .pt model (without @" + backend + ") for this pane")


def is_ultralytics(adapter: ModelAdapter) -> bool:
    """True for adapters that run an Ultralytics YOLO (letterboxed input, its own predictor)."""
    from desktop_app.core.models.ultralytics_adapter import UltralyticsAdapter

    return isinstance(adapter, UltralyticsAdapter)


def own_model_input(adapter: ModelAdapter) -> Callable[[np.ndarray, PredictOptions], torch.Tensor] | None:
    """The adapter's own (BGR frame, options) → model input step, where a view can reuse it to feed the module
    exactly what `predict` would: the normalised (1, 3, crop, crop) tensor on the model's device, for torchvision
    classifiers and Ultralytics classifiers (their predictor's own preprocess). None for other models."""
    from desktop_app.core.models.torchvision_adapter import TorchvisionClassifier

    if isinstance(adapter, TorchvisionClassifier):
        return lambda image, _options: adapter.preprocess(image)
    if is_ultralytics(adapter) and adapter.info.task is Task.CLASSIFY:
        return adapter.model_input
    return None


def model_preprocess(adapter: ModelAdapter, imgsz: int) -> Preprocess:
    """The input convention `adapter` feeds its model with, for views that run the module themselves (a
    torchvision classifier's own resize and crop, which differ between weights: ResNet50 V2 resizes to 232)."""
    if not is_ultralytics(adapter):
        convention = getattr(adapter, "input_convention", None)
        if convention is None:
            return imagenet_preprocess(224)
        crop = convention.crop_size
        return Preprocess((crop, crop), ResizeMode.CENTER_CROP, convention.mean_rgb, convention.std_rgb,
                          crop_fraction=crop / convention.resize_size, area_when_shrinking=True,
                          interpolation=convention.interpolation)
    if adapter.info.task is Task.CLASSIFY:
        # Ultralytics classifiers: shorter side to imgsz, centre crop, pixels in [0, 1]
        return Preprocess((imgsz, imgsz), ResizeMode.CENTER_CROP, crop_fraction=1.0)
    return yolo_preprocess(imgsz)


class ClassifierLogits(nn.Module):
    """A classifier that returns logits (N, classes) whatever its own output convention.

    Ultralytics classifiers return (probabilities, logits) in eval mode; Grad-CAM and FGSM need the logits.
    """

    def __init__(self, classifier: nn.Module) -> None:
        super().__init__()
        self.model = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x)
        if isinstance(out, (tuple, list)):
            out = out[1] if len(out) > 1 and isinstance(out[1], torch.Tensor) else out[0]
        return out


class LiveSettings(Generic[S]):
    """A frozen settings object swapped atomically: setters (any thread) replace it, `run` reads one snapshot."""

    def __init__(self, initial: S) -> None:
        self._lock = threading.Lock()
        self._value = initial

    @property
    def value(self) -> S:
        return self._value

    def update(self, **changes) -> S:
        with self._lock:
            self._value = dataclasses.replace(self._value, **changes)
            return self._value
