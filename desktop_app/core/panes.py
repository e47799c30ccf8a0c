"""Build the runner that fills a pane from what the user chose (task or view name + model spec).

Task panes load a model and check that its own task matches. Insight views (feature maps, Grad-CAM, …) register
their own builders here, so the GUI, the CLI and settings all speak the same `TASK:MODEL` language.
"""

from __future__ import annotations

import difflib
from typing import Callable

from desktop_app.core.errors import ModelTaskError
from desktop_app.core.models.exports import BACKENDS
from desktop_app.core.models.tasks import Task
from desktop_app.core.pipeline import ModelPane, PaneRunner, PaneSpec

ProgressCallback = Callable[[int, int], None]
RunnerBuilder = Callable[[PaneSpec, str, "ProgressCallback | None"], PaneRunner]

_VIEW_BUILDERS: dict[str, RunnerBuilder] = {}
_VIEW_DESCRIPTIONS: dict[str, str] = {}


def register_view(name: str, builder: RunnerBuilder, description: str) -> None:
    """Make an insight view available as a pane kind under `name` (e.g. `features`)."""
    _VIEW_BUILDERS[name] = builder
    _VIEW_DESCRIPTIONS[name] = description


def _ensure_views_registered() -> None:
    # Insight views register themselves when their module is imported. Deferred so that start-up and the plain
    # task path do not pay for torch hooks and CAM libraries.
    import desktop_app.core.insight.runners  # noqa: F401


def pane_kinds() -> dict[str, str]:
    """Every pane kind a user can name, with a one-line description."""
    _ensure_views_registered()
    kinds = {
        Task.CLASSIFY.value: "top-5 classes with probability bars",
        Task.DETECT.value: "boxes with class and confidence",
        Task.SEGMENT.value: "translucent instance masks with outlines",
        Task.POSE.value: "keypoints and skeleton",
    }
    kinds.update(_VIEW_DESCRIPTIONS)
    return kinds


def validate_kind(name: str) -> str:
    """Return `name` if it is a pane kind, else raise ValueError suggesting the closest one."""
    kinds = pane_kinds()
    if name in kinds:
        return name
    close = difflib.get_close_matches(name, list(kinds), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown task {name!r}{hint} (choose from: {', '.join(kinds)})")


def split_backend(model: str) -> tuple[str, str]:
    """`"yolo11n@openvino"` -> ("yolo11n", "openvino"); no suffix means PyTorch. The exported model is made once
    and cached in the models folder."""
    name, sep, backend = model.rpartition("@")
    if sep and name and backend.lower() in BACKENDS:
        return name, backend.lower()
    return model, "torch"


def build_runner(spec: PaneSpec, device: str = "auto", progress: ProgressCallback | None = None) -> PaneRunner:
    """Load what `spec` asks for and return a ready runner. Raises CnnLensError subclasses on user errors."""
    kind = validate_kind(spec.task)
    if kind in _VIEW_BUILDERS:
        return _VIEW_BUILDERS[kind](spec, device, progress)
    from desktop_app.core.models.loader import load_model

    task = Task(kind)
    model, backend = split_backend(spec.model)
    adapter = load_model(model, device=device, task=task, progress=progress, backend=backend,
                         imgsz=spec.options.imgsz)
    if adapter.info.task is not task:  # loaders check too; this guards adapters that do not
        adapter.close()
        raise ModelTaskError(f"{spec.model} is a {adapter.info.task.value} model, not {task.value}")
    return ModelPane(adapter, spec.options, task)
