"""Exported Ultralytics models: recognising their format, reading the metadata Ultralytics embeds, and exporting
PyTorch models to faster CPU (OpenVINO, ONNX Runtime) and GPU (TensorRT) backends, cached in the models folder.

The task of an exported model is read from that metadata, never guessed from its file name.
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import shutil
import warnings
from pathlib import Path
from typing import Any

from desktop_app.core.errors import ModelError
from desktop_app.core.models import catalog

log = logging.getLogger(__name__)

#: Every runtime a model can be loaded on (`MODEL@runtime`); all but `torch` run an export made from it.
BACKENDS = ("torch", "openvino", "openvino-int8", "onnx", "tensorrt")
CPU_EXPORTS = ("openvino", "openvino-int8", "onnx")
_LITERAL_KEYS = ("imgsz", "names", "kpt_shape", "args", "stride", "batch", "end2end")


def export_backend(path: Path) -> str | None:
    """`onnx`, `openvino` or `tensorrt` for an exported model path, None for anything else."""
    name = path.name.lower()
    if path.is_dir() and (name.endswith("_openvino_model") or (path / "metadata.yaml").is_file()
                          and any(path.glob("*.xml"))):
        return "openvino"
    if name.endswith(".xml") and (path.parent / "metadata.yaml").is_file():
        return "openvino"
    if name.endswith(".onnx"):
        return "onnx"
    if name.endswith(".engine"):
        return "tensorrt"
    return None


def _onnx_metadata(path: Path) -> dict[str, str]:
    try:
        import onnx
    except ImportError:
        onnx = None
    if onnx is not None:
        model = onnx.load(str(path), load_external_data=False)
        return {prop.key: prop.value for prop in model.metadata_props}
    try:
        import onnxruntime
    except ImportError as exc:
        raise ModelError(f"{path.name} is an ONNX model but ONNX Runtime is not installed: "
                         "pip install onnxruntime (or cnn-lens[export])") from exc
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return dict(session.get_modelmeta().custom_metadata_map)


def _engine_metadata(path: Path) -> dict[str, Any]:
    # Ultralytics writes a 4-byte little-endian length, then that many bytes of JSON, before the engine itself.
    with open(path, "rb") as handle:
        length = int.from_bytes(handle.read(4), byteorder="little", signed=True)
        if not 0 < length < 1 << 24:
            return {}
        try:
            return json.loads(handle.read(length))
        except (ValueError, UnicodeDecodeError):
            return {}


def read_export_metadata(path: Path) -> dict[str, Any]:
    """The metadata Ultralytics wrote into an export (task, names, imgsz, ...), with literal values parsed.

    Returns {} for an export without Ultralytics metadata; raises `ModelError` for an unreadable file.
    """
    backend = export_backend(path)
    try:
        if backend == "onnx":
            raw: dict[str, Any] = _onnx_metadata(path)
        elif backend == "openvino":
            import yaml

            folder = path if path.is_dir() else path.parent
            if not any(folder.glob("*.xml")):
                raise ModelError(f"{path.name} contains no OpenVINO model (.xml and .bin files)")
            sidecar = folder / "metadata.yaml"
            raw = yaml.safe_load(sidecar.read_text()) if sidecar.is_file() else {}
        elif backend == "tensorrt":
            raw = _engine_metadata(path)
        else:
            raise ModelError(f"{path.name} is not an exported model (.onnx, *_openvino_model, .engine)")
    except ModelError:
        raise
    except Exception as exc:  # onnx/yaml raise their own zoo of parse errors for a damaged file
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise ModelError(f"{path.name} is not a readable {backend} model: {reason}") from exc
    metadata = dict(raw or {})
    for key in _LITERAL_KEYS:
        value = metadata.get(key)
        if isinstance(value, str):
            try:
                metadata[key] = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                pass
    return metadata


def is_untrained_export(metadata: dict[str, Any]) -> bool:
    """True when Ultralytics recorded no training data for the exported model (a YAML build)."""
    description = str(metadata.get("description", ""))
    return bool(description) and "trained on" not in description


# --- exporting ---------------------------------------------------------------------------------------------------

def exports_dir() -> Path:
    """Where exported models are cached: `<models>/exports`."""
    return catalog.models_dir() / "exports"


def _export_target(spec: str, fmt: str, imgsz: int, dynamic: bool = False, int8: bool = False) -> Path:
    path = Path(spec)
    if spec.lower().endswith((".yaml", ".yml")):
        stem, key = f"{path.stem}-untrained", "yaml"
    else:
        # Two different files called best.pt must not share a cache entry, and a retrained file must re-export.
        stat = path.stat()
        stem = path.stem
        key = hashlib.sha1(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:8]
    if int8:
        from desktop_app.core.models.calibration import CALIBRATION_ID

        key = f"{key}-{CALIBRATION_ID}"  # calibrated on another image set: another export
    folder = exports_dir() / f"{stem}-{imgsz}{'-dynamic' if dynamic else ''}{'-int8' if int8 else ''}-{key}"
    if fmt == "openvino":
        return folder / f"{stem}_openvino_model"
    if fmt == "onnx":
        return folder / f"{stem}.onnx"
    return folder / f"{stem}.engine"


def _export(model_spec: str | Path, fmt: str, imgsz: int, int8: bool = False, **export_args: Any) -> Path:
    from desktop_app.core.models.ultralytics_adapter import build_yolo

    spec = str(model_spec)
    if not spec.lower().endswith((".yaml", ".yml")) and not Path(spec).is_file():
        raise ModelError(f"cannot export {spec}: not an Ultralytics .pt file on this machine")
    target = _export_target(spec, fmt, imgsz, bool(export_args.get("dynamic")), int8)
    stem = target.stem.removesuffix("_openvino_model")
    if target.exists():
        log.info("using cached %s export %s", fmt, target)
        return target
    work = target.parent
    work.mkdir(parents=True, exist_ok=True)
    # Ultralytics writes the export next to the source weights; a private copy keeps it out of site-packages
    # and the user's folders. YAML builds are saved first so the export carries the same (seeded) weights.
    source = work / f"{stem}.pt"
    try:
        if Path(spec).suffix.lower() in (".yaml", ".yml"):
            build_yolo(spec).save(str(source))
        else:
            shutil.copyfile(spec, source)
        from desktop_app.core.env import import_ultralytics

        import_ultralytics()
        from ultralytics import YOLO

        yolo = YOLO(str(source))
        if int8:
            export_args.update(_int8_arguments(yolo))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer and deprecation notes from torch's exporters, not for users
            written = Path(yolo.export(format="engine" if fmt == "tensorrt" else fmt, imgsz=imgsz, verbose=False,
                                       **export_args))
    except ModelError:
        raise
    except Exception as exc:  # exporters fail with many types (missing package, unsupported op)
        raise ModelError(f"export of {stem} to {fmt} failed: {exc}") from exc
    finally:
        source.unlink(missing_ok=True)
    if written != target and written.exists():
        if target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        written.rename(target)
    log.info("exported %s to %s", spec, target)
    return target


def _int8_arguments(yolo: Any) -> dict[str, Any]:
    """Ultralytics' INT8 export arguments for this model, calibrated on CNN Lens's own sample photographs."""
    from desktop_app.core.models.calibration import TASKS, calibration_dataset
    from desktop_app.core.models.ultralytics_adapter import int8_kwargs

    if yolo.task not in TASKS:
        raise ModelError(f"INT8 export is for {', '.join(TASKS)} models; run this {yolo.task} model with "
                         "@openvino instead")
    try:
        import nncf  # Ultralytics quantises through it
    except ImportError as exc:
        raise ModelError("INT8 export needs the nncf package: pip install nncf") from exc
    nncf.set_log_level(logging.ERROR)  # its per-layer notes are not for users
    kpt_shape = getattr(yolo.model, "kpt_shape", None)
    return {**int8_kwargs(), "data": str(calibration_dataset(yolo.task, yolo.names, kpt_shape))}


def export_for_cpu(model_path: str | Path, fmt: str = "openvino", imgsz: int = 640) -> Path:
    """Export an Ultralytics `.pt` (or YAML name) to OpenVINO or ONNX for faster CPU inference; cached in
    `<models>/exports`, so a second call returns at once. Raises `ModelError` when the export fails.

    The export takes any input size (`dynamic`), so a frame is letterboxed to its own aspect ratio, as PyTorch
    does, and not padded to a square: a 16:9 frame at 640 runs at 384x640, 40 % fewer pixels. A square static
    export made yolo11n-pose's OpenVINO inference 1.8x slower on 720p frames (docs/benchmarks.md).

    `openvino-int8` quantises the weights and activations to 8 bits (Ultralytics' export through NNCF, the
    detection head kept in floating point), calibrated on the built-in sample photographs: about 1.5x faster
    than the float OpenVINO model here, at the cost of slightly different outputs (docs/benchmarks.md)."""
    if fmt not in CPU_EXPORTS:
        raise ModelError(f"unknown CPU export format {fmt!r}; choose {', '.join(CPU_EXPORTS)}")
    if fmt == "openvino-int8":
        return _export(model_path, "openvino", imgsz, int8=True, dynamic=True)
    return _export(model_path, fmt, imgsz, dynamic=True)


def export_tensorrt(model_path: str | Path, imgsz: int = 640, device: str = "cuda:0", half: bool = True) -> Path:
    """Export an Ultralytics `.pt` to a TensorRT engine for this GPU (fp16 by default); cached like CPU exports.

    Engines are specific to the GPU and TensorRT version that built them. Raises `ModelError` without CUDA.
    """
    if not device.startswith("cuda"):
        raise ModelError("TensorRT export needs a CUDA GPU")
    from desktop_app.core.models.ultralytics_adapter import half_kwargs

    return _export(model_path, "tensorrt", imgsz, device=device.split(":")[-1] if ":" in device else 0,
                   **(half_kwargs() if half else {}))
