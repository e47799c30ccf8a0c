"""Transfer learning, live: a new linear head on a frozen pretrained backbone, trained in seconds.

Each captured frame goes through the backbone once (and its mirror image, a free extra example); only the
embeddings are kept, so training the head is a few hundred full-batch steps on a small matrix.
"""

from __future__ import annotations

import logging
import pickle
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from desktop_app.core.errors import InsightError
from desktop_app.core.frames import Frame
from desktop_app.core.insight.preprocess import Preprocess
from desktop_app.core.insight.torch_utils import eval_mode, module_device_dtype
from desktop_app.core.models.results import Classification

log = logging.getLogger(__name__)

MIN_CLASSES, MAX_CLASSES = 2, 5
ProgressCallback = Callable[[int, float, float], None]


@dataclass(frozen=True, slots=True)
class TrainReport:
    """How a head training went: final training `accuracy` in [0, 1], `loss`, `epochs`, wall `seconds`."""

    accuracy: float
    loss: float
    epochs: int
    seconds: float
    samples: int


class PenultimateFeatures(nn.Module):
    """A classifier seen as a backbone: returns the input of its last Linear layer (the pooled features).

    Works for any network whose head ends in an nn.Linear (EfficientNet, torchvision, Ultralytics -cls).
    """

    def __init__(self, classifier: nn.Module) -> None:
        super().__init__()
        linears = [m for m in classifier.modules() if isinstance(m, nn.Linear)]
        if not linears:
            raise InsightError("this model has no final linear layer to replace; use a classification model")
        self.classifier = classifier
        self._head = linears[-1]
        self._captured: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        handle = self._head.register_forward_pre_hook(self._capture)
        try:
            self.classifier(x)
        finally:
            handle.remove()
        features, self._captured = self._captured, None
        if features is None:
            raise InsightError("the classifier's last linear layer was not used in its forward pass")
        return features

    def _capture(self, module: nn.Module, args) -> None:
        self._captured = args[0].detach().flatten(1)


class TeachSession:
    """Capture frames for 2–5 named classes, train a linear head on frozen backbone features, classify live.

    `backbone` maps a (N, 3, H, W) input to (N, D) features (or (N, C, H, W) maps, average-pooled); wrap a
    whole classifier with `PenultimateFeatures`. The backbone is never trained and its flags are left as found.
    """

    def __init__(
        self,
        backbone: nn.Module,
        preprocess: Preprocess,
        class_names: Sequence[str] = (),
        *,
        mirror_augment: bool = True,
    ) -> None:
        self._backbone = backbone
        self._preprocess = preprocess
        self._mirror = mirror_augment
        self._names: list[str] = []
        self._features: dict[str, list[torch.Tensor]] = {}
        self._head: nn.Linear | None = None
        self._norm: tuple[torch.Tensor, torch.Tensor] | None = None
        for name in class_names:
            self.add_class(name)

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self._names)

    @property
    def counts(self) -> dict[str, int]:
        """Frames captured per class (mirror images not counted)."""
        per_frame = 2 if self._mirror else 1
        return {name: len(self._features[name]) // per_frame for name in self._names}

    @property
    def trained(self) -> bool:
        return self._head is not None

    def add_class(self, name: str) -> None:
        """A new, empty class; at most 5, names unique and non-empty."""
        name = name.strip()
        if not name:
            raise InsightError("a class needs a name")
        if name in self._names:
            raise InsightError(f"there is already a class called {name!r}")
        if len(self._names) >= MAX_CLASSES:
            raise InsightError(f"Teach mode handles at most {MAX_CLASSES} classes")
        self._names.append(name)
        self._features[name] = []
        self._head = None

    def capture(self, class_name: str, image: np.ndarray | Frame) -> int:
        """Add one frame (BGR) as an example of `class_name`; returns that class's frame count."""
        if class_name not in self._features:
            raise InsightError(f"no class called {class_name!r}; add it first")
        image_bgr = image.image if isinstance(image, Frame) else image
        x = self._input(image_bgr)
        if self._mirror:
            x = torch.cat([x, torch.flip(x, dims=[3])])
        self._features[class_name].extend(self._embed(x).cpu())
        return self.counts[class_name]

    def train(
        self,
        *,
        epochs: int = 200,
        learning_rate: float = 0.01,
        weight_decay: float = 1e-4,
        progress: ProgressCallback | None = None,
        seed: int = 0,
    ) -> TrainReport:
        """Train a fresh linear head on all captured examples (full batch, Adam); `progress(epoch, loss, acc)`."""
        empty = [n for n in self._names if not self._features[n]]
        if len(self._names) < MIN_CLASSES:
            raise InsightError(f"add at least {MIN_CLASSES} classes before training")
        if empty:
            raise InsightError(f"capture at least one frame of {empty[0]!r} before training")
        features = torch.stack([f for n in self._names for f in self._features[n]]).float()
        labels = torch.tensor([i for i, n in enumerate(self._names) for _ in self._features[n]])
        # standardising the features makes one learning rate work for any backbone's feature scale
        mean, std = features.mean(dim=0), features.std(dim=0).clamp(min=1e-6)
        inputs = (features - mean) / std
        generator = torch.Generator().manual_seed(seed)
        head = nn.Linear(inputs.shape[1], len(self._names))
        with torch.no_grad():
            head.weight.copy_(torch.randn(head.weight.shape, generator=generator) * 0.01)
            head.bias.zero_()
        optimizer = torch.optim.Adam(head.parameters(), lr=learning_rate, weight_decay=weight_decay)
        start = time.perf_counter()
        loss_value, accuracy = float("nan"), 0.0
        with torch.enable_grad():
            for epoch in range(1, epochs + 1):
                optimizer.zero_grad()
                logits = head(inputs)
                loss = F.cross_entropy(logits, labels)
                loss.backward()
                optimizer.step()
                loss_value = float(loss.detach())
                accuracy = float((logits.argmax(dim=1) == labels).float().mean())
                if progress is not None:
                    progress(epoch, loss_value, accuracy)
        seconds = time.perf_counter() - start
        self._head, self._norm = head.eval(), (mean, std)
        log.info("Teach head trained: %d samples, %d classes, acc %.3f in %.2f s",
                 len(labels), len(self._names), accuracy, seconds)
        return TrainReport(accuracy, loss_value, epochs, seconds, len(labels))

    def predict(self, image: np.ndarray | Frame, top_k: int = 5) -> Classification:
        """The trained head's classes for one frame, most probable first."""
        if self._head is None or self._norm is None:
            raise InsightError("train the new head before classifying with it")
        frame_index, timestamp_s = (image.frame_index, image.timestamp_s) if isinstance(image, Frame) else (0, 0.0)
        image_bgr = image.image if isinstance(image, Frame) else image
        features = self._embed(self._input(image_bgr)).cpu().float()
        with torch.no_grad():
            probabilities = self._head((features - self._norm[0]) / self._norm[1]).softmax(dim=1)[0]
        values, indices = probabilities.topk(min(top_k, len(self._names)))
        return Classification(
            frame_index=frame_index,
            timestamp_s=timestamp_s,
            class_id=indices.numpy(),
            probability=values.numpy(),
            class_name=tuple(self._names[int(i)] for i in indices),
        )

    def save(self, path: str | Path) -> Path:
        """Write the head, its feature normalisation and the class names (a plain tensor/str file)."""
        if self._head is None or self._norm is None:
            raise InsightError("train the new head before saving it")
        path = Path(path)
        state = {
            "format": "cnnlens-teach-head/1",
            "class_names": list(self._names),
            "head": {k: v.detach().cpu() for k, v in self._head.state_dict().items()},
            "feature_mean": self._norm[0],
            "feature_std": self._norm[1],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(state, path)
        return path

    def load(self, path: str | Path) -> None:
        """Replace classes and head with a saved one (safe loading: tensors and strings only)."""
        try:
            state = torch.load(Path(path), map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as exc:
            raise InsightError(f"cannot read the trained head {str(path)!r}: {exc}") from exc
        if not isinstance(state, Mapping) or state.get("format") != "cnnlens-teach-head/1":
            raise InsightError(f"{str(path)!r} is not a CNN Lens Teach head")
        weight = state["head"]["weight"]
        expected = self._feature_dim()
        if weight.shape[1] != expected:
            raise InsightError(
                f"this head was trained on {weight.shape[1]}-d features but the current model gives "
                f"{expected}-d; load it with the model it was trained with"
            )
        head = nn.Linear(weight.shape[1], weight.shape[0])
        head.load_state_dict(state["head"])
        self._names = [str(n) for n in state["class_names"]]
        self._features = {n: [] for n in self._names}
        self._head, self._norm = head.eval(), (state["feature_mean"], state["feature_std"])

    def _input(self, image_bgr: np.ndarray) -> torch.Tensor:
        device, dtype = module_device_dtype(self._backbone)
        x, _ = self._preprocess(image_bgr, device=device, dtype=dtype)
        return x

    @torch.no_grad()
    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        with eval_mode(self._backbone):
            out = self._backbone(x)
        if out.ndim == 4:
            out = out.mean(dim=(2, 3))
        return out.flatten(1).float()

    def _feature_dim(self) -> int:
        iw, ih = self._preprocess.input_wh
        device, dtype = module_device_dtype(self._backbone)
        return int(self._embed(torch.zeros(1, 3, ih, iw, device=device, dtype=dtype)).shape[1])
