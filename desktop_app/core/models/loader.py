"""`load_model`: one entry point from a catalog id, a YAML name or a model file to a ready `ModelAdapter`.

Model files can be pickles that run code when loaded: this only ever opens files the user named or the catalog
manages, and state dicts go through `weights_only=True`.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from desktop_app.core.errors import ModelError, ModelNotFoundError, ModelTaskError, ModelUnavailableError
from desktop_app.core.models import catalog
from desktop_app.core.models.base import ModelAdapter
from desktop_app.core.models.catalog import AdapterKind, CatalogEntry, ModelState
from desktop_app.core.models.device import is_out_of_memory, release_memory, select_device
from desktop_app.core.models.download import ProgressCallback, download_entry
from desktop_app.core.models.exports import BACKENDS, export_backend
from desktop_app.core.models.tasks import Task

log = logging.getLogger(__name__)

_YAML = (".yaml", ".yml")


def _as_task(task: Task | str | None) -> Task | None:
    if task is None or isinstance(task, Task):
        return task
    try:
        return Task.parse(task)
    except ValueError as exc:
        raise ModelTaskError(str(exc)) from None


def _examples(task: Task) -> str:
    ids = [e.model_id for e in catalog.entries(task=task, include_untrained=False)]
    preferred = [i for i in ("yolo11n-pose", "efficientnet-lite0") if i in ids]
    return ", ".join((preferred + [i for i in ids if i not in preferred])[:3])


def _task_error(name: str, actual: Task, wanted: Task) -> ModelTaskError:
    return ModelTaskError(f"{name} is a {actual.value} model, but a {wanted.value} model is needed here; "
                          f"choose a {wanted.value} model such as {_examples(wanted)}")


def _with_cpu_fallback(build: Callable[[str], ModelAdapter], device: str) -> ModelAdapter:
    # A model too large for the GPU still runs, more slowly, on the CPU; the HUD shows the device it got.
    resolved = select_device(device)
    try:
        return build(resolved)
    except Exception as exc:
        if not is_out_of_memory(exc) or resolved == "cpu":
            raise
        release_memory(resolved)
        log.warning("out of GPU memory loading the model on %s; falling back to the CPU", resolved)
        return build("cpu")


def _check_task(adapter: ModelAdapter, wanted: Task | None) -> ModelAdapter:
    if wanted is not None and adapter.info.task != wanted:
        adapter.close()
        raise _task_error(adapter.info.model_id, adapter.info.task, wanted)
    return adapter


@dataclass(frozen=True, slots=True)
class _Request:
    device: str
    progress: ProgressCallback | None
    track: bool
    backend: str
    imgsz: int


def _exported(source: str | Path, request: _Request) -> Path:
    from desktop_app.core.models.exports import export_for_cpu, export_tensorrt

    if request.backend == "tensorrt":
        return export_tensorrt(source, request.imgsz, device=select_device(request.device))
    return export_for_cpu(source, request.backend, request.imgsz)


def _ultralytics(source: str | Path, model_id: str | None, request: _Request,
                 task: Task | None = None) -> ModelAdapter:
    from desktop_app.core.models.ultralytics_adapter import UltralyticsAdapter

    if request.backend != "torch":
        source = _exported(source, request)  # cached in models/exports after the first time
    return _with_cpu_fallback(
        lambda d: UltralyticsAdapter(source, device=d, model_id=model_id, task=task, track=request.track),
        request.device)


def _torch_only(name: str, request: _Request) -> None:
    if request.backend != "torch":
        raise ModelError(f"{name} runs on PyTorch only: {request.backend} export is for Ultralytics models")


def _load_entry(entry: CatalogEntry, request: _Request) -> ModelAdapter:
    if entry.untrained:
        return _ultralytics(entry.filename, entry.model_id, request)
    state = catalog.status(entry)
    if state.state == ModelState.MISSING:
        raise ModelUnavailableError(state.message)
    path = state.path if state.state == ModelState.AVAILABLE else download_entry(entry, request.progress)
    assert path is not None
    if entry.adapter == AdapterKind.ULTRALYTICS:
        return _ultralytics(path, entry.model_id, request)
    _torch_only(entry.model_id, request)
    from desktop_app.core.models import torchvision_adapter as tv

    if entry.adapter == AdapterKind.EFFICIENTNET_LITE:
        return _with_cpu_fallback(lambda d: tv.load_efficientnet_lite0(path, d, model_id=entry.model_id),
                                  request.device)
    assert entry.torchvision_weights is not None
    return _with_cpu_fallback(
        lambda d: tv.load_torchvision_classifier(entry.torchvision_weights, path, d, model_id=entry.model_id),
        request.device)


def _load_file(path: Path, request: _Request, task: Task | None) -> ModelAdapter:
    suffix = path.suffix.lower()
    if suffix == ".pth":
        _torch_only(path.name, request)
        return _load_state_dict(path, request.device)
    if export_backend(path) is not None:
        if request.backend != "torch":
            log.info("%s is already an exported model; using it as it is", path.name)
        return _ultralytics(path, None, dataclasses.replace(request, backend="torch"), task)
    if suffix in (".pt", *_YAML):
        try:
            return _ultralytics(path, None, request, task)
        except ModelError as ultralytics_error:
            if suffix != ".pt":
                raise
            # A .pt can also be a bare classifier state dict (torch.save(model.state_dict(), ...)).
            try:
                _torch_only(path.name, request)
                return _load_state_dict(path, request.device)
            except ModelError:
                raise ultralytics_error from None
    raise ModelError(f"{path.name} is not a model format CNN Lens can open: use an Ultralytics .pt, a .yaml, "
                     "an .onnx file, an *_openvino_model folder, a TensorRT .engine, or a classifier .pth")


def _load_state_dict(path: Path, device: str) -> ModelAdapter:
    from desktop_app.core.models import torchvision_adapter as tv

    weights = [e.torchvision_weights for e in catalog.entries(task=Task.CLASSIFY) if e.torchvision_weights]
    return _with_cpu_fallback(lambda d: tv.classifier_from_state_dict(path, d, weights), device)


def _looks_like_path(spec: str) -> bool:
    return "/" in spec or "\\" in spec or spec.lower().endswith(catalog.MODEL_FILE_SUFFIXES)


def _not_found(spec: str) -> ModelNotFoundError:
    close = catalog.suggest(spec)
    hint = f"; did you mean {', '.join(close)}?" if close else "; run `cnnlens models` to list the catalog"
    if _looks_like_path(spec) and not spec.lower().endswith(_YAML):
        return ModelNotFoundError(f"model file {spec} does not exist and is not a catalog id{hint}")
    return ModelNotFoundError(f"unknown model {spec!r}{hint}")


def load_model(spec: str | Path, device: str = "auto", task: Task | str | None = None,
               progress: ProgressCallback | None = None, *, track: bool = False, backend: str = "torch",
               imgsz: int = 640) -> ModelAdapter:
    """Load a model ready to predict: `spec` is a catalog id (`yolo11n-pose`, `efficientnet-lite0`), a YAML name
    (`yolo11n-seg.yaml`: real architecture, untrained) or a path to a model file the user chose.

    The task comes from the model itself; a `task` that does not match raises `ModelTaskError`. A catalog model
    that is not on this machine is downloaded (reporting `progress(done_bytes, total_bytes)`) when online.
    `backend` `openvino` / `openvino-int8` / `onnx` (CPU) or `tensorrt` (CUDA) runs an Ultralytics model through
    an export at `imgsz`, made once and cached in the models folder. `track` fills track ids on detections.
    Raises `ModelNotFoundError` (with the closest ids), `ModelUnavailableError` or `ModelError`.
    """
    wanted = _as_task(task)
    if backend not in BACKENDS:
        raise ModelError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    request = _Request(device, progress, track, backend, imgsz)
    text = str(spec).strip()
    if not text:
        raise ModelNotFoundError("no model given; run `cnnlens models` to list the catalog")
    path = Path(text).expanduser()
    entry = None if path.exists() and _looks_like_path(text) else catalog.find(text)
    if entry is not None:
        if wanted is not None and entry.task != wanted:
            raise _task_error(entry.display_name, entry.task, wanted)
        return _load_entry(entry, request)
    if path.exists():
        log.info("loading model file %s (model files can run code: only files the user chose)", path)
        return _check_task(_load_file(path, request, wanted), wanted)
    if text.lower().endswith(_YAML) and "/" not in text and "\\" not in text:
        # A YAML name Ultralytics knows but the catalog does not list (another size or family).
        try:
            adapter = _ultralytics(text, None, request)
        except ModelError as exc:
            raise _not_found(text) from exc
        return _check_task(adapter, wanted)
    raise _not_found(text)


def resolve_ultralytics_weights(spec: str | Path) -> str | None:
    """What a plain `ultralytics.YOLO(...)` would load for `spec` (a local path or a YAML name), for baselines;
    None for non-Ultralytics models and catalog weights that are not on this machine."""
    text = str(spec).strip()
    path = Path(text).expanduser()
    entry = None if path.exists() and _looks_like_path(text) else catalog.find(text)
    if entry is not None:
        if entry.adapter != AdapterKind.ULTRALYTICS:
            return None
        if entry.untrained:
            return entry.filename
        state = catalog.status(entry)
        return str(state.path) if state.state == ModelState.AVAILABLE and state.path else None
    if path.exists():
        ultralytics_file = path.suffix.lower() in (".pt", *_YAML) or export_backend(path) is not None
        return str(path) if ultralytics_file else None
    return text if text.lower().endswith(_YAML) else None
