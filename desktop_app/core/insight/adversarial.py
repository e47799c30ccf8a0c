"""Adversarial examples: the fast gradient sign method (FGSM) on a classifier.

One gradient of the loss with respect to the input pixels, one step of `epsilon` (in [0, 1] pixel units) along
its sign. The perturbed image is rounded to 8-bit pixels before it is classified, so the prediction shown is the
prediction for exactly the image shown.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from desktop_app.core.frames import Frame
from desktop_app.core.insight.preprocess import Preprocess
from desktop_app.core.insight.torch_utils import input_gradients_only, module_device_dtype
from desktop_app.core.models.results import Classification


@dataclass(frozen=True, slots=True)
class FgsmResult:
    """An FGSM attack on one frame, at the model's input resolution.

    `clean_bgr`, `adversarial_bgr` (h, w, 3) uint8 BGR: the model input before and after the attack.
    `perturbation_bgr` (h, w, 3) uint8: the perturbation magnified so ±epsilon spans 0..255 (grey = unchanged).
    `original`/`perturbed`: top-k of each. `target_class_id` is None for an untargeted attack.
    """

    epsilon: float
    original: Classification
    perturbed: Classification
    clean_bgr: np.ndarray
    adversarial_bgr: np.ndarray
    perturbation_bgr: np.ndarray
    target_class_id: int | None = None
    elapsed_ms: float = 0.0

    def __post_init__(self) -> None:
        for array in (self.clean_bgr, self.adversarial_bgr, self.perturbation_bgr):
            array.setflags(write=False)

    @property
    def fooled(self) -> bool:
        """True when the top-1 class changed."""
        return int(self.original.class_id[0]) != int(self.perturbed.class_id[0])


def fgsm(
    classifier_module: nn.Module,
    preprocess: Preprocess,
    image: np.ndarray | Frame,
    epsilon: float,
    target: int | None = None,
    *,
    names: Mapping[int, str] | None = None,
    top_k: int = 5,
) -> FgsmResult:
    """Perturb `image` (BGR frame) by `epsilon` per pixel to change the classifier's answer.

    Untargeted (`target` None): steps up the loss of the current top class. Targeted: steps down the loss of
    `target`. The caller's model is left as it was (eval mode and frozen weights only during the attack).
    """
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must be in [0, 1] (pixel scale), got {epsilon}")
    frame_index, timestamp_s = (image.frame_index, image.timestamp_s) if isinstance(image, Frame) else (0, 0.0)
    image_bgr = image.image if isinstance(image, Frame) else image
    device, dtype = module_device_dtype(classifier_module)
    unit, _ = preprocess.unit_tensor(image_bgr, device=device, dtype=dtype)
    start = time.perf_counter()
    with input_gradients_only(classifier_module):
        unit.requires_grad_(True)
        logits = classifier_module(preprocess.normalize(unit))
        label = int(logits.argmax(dim=1)[0]) if target is None else int(target)
        loss = F.cross_entropy(logits.float(), torch.tensor([label], device=device))
        (grad,) = torch.autograd.grad(loss, unit)
        direction = 1.0 if target is None else -1.0
        with torch.no_grad():
            adversarial = (unit + direction * epsilon * grad.sign()).clamp(0.0, 1.0)
            adversarial = torch.round(adversarial * 255.0) / 255.0
            adversarial_logits = classifier_module(preprocess.normalize(adversarial))
    elapsed_ms = (time.perf_counter() - start) * 1000.0
    clean = _to_bgr(unit.detach())
    attacked = _to_bgr(adversarial)
    delta = attacked.astype(np.float32) - clean.astype(np.float32)
    scale = 127.5 / max(epsilon * 255.0, 1.0)
    magnified = np.clip(127.5 + delta * scale, 0, 255).astype(np.uint8)
    return FgsmResult(
        epsilon=float(epsilon),
        original=_top_k(logits.detach(), names, top_k, frame_index, timestamp_s),
        perturbed=_top_k(adversarial_logits, names, top_k, frame_index, timestamp_s),
        clean_bgr=clean,
        adversarial_bgr=attacked,
        perturbation_bgr=magnified,
        target_class_id=None if target is None else int(target),
        elapsed_ms=elapsed_ms,
    )


def _top_k(logits: torch.Tensor, names, k: int, frame_index: int, timestamp_s: float) -> Classification:
    probabilities = logits.float().softmax(dim=1)[0]
    values, indices = probabilities.topk(min(k, probabilities.numel()))
    ids = indices.cpu().numpy()
    return Classification(
        frame_index=frame_index,
        timestamp_s=timestamp_s,
        class_id=ids,
        probability=values.cpu().numpy(),
        class_name=tuple((names or {}).get(int(i), str(int(i))) for i in ids),
    )


def _to_bgr(unit: torch.Tensor) -> np.ndarray:
    rgb = (unit[0].float().clamp(0, 1) * 255.0).round().byte().permute(1, 2, 0).cpu().numpy()
    return np.ascontiguousarray(rgb[:, :, ::-1])
