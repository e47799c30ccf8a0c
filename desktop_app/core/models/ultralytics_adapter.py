"""Ultralytics YOLO models (detect, segment, classify, pose) from `.pt`, YAML, or exported files, turned into the
project's result types. No Ultralytics object leaves this module.
"""

from __future__ import annotations

import functools
import gc
import logging
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from desktop_app.core.errors import ModelError, ModelTaskError
from desktop_app.core.frames import Frame
from desktop_app.core.models.base import ModelAdapter, ModelInfo, PredictOptions
from desktop_app.core.models.cuda_graphs import cuda_graphs_enabled
from desktop_app.core.models.device import (
    is_out_of_memory, precision_for, prepare_device, release_memory, select_device, use_cpu_threads,
)
from desktop_app.core.models.exports import export_backend, is_untrained_export, read_export_metadata
from desktop_app.core.models.postprocess import masks_to_frame, top_k_classification
from desktop_app.core.models.predictor_stages import PredictorStages
from desktop_app.core.models.results import Detections, StageTimes, TaskResult
from desktop_app.core.models.tasks import Task

log = logging.getLogger(__name__)

YAML_SUFFIXES = (".yaml", ".yml")
# Untrained YAML builds use a fixed seed: the same "model" on every run, so outputs and timings are comparable.
UNTRAINED_SEED = 1
_TASKS = {"detect": Task.DETECT, "segment": Task.SEGMENT, "classify": Task.CLASSIFY, "pose": Task.POSE}


def _ultralytics():
    from desktop_app.core.env import import_ultralytics

    return import_ultralytics()


@functools.lru_cache(maxsize=1)
def _half_argument() -> str:
    _ultralytics()
    from ultralytics.cfg import DEFAULT_CFG_DICT

    return "quantize" if "quantize" in DEFAULT_CFG_DICT else "half"


def half_kwargs() -> dict[str, Any]:
    """The predict/export argument for fp16 in the installed Ultralytics (`quantize=16` in 8.4+, else `half`)."""
    return {"quantize": 16} if _half_argument() == "quantize" else {"half": True}


def int8_kwargs() -> dict[str, Any]:
    """The export argument for INT8 in the installed Ultralytics (`quantize=8` in 8.4+, else `int8`)."""
    return {"quantize": 8} if _half_argument() == "quantize" else {"int8": True}


def _dataset_names(dataset: str) -> dict[int, str]:
    import yaml
    from ultralytics.utils import ROOT

    data = yaml.safe_load((ROOT / "cfg" / "datasets" / dataset).read_text())
    return {int(k): str(v) for k, v in data["names"].items()}


def _name_untrained(yolo: Any) -> None:
    # A YAML build has numbered classes; give it the class names its pretrained twin has (COCO, ImageNet), so
    # class filters and labels read the same as for the trained model it stands in for.
    nc = len(yolo.model.names)
    task = yolo.task
    try:
        if task == "pose" and nc == 1:
            yolo.model.names = {0: "person"}
        elif task in ("detect", "segment") and nc == 80:
            yolo.model.names = _dataset_names("coco.yaml")
        elif task == "classify" and nc == 1000:
            yolo.model.names = _dataset_names("ImageNet.yaml")
    except (OSError, KeyError, ValueError) as exc:
        log.debug("keeping numbered class names for %s: %s", yolo.task, exc)


def build_yolo(spec: str | Path, task: str | None = None) -> Any:
    """An `ultralytics.YOLO` for a `.pt` path, a YAML name or path (seeded untrained build), or an export.

    Raises `ModelError` with a plain reason for a missing, corrupt or foreign file.
    """
    _ultralytics()
    from ultralytics import YOLO

    spec = str(spec)
    name = Path(spec).name
    try:
        if spec.lower().endswith(YAML_SUFFIXES):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(UNTRAINED_SEED)
                yolo = YOLO(spec)
            _name_untrained(yolo)
            return yolo
        return YOLO(spec, task=task) if task else YOLO(spec)
    except FileNotFoundError as exc:
        raise ModelError(f"model file {spec} does not exist") from exc
    except Exception as exc:  # torch.load and Ultralytics raise many types for files that are not models
        raise ModelError(f"{name} is not a usable Ultralytics model: {short_reason(exc)}") from exc


def short_reason(exc: BaseException) -> str:
    """One readable line from a framework exception: first line, no log decorations, at most ~200 characters."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for decoration in ("ERROR", "❌️", "❌", "WARNING", "⚠️"):
        text = text.replace(decoration, "")
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:197].rsplit(" ", 1)[0] + "..."


class UltralyticsAdapter(ModelAdapter):
    """A YOLO model of any task. `track=True` keeps Ultralytics' tracker across frames and fills `track_id`.

    `task`, when given, is used only for exports that carry no Ultralytics metadata; the model's own task wins.
    `half`, `device_preprocess` and `cuda_graphs` default to what suits the device (all on for CUDA: fp16, the
    letterbox on the GPU from pinned buffers, the forward pass replayed from a CUDA graph); benchmarks and tests
    set them to compare.
    """

    def __init__(self, source: str | Path, *, device: str = "auto", model_id: str | None = None,
                 task: Task | None = None, track: bool = False, max_det: int = 300,
                 device_preprocess: bool | None = None, half: bool | None = None,
                 cuda_graphs: bool | None = None) -> None:
        self._track = track
        self._max_det = max_det
        self._predictor_kwargs: dict[str, Any] | None = None  # arguments the predictor was last set up with
        spec = str(source)
        path = Path(spec)
        is_yaml = spec.lower().endswith(YAML_SUFFIXES)
        self._backend = "torch" if is_yaml or path.suffix.lower() == ".pt" else export_backend(path)
        if self._backend is None:
            raise ModelError(f"{path.name} is not a model format CNN Lens can open "
                             "(.pt, .yaml, .onnx, *_openvino_model folder, .engine)")
        device = select_device(device)
        untrained = is_yaml
        self._fixed_imgsz: int | None = None
        load_task = None
        metadata: dict[str, Any] = {}
        names: Mapping[int, str] | None = None
        if self._backend != "torch":
            metadata = read_export_metadata(path)
            load_task = metadata.get("task") or (task.value if task else None)
            if load_task is None:
                raise ModelError(f"{path.name} carries no Ultralytics metadata naming its task; re-export it "
                                 "with Ultralytics, or choose the task for it explicitly")
            untrained = is_untrained_export(metadata)
            names = metadata.get("names")
            imgsz = metadata.get("imgsz")
            if imgsz and not (metadata.get("args") or {}).get("dynamic"):
                self._fixed_imgsz = int(max(imgsz) if isinstance(imgsz, (list, tuple)) else imgsz)
            device = self._export_device(device)
        self._device = device
        prepare_device(device)
        self._yolo = build_yolo(spec, task=load_task)
        if self._yolo.task not in _TASKS:
            raise ModelTaskError(f"{path.name} is a {self._yolo.task} model; CNN Lens shows "
                                 f"{', '.join(_TASKS)} models")
        if half is None:
            half = precision_for(device) == "fp16"
        self._half = self._backend == "torch" and half
        kpt_shape = metadata.get("kpt_shape") or getattr(self._yolo.model, "kpt_shape", None) or (17, 3)
        self._keypoint_count = int(kpt_shape[0])
        if names is None:
            names = self._yolo.names
        task_kind = _TASKS[self._yolo.task]
        cuda = device.startswith("cuda")
        # The forward pass replayed from a CUDA graph: on CUDA with PyTorch weights, unless CNNLENS_CUDA_GRAPHS=0.
        graphs = (cuda_graphs_enabled() and cuda if cuda_graphs is None else cuda_graphs) and self._backend == "torch"
        self.info = ModelInfo(
            model_id=model_id or path.name, task=task_kind,
            names={int(k): str(v) for k, v in dict(names).items()}, device=device,
            precision=("fp16" if self._half else "fp32") if self._backend == "torch" else
            self._export_precision(metadata),
            backend=self._backend, untrained=untrained, runtime="CUDA graph" if graphs and cuda else "",
        )
        self._stages = PredictorStages(
            # the letterbox on the device (pinned upload, non-blocking copy) on CUDA; classifiers centre-crop instead
            device_input=(cuda if device_preprocess is None else device_preprocess) and task_kind != Task.CLASSIFY,
            cuda_graphs=graphs, network=lambda: self.torch_module)
        self._static_shapes = None
        self._warm_up()
        if self._backend == "openvino":
            self._use_openvino_shapes(path)

    def _export_device(self, device: str) -> str:
        if self._backend == "tensorrt":
            if not device.startswith("cuda"):
                raise ModelError("TensorRT engines run only on a CUDA GPU; choose a .pt or OpenVINO model here")
            return device
        if self._backend == "openvino":
            return "cpu"
        if device.startswith("cuda"):
            try:
                import onnxruntime

                if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
                    return device
            except ImportError:
                pass
        return "cpu"

    def _use_openvino_shapes(self, path: Path) -> None:
        """Static copies of the model per frame shape (see `openvino_shapes`), and the HUD told the number
        format OpenVINO really computes in (bf16 on CPUs that have it, even for a float32 export)."""
        from dataclasses import replace

        from desktop_app.core.models.openvino_shapes import inference_precision, use_static_shapes

        backend = getattr(getattr(self._yolo.predictor, "model", None), "backend", None)
        if backend is None:
            return
        self._static_shapes = use_static_shapes(backend, path)
        if self.info.precision != "int8" and getattr(backend, "ov_compiled_model", None) is not None:
            self.info = replace(self.info, precision=inference_precision(backend.ov_compiled_model))

    @property
    def static_shapes(self):
        """The per-shape OpenVINO compiler in use, or None (PyTorch, other runtimes, static exports)."""
        return self._static_shapes

    @staticmethod
    def _export_precision(metadata: Mapping[str, Any]) -> str:
        args = metadata.get("args") or {}
        if args.get("int8") or args.get("quantize") in (8, "8", "int8"):
            return "int8"
        return "fp16" if args.get("half") or args.get("quantize") in (16, "16", "fp16") else "fp32"

    # --- running -----------------------------------------------------------------------------------------------

    @property
    def track(self) -> bool:
        """Whether predictions go through Ultralytics' tracker (ids in `Detections.track_id`)."""
        return self._track

    @track.setter
    def track(self, enabled: bool) -> None:
        if self._track and not enabled:
            self.reset_tracking()
        self._track = bool(enabled)

    def _kwargs(self, options: PredictOptions) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "conf": options.conf, "iou": options.iou, "imgsz": self._fixed_imgsz or options.imgsz,
            "classes": list(options.classes) if options.classes is not None else None,
            "max_det": self._max_det, "verbose": False, "device": self._device, "retina_masks": False,
        }
        if self._half:
            kwargs.update(half_kwargs())
        return kwargs

    def _run(self, image: np.ndarray, kwargs: dict[str, Any]) -> Any:
        use_cpu_threads(self._device)
        with torch.inference_mode():
            if self._track and self.info.task != Task.CLASSIFY:  # a class label has nothing to track
                self._predictor_kwargs = None  # tracking re-arms the predictor: set it up afresh afterwards
                self._stages.eager_pass_ahead()
                return self._yolo.track(image, persist=True, **kwargs)[0]
            predictor = getattr(self._yolo, "predictor", None)
            if predictor is not None and kwargs == self._predictor_kwargs:
                return self._stages.run(predictor, image)
            self._stages.eager_pass_ahead()
            result = self._yolo.predict(image, **kwargs)[0]
            self._predictor_kwargs = dict(kwargs)
            return result

    @property
    def graph_stats(self) -> dict[str, int]:
        """CUDA graph captures and replays so far (zeros when graphs are not in use)."""
        return self._stages.graph_stats

    def _warm_up(self) -> None:
        # The first call builds the predictor and backend (and fails early on a broken export); doing it here
        # keeps that cost and failure out of the live loop.
        size = self._fixed_imgsz or 320
        try:
            self._run(np.zeros((size, size, 3), np.uint8), self._kwargs(PredictOptions(imgsz=size)))
        except Exception as exc:
            self.close()
            if is_out_of_memory(exc):
                raise
            raise ModelError(f"{self.info.model_id} could not run on {self._device}: {exc}") from exc
        self.reset_tracking()

    def predict(self, frame: Frame, options: PredictOptions) -> TaskResult:
        """Run on one BGR frame; boxes, masks and keypoints come back in frame pixels."""
        kwargs = self._kwargs(options)
        try:
            result = self._run(frame.image, kwargs)
        except Exception as exc:
            if is_out_of_memory(exc):
                release_memory(self._device)
                raise ModelError(f"out of GPU memory running {self.info.model_id} at image size "
                                 f"{kwargs['imgsz']}; choose a smaller model or image size, or the CPU") from exc
            raise ModelError(f"{self.info.model_id} failed on frame {frame.frame_index}: {exc}") from exc
        speed = result.speed or {}
        timings = StageTimes(float(speed.get("preprocess") or 0.0), float(speed.get("inference") or 0.0),
                             float(speed.get("postprocess") or 0.0))
        if self.info.task == Task.CLASSIFY:
            probs = result.probs.data.float().cpu().numpy()
            return top_k_classification(probs, self.info.names, frame, options.top_k, options.classes, timings)
        return self._detections(result, frame, timings)

    def model_input(self, image: np.ndarray, options: PredictOptions) -> torch.Tensor:
        """The tensor `predict` would feed the network for this BGR frame with these options: the set-up
        predictor's own preprocess, for views that run the module themselves (a classifier's Grad-CAM pass then
        also gives its prediction). Options the predictor was not set up with cost one prediction to set it up."""
        kwargs = self._kwargs(options)
        if getattr(self._yolo, "predictor", None) is None or kwargs != self._predictor_kwargs:
            self._run(image, kwargs)
        use_cpu_threads(self._device)
        with torch.inference_mode(False), torch.no_grad():  # a plain tensor: the view may build a graph after it
            return self._yolo.predictor.preprocess([image])

    def _detections(self, result: Any, frame: Frame, timings: StageTimes) -> Detections:
        task = self.info.task
        boxes = result.boxes
        if boxes is None or len(boxes) == 0:
            # Empty, but shaped like a full result of this task, so consumers need no special case.
            return Detections(
                frame.frame_index, frame.timestamp_s, np.zeros((0, 4), np.float32), np.zeros(0, np.float32),
                np.zeros(0, np.int64), (), task=task,
                mask=np.zeros((0, *frame.image.shape[:2]), bool) if task == Task.SEGMENT else None,
                keypoints=np.zeros((0, self._keypoint_count, 3), np.float32) if task == Task.POSE else None,
                timings=timings)
        started = time.perf_counter()
        xyxy = boxes.xyxy.float().cpu().numpy()
        class_id = boxes.cls.cpu().numpy().astype(np.int64)
        mask = None
        if task == Task.SEGMENT:
            if result.masks is not None:
                # Ultralytics' own full-resolution masks (retina_masks) cost ~5x more: resample only the boxes.
                data = result.masks.data
                small = (data > 0.5).to(torch.uint8).mul_(255).cpu().numpy()
                mask = masks_to_frame(small, xyxy, frame.image.shape[:2])
            else:
                mask = np.zeros((len(xyxy), *frame.image.shape[:2]), bool)
        keypoints = None
        if task == Task.POSE and result.keypoints is not None:
            keypoints = result.keypoints.data.float().cpu().numpy()
            if keypoints.shape[-1] == 2:  # models without per-keypoint visibility: treat all as visible
                keypoints = np.concatenate([keypoints, np.ones((*keypoints.shape[:2], 1), np.float32)], -1)
        track_id = boxes.id.cpu().numpy().astype(np.int64) if boxes.is_track else None
        names = self.info.names
        extra_ms = (time.perf_counter() - started) * 1000.0
        return Detections(
            frame_index=frame.frame_index, timestamp_s=frame.timestamp_s, xyxy=xyxy,
            confidence=boxes.conf.float().cpu().numpy(), class_id=class_id,
            class_name=tuple(names.get(int(c), str(int(c))) for c in class_id), task=task, mask=mask,
            keypoints=keypoints, track_id=track_id,
            timings=StageTimes(timings.preprocess_ms, timings.inference_ms, timings.postprocess_ms + extra_ms),
        )

    # --- lifecycle ---------------------------------------------------------------------------------------------

    def reset_tracking(self) -> None:
        """Forget every track (call when the source changes, so ids do not jump across scenes)."""
        predictor = getattr(getattr(self, "_yolo", None), "predictor", None)
        for tracker in getattr(predictor, "trackers", None) or ():
            tracker.reset()

    @property
    def torch_module(self) -> torch.nn.Module | None:
        """The module the predictor actually runs (Ultralytics fuses a copy), so hooks see every frame."""
        if self._backend != "torch" or getattr(self, "_yolo", None) is None:
            return None
        predictor = self._yolo.predictor
        if predictor is not None and getattr(predictor, "model", None) is not None:
            module = getattr(predictor.model, "model", None)
            if isinstance(module, torch.nn.Module):
                return module
        return self._yolo.model

    def close(self) -> None:
        """Drop the model and its predictor, and hand cached GPU memory back."""
        if getattr(self, "_yolo", None) is None:
            return
        if getattr(self, "_stages", None) is not None:
            self._stages.close()
        self._static_shapes = None  # the OpenVINO copies compiled per shape go with the model
        self._yolo = None
        gc.collect()
        release_memory(self._device)
