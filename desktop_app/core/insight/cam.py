"""Class activation maps: what part of the frame drove the decision.

Grad-CAM (gradient-weighted, for classifiers: top class or a chosen class) and EigenCAM (gradient-free: the first
principal component of a layer's activations, for YOLO detectors whose outputs have no single class score), both
computed here in PyTorch on the model's own device, with only the finished map copied back. They follow the
`grad-cam` package (pytorch_grad_cam), which the tests hold them to; the package copies every hooked activation
and gradient to the CPU and works there, which on a GPU cost ~110 ms of CPU work per EigenCAM map, and its first
import pulls in scikit-learn (4-8 s). EigenCAM takes the top eigenvector of the small C × C scatter matrix in
place of a full SVD of the HW × C matrix, and fixes the component's arbitrary sign; Grad-CAM backpropagates only
through the layers after the explained one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from enum import Enum
from typing import Mapping, Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from desktop_app.core.errors import InsightError
from desktop_app.core.insight.layers import LayerKind, list_conv_layers
from desktop_app.core.insight.preprocess import InputGeometry, Preprocess
from desktop_app.core.insight.torch_utils import eval_mode, input_gradients_only, module_device_dtype
from desktop_app.core.models.cuda_graphs import graph_safe

log = logging.getLogger(__name__)


class CamMethod(str, Enum):
    """Which class-activation map to compute."""

    GRAD_CAM = "gradcam"
    EIGEN_CAM = "eigencam"


@dataclass(frozen=True, slots=True)
class CamResult:
    """A CAM over one frame: `heat` (H, W) float32 in [0, 1] at frame resolution.

    `class_id`/`class_name` name the explained class (Grad-CAM) or are None (EigenCAM); `layer_names` are the
    layers the map was read from; `elapsed_ms` the wall time of the forward (and backward) pass.
    """

    method: CamMethod
    heat: np.ndarray
    layer_names: tuple[str, ...]
    class_id: int | None = None
    class_name: str | None = None
    elapsed_ms: float = 0.0

    def __post_init__(self) -> None:
        if self.heat.ndim != 2 or self.heat.dtype != np.float32:
            raise ValueError(f"heat must be (H, W) float32, got {self.heat.shape} {self.heat.dtype}")
        self.heat.setflags(write=False)


def default_gradcam_layer(module: nn.Module, input_hw: tuple[int, int]) -> str:
    """The last convolution whose output is still a spatial map (the classic Grad-CAM choice)."""
    spatial = [layer for layer in list_conv_layers(module, input_hw)
               if layer.kind is LayerKind.CONV and min(layer.out_shape_chw[1:]) > 1]
    if not spatial:
        raise InsightError("this model has no convolution layer with a spatial output to explain")
    return spatial[-1].name


def default_eigencam_layers(module: nn.Module, input_hw: tuple[int, int]) -> list[str]:
    """For an Ultralytics detector: the maps that feed the detection head (one per stride); else the last conv."""
    layers = getattr(module, "model", None)
    head = layers[-1] if isinstance(layers, nn.Sequential) and len(layers) else None
    sources = getattr(head, "f", None)
    if isinstance(sources, (list, tuple)) and sources:
        head_index = len(layers) - 1  # Ultralytics' `f` is absolute, or relative to the head when negative
        return [f"model.{i if i >= 0 else head_index + i}" for i in sources]
    return [default_gradcam_layer(module, input_hw)]


def grad_cam(
    module: nn.Module,
    preprocess: Preprocess,
    image_bgr: np.ndarray,
    *,
    class_id: int | None = None,
    layer_name: str | None = None,
    names: Mapping[int, str] | None = None,
) -> CamResult:
    """Grad-CAM of a classifier for `class_id` (the top class when None), mapped onto the frame (see
    `grad_cam_with_scores`, which this runs on `preprocess`'s input for the frame)."""
    device, dtype = module_device_dtype(module)
    x, geometry = preprocess(image_bgr, device=device, dtype=dtype)
    cam, _ = grad_cam_with_scores(module, x, geometry, class_id=class_id, layer_name=layer_name, names=names)
    return cam


def grad_cam_with_scores(
    module: nn.Module,
    x: torch.Tensor,
    geometry: InputGeometry,
    *,
    class_id: int | None = None,
    candidates: Sequence[int] | None = None,
    layer_name: str | None = None,
    names: Mapping[int, str] | None = None,
) -> tuple[CamResult, np.ndarray]:
    """Grad-CAM of a classifier on its input `x` (1, 3, h, w), and the class probabilities of that same pass:
    (classes,) float32, so a live view needs no second pass for the prediction.

    Explains `class_id`, or else the top class among `candidates` (all classes when None or none valid). The pass
    builds an autograd graph only from `layer_name` on: a forward hook swaps the layer's output for a leaf that
    requires grad, the parameters stay frozen and the input needs no gradient, so the backward pass covers just
    the layers after it (the package's backward went all the way to the input). The map is made on the model's
    device; one input-sized array and the probabilities are copied back."""
    input_hw = (int(x.shape[-2]), int(x.shape[-1]))
    layer_name = layer_name or default_gradcam_layer(module, input_hw)
    target = _module_named(module, layer_name)
    kept: dict[str, torch.Tensor] = {}

    def hook(_module: nn.Module, _args, output):
        if not isinstance(output, torch.Tensor):
            raise InsightError(f"layer {layer_name!r} does not output a feature map; pick a convolution")
        kept["maps"] = output.detach().requires_grad_(True)
        return kept["maps"].clone()  # a non-leaf for the layers after it, which may work in place

    start = time.perf_counter()
    handle = target.register_forward_hook(hook)
    try:
        with input_gradients_only(module):
            logits = module(x)
            probability = torch.softmax(logits[0].detach().float(), dim=0).cpu().numpy()
            if class_id is None:
                class_id = _top_class(probability, candidates)
            (grads,) = torch.autograd.grad(logits[0, class_id], kept["maps"])
    finally:
        handle.remove()
    with torch.no_grad():
        maps, grads = kept["maps"][0].float(), grads[0].float()
        weights = grads.mean(dim=(1, 2))  # each channel's importance: its gradient averaged over the map
        heat = (weights[:, None, None] * maps).sum(dim=0).clamp(min=0)
        heat = _unit(F.interpolate(_unit(heat)[None, None], size=input_hw, mode="bilinear", align_corners=False)[0, 0])
        heat = heat.cpu().numpy()
    elapsed_ms = (time.perf_counter() - start) * 1000.0
    name = names.get(class_id) if names else None
    frame_heat = normalised_heat(geometry.heat_to_frame(heat))
    return CamResult(CamMethod.GRAD_CAM, frame_heat, (layer_name,), class_id, name, elapsed_ms), probability


def _top_class(probability: np.ndarray, candidates: Sequence[int] | None) -> int:
    valid = [int(c) for c in candidates or () if 0 <= int(c) < len(probability)]
    if not valid:
        return int(probability.argmax())
    return valid[int(probability[valid].argmax())]


def eigen_cam(
    module: nn.Module,
    preprocess: Preprocess,
    image_bgr: np.ndarray,
    *,
    layer_names: Sequence[str] | None = None,
) -> CamResult:
    """EigenCAM (gradient-free) on `layer_names` (default: the maps feeding a YOLO head), mapped onto the frame.

    Computed where the model runs: the hooked activations never leave the device; only the finished map, one
    (H, W) array at the model's input size, is copied back (`eigen_heat`)."""
    input_hw = (preprocess.input_wh[1], preprocess.input_wh[0])
    layer_names = list(layer_names or default_eigencam_layers(module, input_hw))
    device, dtype = module_device_dtype(module)
    x, geometry = preprocess(image_bgr, device=device, dtype=dtype)
    start = time.perf_counter()
    hooks = EigenCamHooks(module, layer_names)
    try:
        with eval_mode(module), torch.inference_mode():
            module(x)
            heat = hooks.heat()
    finally:
        hooks.close()
    elapsed_ms = (time.perf_counter() - start) * 1000.0
    frame_heat = normalised_heat(geometry.heat_to_frame(heat))
    return CamResult(CamMethod.EIGEN_CAM, frame_heat, tuple(layer_names), elapsed_ms=elapsed_ms)


class EigenCamHooks:
    """EigenCAM read from a pass the model makes anyway (the live prediction), so the CAM costs no second pass.

    Graph-safe forward hooks keep the outputs of `layer_names` where they are (on the device; under a CUDA graph,
    the captured pass's buffers, which every replay refreshes) and a pre-hook notes the input size; `heat()` then
    turns them into that pass's EigenCAM at input resolution. Attach and close on the thread that runs the model.
    """

    def __init__(self, module: nn.Module, layer_names: Sequence[str]) -> None:
        targets = [_module_named(module, name) for name in layer_names]
        self.module = module
        self.layer_names = tuple(layer_names)
        self.input_hw: tuple[int, int] = (0, 0)
        self._captured: dict[int, torch.Tensor] = {}
        self._last: dict[int, torch.Tensor] = {}
        self._handles = [module.register_forward_pre_hook(self._root_hook())]
        self._handles += [target.register_forward_hook(self._layer_hook(i)) for i, target in enumerate(targets)]

    def _root_hook(self):
        def hook(_module: nn.Module, args) -> None:
            self._captured.clear()
            x = args[0] if args and isinstance(args[0], torch.Tensor) else None
            self.input_hw = (int(x.shape[-2]), int(x.shape[-1])) if x is not None and x.ndim == 4 else (0, 0)

        return graph_safe(hook, self._captured.clear)

    def _layer_hook(self, index: int):
        def hook(_module: nn.Module, _args, output) -> None:
            while isinstance(output, (tuple, list)):
                output = output[0]
            self._captured[index] = self._last[index] = output.detach()

        def replay() -> None:
            if index in self._last:
                self._captured[index] = self._last[index]

        return graph_safe(hook, replay)

    def heat(self) -> np.ndarray:
        """(h, w) float32 in [0, 1]: EigenCAM of the latest pass at its input size; InsightError if the hooked
        layers did not run in it."""
        if len(self._captured) != len(self.layer_names) or min(self.input_hw) <= 0:
            raise InsightError(f"layers {', '.join(self.layer_names)} did not run while predicting this frame")
        with torch.inference_mode():
            maps = [self._captured[i] for i in range(len(self.layer_names))]
            return eigen_heat(maps, self.input_hw).cpu().numpy()

    @property
    def hook_count(self) -> int:
        return len(self._handles)

    def close(self) -> None:
        """Remove the hooks and drop the kept tensors (idempotent)."""
        while self._handles:
            self._handles.pop().remove()
        self._captured.clear()
        self._last.clear()


def eigen_heat(activations: Sequence[torch.Tensor], input_hw: tuple[int, int]) -> torch.Tensor:
    """(H, W) float32 EigenCAM on the activations' device, as pytorch_grad_cam aggregates it: per layer the first
    principal component of the first image's activations, negatives cut, scaled to [0, 1] and resized bilinearly to
    the input; then the mean over layers, scaled to [0, 1] again."""
    maps = []
    for activation in activations:
        heat = first_component_projection(activation[0]).clamp(min=0)
        maps.append(F.interpolate(_unit(heat)[None, None], size=input_hw, mode="bilinear",
                                  align_corners=False)[0, 0])
    return _unit(torch.stack(maps).clamp(min=0).mean(dim=0))


def first_component_projection(activation: torch.Tensor) -> torch.Tensor:
    """(C, H, W) activations projected on their first principal component: (H, W) float32, on their device.

    The first right singular vector of the centred (HW, C) matrix is the top eigenvector of its small (C, C)
    scatter matrix: the same component as EigenCAM's SVD without decomposing the tall matrix. Its sign is
    arbitrary; it is chosen so the strongest response is positive (Seg-Eigen-CAM's correction).
    """
    c, h, w = activation.shape
    # float32 is enough for the direction of the top component (the tests hold it to numpy's float64 result),
    # and twice as fast as float64 on CPUs; half-precision activations are widened first
    flat = torch.nan_to_num(activation.reshape(c, h * w).T.float())
    flat = flat - flat.mean(dim=0)
    _, vectors = torch.linalg.eigh(flat.T @ flat)
    projection = (flat @ vectors[:, -1]).reshape(h, w)
    if projection.min().abs() > projection.max().abs():
        projection = -projection
    return projection


def _unit(heat: torch.Tensor) -> torch.Tensor:
    heat = heat - heat.min()
    return heat / (heat.max() + 1e-7)


def _module_named(module: nn.Module, name: str) -> nn.Module:
    found = dict(module.named_modules()).get(name)
    if found is None or not name:
        raise InsightError(f"layer {name!r} is not part of this model; pick one from the layer list")
    return found


def normalised_heat(heat: np.ndarray) -> np.ndarray:
    """A heat map scaled to [0, 1] float32 (all zeros when flat); NaNs and infinities become 0."""
    heat = np.asarray(heat, dtype=np.float32)
    low, high = float(heat.min()), float(heat.max())
    if not (np.isfinite(low) and np.isfinite(high)):
        heat = np.nan_to_num(heat, nan=0.0, posinf=0.0, neginf=0.0)
        low, high = float(heat.min()), float(heat.max())
    if high <= low:
        return np.zeros_like(heat)
    return cv2.normalize(heat, None, 0.0, 1.0, cv2.NORM_MINMAX, dtype=cv2.CV_32F)  # one fast pass at frame size
