"""`cnnlens bench`: the CNN Lens pipeline measured against a plain Ultralytics predict loop, on the same frames.

Every variant runs in the same process on the same decoded clip, after its own warm-up, so ratios are fair:
- baseline: `YOLO(weights).predict(clip, stream=True)`, the loop most people write;
- pipeline: source → model → render → compose (headless, no display);
- pipeline + recording, 4 panes, feature maps on (where the insight views are installed);
- live latency: a 30 FPS paced source through the capture thread, frame age when it would be painted.

Stages per frame: capture (waiting for the decoder), preprocess, inference, postprocess, render, compose; and two
that run beside the pipeline in the app, on their own threads: display (the window's paint of a composed frame,
timed on a sample of frames when a `display` function is given) and encode (the recorder's thread).
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from desktop_app.core.frames import Frame
from desktop_app.core.models.base import PredictOptions
from desktop_app.core.pipeline import PaneSpec, Pipeline
from desktop_app.core.latency import measure_live_latency
from desktop_app.core.processing import build_pipeline

log = logging.getLogger(__name__)

WARMUP_FRAMES = 5
ROUNDS = 5


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """What to measure. `frames` is the number of timed frames per variant."""

    source: str = "sample"
    model: str = "yolo11n-pose"
    frames: int = 60
    device: str = "auto"
    imgsz: int = 640
    quick: bool = False
    latency_s: float = 10.0
    backend: str = "torch"


@dataclass(slots=True)
class VariantResult:
    """Throughput and mean per-stage times of one measured variant."""

    name: str
    frames: int
    wall_s: float
    stage_ms: dict = field(default_factory=dict)

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def ms_per_frame(self) -> float:
        return 1000.0 * self.wall_s / self.frames if self.frames else 0.0


@dataclass(slots=True)
class BenchReport:
    """All variants plus the ratios the performance targets are stated in."""

    config: BenchConfig
    device: str = ""
    variants: dict = field(default_factory=dict)
    ratios: dict = field(default_factory=dict)
    latency_ms: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "config": asdict(self.config), "device": self.device,
            "variants": {k: {"fps": v.fps, "ms_per_frame": v.ms_per_frame, "frames": v.frames,
                             "stage_ms": v.stage_ms} for k, v in self.variants.items()},
            "ratios": self.ratios, "latency_ms": self.latency_ms, "notes": self.notes,
        }

    def format_table(self) -> str:
        lines = [f"model {self.config.model}  imgsz {self.config.imgsz}  device {self.device}  "
                 f"{self.config.frames} frames per variant, in {ROUNDS} interleaved rounds", ""]
        lines.append(f"{'variant':<28}{'FPS':>8}{'ms/frame':>10}  stages (ms)")
        for v in self.variants.values():
            stages = " ".join(f"{k} {ms:.1f}" for k, ms in v.stage_ms.items())
            lines.append(f"{v.name:<28}{v.fps:>8.1f}{v.ms_per_frame:>10.1f}  {stages}")
        if self.ratios:
            lines += ["", "ratios (target in brackets)"]
            lines += [f"  {name:<48}{value:6.3f}" for name, value in self.ratios.items()]
        if self.latency_ms:
            lines += ["", "live latency, capture to display (ms): " +
                      "  ".join(f"{k} {v:.1f}" for k, v in self.latency_ms.items())]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def capture_clip(source_spec: str, frames: int, folder: Path) -> Path:
    """Read `frames` frames (+ warm-up) from the source into an MP4 that every variant then reads each round."""
    import cv2

    from desktop_app.core.sources import open_source

    clip = folder / "bench_clip.mp4"
    wanted, written, writer, size_wh = frames + WARMUP_FRAMES, 0, None, (0, 0)
    with open_source(source_spec, duration_s=wanted / 30.0 + 1.0) as source:
        while written < wanted and (frame := source.read()) is not None:
            if writer is None:
                size_wh = frame.resolution_wh
                writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, size_wh)
            image = frame.image if frame.resolution_wh == size_wh else cv2.resize(frame.image, size_wh)
            writer.write(image)
            written += 1
    if writer is None:
        raise ValueError(f"{source_spec} delivered no frames to measure")
    writer.release()
    return clip


#: Composed frames kept per round to time the display conversion on, after the timed loop.
DISPLAY_SAMPLES = 10


def _time_pipeline(name: str, pipeline: Pipeline, clip: Path, on_output: Callable | None = None,
                   display: Callable[[np.ndarray], None] | None = None) -> VariantResult:
    """Read the clip through the project's own source, decoded ahead as `process` does, run it through the
    pipeline as the app does (each frame drawn while the next infers) and time every frame after warm-up.
    `capture` is the time spent waiting for the next decoded frame. `display`, when given, is timed on a sample of
    the composed frames after the loop (the window does it on the UI thread, beside inference, so it is not part
    of the pipeline's frame time) and reported as the `display` stage."""
    from desktop_app.core.sources import PrefetchingReader, open_source

    shown: list[np.ndarray] = []
    totals: dict[str, float] = {}
    waits: list[float] = []
    count, started = 0, None

    def timed_reads(reader) -> Iterator[Frame]:
        frames = iter(reader)
        while True:
            read_started = time.perf_counter()
            frame = next(frames, None)
            if frame is None:
                return
            waits.append((time.perf_counter() - read_started) * 1000.0)
            yield frame

    with open_source(str(clip)) as source, PrefetchingReader(source) as reader:
        for out in pipeline.stream(timed_reads(reader)):
            if on_output:
                on_output(out)
            count += 1
            if count == WARMUP_FRAMES:
                _settle(pipeline)
                started = time.perf_counter()
                continue
            if count < WARMUP_FRAMES:
                continue
            totals["capture"] = totals.get("capture", 0.0) + waits[count - 1]
            for pane in out.panes:
                for key in ("preprocess_ms", "inference_ms", "postprocess_ms"):
                    totals[key[:-3]] = totals.get(key[:-3], 0.0) + getattr(pane.timings, key)
            totals["render"] = totals.get("render", 0.0) + out.stage_ms.get("render", 0.0)
            totals["compose"] = totals.get("compose", 0.0) + out.stage_ms.get("compose", 0.0)
            if display is not None and (count - WARMUP_FRAMES) % 10 == 1 and len(shown) < DISPLAY_SAMPLES:
                shown.append(out.composed)
    timed = count - WARMUP_FRAMES
    wall = time.perf_counter() - started if started else 0.0
    stage_ms = {k: v / max(timed, 1) for k, v in totals.items()}
    if shown:
        display_started = time.perf_counter()
        for image in shown:
            display(image)
        stage_ms["display"] = (time.perf_counter() - display_started) * 1000.0 / len(shown)
    return VariantResult(name, timed, wall, stage_ms)


def _settle(pipeline: Pipeline) -> None:
    """End the warm-up with every model in its steady state: OpenVINO's static copy for this frame shape, which
    compiles in the background while the first frames run on the dynamic model, must be in use before timing."""
    for runner in pipeline.runners:
        shapes = getattr(getattr(runner, "adapter", None), "static_shapes", None)
        if shapes is not None:
            shapes.wait()


class _Variant:
    """One way of processing the clip, timed round after round with the other variants in between."""

    def __init__(self, key: str, name: str, run_round: Callable[[Path], VariantResult],
                 close: Callable[[], None] = lambda: None):
        self.key, self.name, self.run_round, self.close = key, name, run_round, close
        self.rounds: list[VariantResult] = []

    def total(self) -> VariantResult:
        """All rounds together: frames and wall time summed, stage times averaged per frame."""
        frames = sum(r.frames for r in self.rounds)
        wall = sum(r.wall_s for r in self.rounds)
        stages: dict[str, float] = {}
        for r in self.rounds:
            for key, value in r.stage_ms.items():
                stages[key] = stages.get(key, 0.0) + value * r.frames
        return VariantResult(self.name, frames, wall, {k: v / max(frames, 1) for k, v in stages.items()})


def _baseline_variant(weights: str, config: BenchConfig, device: str) -> _Variant:
    from desktop_app.core.env import import_ultralytics

    from desktop_app.core.models.device import use_cpu_threads

    from desktop_app.core.models.device import precision_for
    from desktop_app.core.models.ultralytics_adapter import half_kwargs

    yolo = import_ultralytics().YOLO(weights)
    # The same precision as the pipeline (fp16 on CUDA), so the ratio compares pipelines, not number formats.
    extra = half_kwargs() if precision_for(device) == "fp16" else {}
    # Set the predictor up now (Ultralytics picks its CPU thread count then), then give it the same threads as
    # the pipeline, so the ratio compares the pipelines and not two thread settings.
    yolo.predict(np.zeros((64, 64, 3), np.uint8), imgsz=config.imgsz, device=device, verbose=False, **extra)

    def run_round(clip: Path) -> VariantResult:
        use_cpu_threads(device)
        count, started = 0, None
        for _ in yolo.predict(str(clip), stream=True, imgsz=config.imgsz, device=device, verbose=False, **extra):
            count += 1
            if count == WARMUP_FRAMES:
                started = time.perf_counter()
        wall = time.perf_counter() - started if started else 0.0
        return VariantResult("baseline: YOLO.predict loop", count - WARMUP_FRAMES, wall)

    return _Variant("baseline", "baseline: YOLO.predict loop", run_round)


def _pipeline_variant(key: str, name: str, specs: Sequence[PaneSpec], device: str,
                      record_to: Path | None = None, display: Callable | None = None) -> _Variant | None:
    """A pipeline variant, or None (with a logged reason) when its models cannot be loaded here."""
    from desktop_app.core.errors import CnnLensError
    from desktop_app.core.recorder import Recorder

    try:
        pipeline = build_pipeline(specs, device, hud=True)
    except CnnLensError as exc:  # e.g. an export toolchain missing: say so rather than fail the whole bench
        log.warning("%s not measured: %s", name, exc)
        return None
    rounds = [0]

    def run_round(clip: Path) -> VariantResult:
        if record_to is None:
            return _time_pipeline(name, pipeline, clip, display=display)
        rounds[0] += 1
        recorder = Recorder(record_to.with_name(f"{record_to.stem}-{rounds[0]}.mp4"), fps_hint=30.0)
        try:
            result = _time_pipeline(name, pipeline, clip,
                                    lambda out: recorder.write(out.composed, out.timestamp_s, handover=True),
                                    display)
        finally:
            recorder.close()
        result.stage_ms["encode"] = recorder.encode_ms  # on the recorder's own thread, beside the pipeline
        result.stage_ms["skipped"] = float(recorder.frames_skipped)
        return result

    return _Variant(key, name, run_round, pipeline.close)


def _ultralytics_weights(model_spec: str) -> str | None:
    """The weights path the baseline loads for `model_spec`, or None for non-Ultralytics models."""
    from desktop_app.core.models.loader import resolve_ultralytics_weights

    return resolve_ultralytics_weights(model_spec)


def _variants(config: BenchConfig, spec: PaneSpec, device: str, folder: Path, weights: str | None,
              log_progress: Callable[[str], None], display: Callable | None = None) -> list[_Variant]:
    from desktop_app.core.panes import pane_kinds

    def pipeline(key: str, name: str, specs: Sequence[PaneSpec], **kwargs) -> _Variant | None:
        return _pipeline_variant(key, name, specs, device, display=display, **kwargs)

    candidates: list[_Variant | None] = []
    if weights is not None:
        candidates.append(_baseline_variant(weights, config, device))
    candidates.append(pipeline("pipeline", "pipeline", [spec]))
    candidates.append(pipeline("recording", "pipeline + recording", [spec], record_to=folder / "bench_record.mp4"))
    if not config.quick:
        candidates.append(pipeline("four", "4 panes", [spec] * 4))
        if "features" in pane_kinds() and config.backend == "torch":
            candidates.append(pipeline("features", "feature maps on", [PaneSpec("features", spec.model, spec.options)]))
        if device == "cpu" and weights is not None and config.backend == "torch":
            log_progress("exporting to OpenVINO, float and INT8 (cached in models/)")
            for backend in ("openvino", "openvino-int8"):
                candidates.append(pipeline(backend.replace("-", "_"), f"pipeline, {backend.replace('-', ' ')}",
                                           [PaneSpec(spec.task, f"{spec.model}@{backend}", spec.options)]))
    return [v for v in candidates if v is not None]


def run_bench(config: BenchConfig, log_progress: Callable[[str], None] = log.info,
              display: Callable[[np.ndarray], None] | None = None) -> BenchReport:
    """Measure every variant on the same frames and return the report with its ratios. `display` shows one
    composed frame as the window does (the CLI passes the GUI's own paint); its time is the `display` stage.

    Variants run interleaved, `ROUNDS` rounds of `frames / ROUNDS` frames each, so a slow spell of the machine
    (other processes, frequency changes) falls on all of them alike instead of skewing one ratio.
    """
    from desktop_app.core.models.device import select_device

    device = select_device(config.device)
    report = BenchReport(config, device=device)
    options = PredictOptions(imgsz=config.imgsz)
    with tempfile.TemporaryDirectory(prefix="cnnlens-bench-") as tmp:
        folder = Path(tmp)
        per_round = max(1, config.frames // ROUNDS)
        log_progress(f"capturing {per_round * ROUNDS} frames from {config.source}")
        clip = capture_clip(config.source, per_round, folder)
        task = _task_of(config.model, device)
        model = config.model if config.backend == "torch" else f"{config.model}@{config.backend}"
        spec = PaneSpec(task, model, options)
        weights = _ultralytics_weights(config.model)
        if weights is None:
            report.notes.append(f"{config.model} is not an Ultralytics model: no predict-loop baseline")
        variants = _variants(config, spec, device, folder, weights, log_progress, display)
        try:
            for round_index in range(ROUNDS):
                for variant in variants:
                    log_progress(f"round {round_index + 1}/{ROUNDS}: {variant.name}")
                    variant.rounds.append(variant.run_round(clip))
        finally:
            for variant in variants:
                variant.close()
        report.variants = {v.key: v.total() for v in variants}
        _add_ratios(report)
        if not config.quick:
            log_progress(f"live latency for {config.latency_s:.0f} s with a 30 FPS source")
            report.latency_ms = measure_live_latency(spec, device, config.latency_s)
            if report.latency_ms and "pipeline" in report.variants:
                inference = report.variants["pipeline"].stage_ms.get("inference", 0.0)
                if inference > 0:
                    report.ratios["latency p50 / inference time  [<= 1.5]"] = report.latency_ms["p50"] / inference
            if report.latency_ms.get("inference_p50"):
                report.ratios["latency p50 / the live run's own inference"] = (report.latency_ms["p50"]
                                                                              / report.latency_ms["inference_p50"])
    return report


def _add_ratios(report: BenchReport) -> None:
    v = report.variants
    single = v["pipeline"]
    if "baseline" in v:
        report.ratios["pipeline / predict loop FPS  [>= 0.95]"] = single.fps / v["baseline"].fps
    report.ratios["recording on / off FPS  [>= 0.95]"] = v["recording"].fps / single.fps
    if "four" in v:
        report.ratios["4 panes FPS / (1 / 4 single times)  [>= 0.95]"] = v["four"].fps / (single.fps / 4)
    if "features" in v:
        report.ratios["feature maps on / task alone time  [<= 1.10]"] = v["features"].ms_per_frame / single.ms_per_frame
    if "openvino" in v:
        report.ratios["OpenVINO / PyTorch CPU FPS  [>= 3]"] = v["openvino"].fps / single.fps
    if "openvino_int8" in v:
        report.ratios["OpenVINO INT8 / PyTorch CPU FPS  [>= 3]"] = v["openvino_int8"].fps / single.fps


def _task_of(model_spec: str, device: str) -> str:
    from desktop_app.core.models.loader import load_model

    adapter = load_model(model_spec, device=device)
    try:
        return adapter.info.task.value
    finally:
        adapter.close()
