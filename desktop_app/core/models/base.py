"""The interface every model adapter implements, and the options a pane passes to it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Mapping

from desktop_app.core.frames import Frame
from desktop_app.core.models.results import TaskResult
from desktop_app.core.models.tasks import Task


@dataclass(frozen=True, slots=True)
class PredictOptions:
    """Per-pane thresholds, adjustable live. `classes` keeps only those class ids (None keeps all)."""

    conf: float = 0.25
    iou: float = 0.7
    imgsz: int = 640
    classes: tuple[int, ...] | None = None
    top_k: int = 5

    def __post_init__(self) -> None:
        if not 0.0 <= self.conf <= 1.0:
            raise ValueError(f"conf must be in [0, 1], got {self.conf}")
        if not 0.0 <= self.iou <= 1.0:
            raise ValueError(f"iou must be in [0, 1], got {self.iou}")
        if self.imgsz < 32 or self.imgsz % 32:
            raise ValueError(f"imgsz must be a multiple of 32 and at least 32, got {self.imgsz}")
        if self.top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {self.top_k}")


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What a loaded model is. `untrained` is True for architectures built from YAML with random weights:
    their output must never be presented as a prediction. `backend` is `torch`, `onnx`, `openvino` or
    `tensorrt`; `precision` is `fp32`, `fp16` or `int8`; `runtime` names how it runs when that matters for speed
    (`CUDA graph`), else is empty."""

    model_id: str
    task: Task
    names: Mapping[int, str]
    device: str
    precision: str = "fp32"
    backend: str = "torch"
    untrained: bool = False
    runtime: str = ""

    @property
    def display_name(self) -> str:
        return f"{self.model_id} (untrained)" if self.untrained else self.model_id


class ModelAdapter(ABC):
    """A loaded model that turns a `Frame` into a project result. Framework objects never leave it."""

    info: ModelInfo

    @abstractmethod
    def predict(self, frame: Frame, options: PredictOptions) -> TaskResult:
        """Run the model on one frame (BGR) and return a result tagged with the frame's index and timestamp."""

    @property
    def torch_module(self) -> Any | None:
        """The underlying `torch.nn.Module` for views that hook into layers, or None for exported backends."""
        return None

    def close(self) -> None:
        """Release the model's memory (GPU included). The adapter must not be used afterwards."""
