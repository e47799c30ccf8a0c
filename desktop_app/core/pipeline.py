"""Run several panes on the very same frame and compose what they show.

One captured frame is fanned out to every pane, so a side-by-side comparison is fair and synchronised. The
pipeline is thread-confined: one inference thread owns it (and so every model in it); other threads hand it
new runners through `swap_runner`, which takes effect between two frames.

Panes whose models all run on the CPU run side by side on a small pool of threads, one per free core: PyTorch
(and OpenCV) release the GIL while they compute, and Ultralytics gives each model one intra-op thread, so on a
2-core machine two panes infer at once. GPU panes run one after another on the owning thread (a CUDA graph
capture must not see another thread's launches).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Protocol, Sequence

import numpy as np

from desktop_app.core.errors import CnnLensError
from desktop_app.core.frames import Frame
from desktop_app.core.models.base import ModelAdapter, PredictOptions
from desktop_app.core.models.results import StageTimes, TaskResult
from desktop_app.core.models.tasks import Task
from desktop_app.core.render import (UNTRAINED_TEXT, Layout, RenderStyle, annotate, clear_of, draw_banner,
                                     draw_banner_into, draw_hud, hud_rect, tile)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PaneSpec:
    """What the user chose for one pane: a task (or insight view) name, a model spec and live options."""

    task: str
    model: str
    options: PredictOptions = field(default_factory=PredictOptions)

    @classmethod
    def parse(cls, text: str, options: PredictOptions | None = None) -> "PaneSpec":
        """`"pose:yolo11n-pose"` -> PaneSpec; raises ValueError with the expected form."""
        task, sep, model = text.partition(":")
        if not sep or not task.strip() or not model.strip():
            raise ValueError(f"pane {text!r} must look like TASK:MODEL, e.g. pose:yolo11n-pose")
        return cls(task.strip().lower(), model.strip(), options or PredictOptions())

    def to_dict(self) -> dict:
        o = self.options
        return {"task": self.task, "model": self.model, "conf": o.conf, "iou": o.iou, "imgsz": o.imgsz,
                "classes": list(o.classes) if o.classes is not None else None, "top_k": o.top_k}

    @classmethod
    def from_dict(cls, data: dict) -> "PaneSpec":
        """Inverse of `to_dict`; raises ValueError/KeyError/TypeError on malformed data."""
        classes = data.get("classes")
        options = PredictOptions(
            conf=float(data.get("conf", 0.25)), iou=float(data.get("iou", 0.7)), imgsz=int(data.get("imgsz", 640)),
            classes=tuple(int(c) for c in classes) if classes else None, top_k=int(data.get("top_k", 5)))
        return cls(str(data["task"]), str(data["model"]), options)


@dataclass(frozen=True, slots=True)
class PaneOutput:
    """What one pane produced for one frame: the annotated image (BGR, frame resolution) and its numbers."""

    pane_index: int
    image: np.ndarray
    result: TaskResult | None
    label: str
    timings: StageTimes = field(default_factory=StageTimes)
    render_ms: float = 0.0
    error: str | None = None
    extras: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FrameOutput:
    """All panes for one frame plus the composed view. `stage_ms` holds per-stage wall times in ms."""

    frame_index: int
    timestamp_s: float
    panes: tuple[PaneOutput, ...]
    composed: np.ndarray
    stage_ms: dict


class PaneRunner(Protocol):
    """Anything that can fill a pane: a task model or an insight view."""

    label: str

    def run(self, frame: Frame, pane_index: int) -> PaneOutput: ...

    def close(self) -> None: ...


class ModelPane:
    """A pane that runs one model for its task and draws the result."""

    def __init__(self, adapter: ModelAdapter, options: PredictOptions | None = None, task: Task | None = None):
        self.adapter = adapter
        self.options = options or PredictOptions()
        self.task = task or adapter.info.task
        info = adapter.info
        backend = f" · {info.backend}" if info.backend != "torch" else ""
        self.label = f"{self.task.value} · {info.display_name}{backend}"
        #: Overlay style; None sizes text from the frame. The GUI sets a text scale that stays readable when
        #: the pane is shown small (2 or 4 panes in a window).
        self.style: RenderStyle | None = None
        #: Where the pipeline draws this pane's HUD (frame pixels), so labels are placed clear of it.
        self.keep_clear: tuple[int, int, int, int] | None = None

    def run(self, frame: Frame, pane_index: int) -> PaneOutput:
        result = self.adapter.predict(frame, self.options)
        started = time.perf_counter()
        image = annotate(frame.image, result, clear_of(self.style, self.keep_clear))  # a fresh canvas
        if self.adapter.info.untrained:
            draw_banner_into(image, UNTRAINED_TEXT, "warning")
        render_ms = (time.perf_counter() - started) * 1000.0
        return PaneOutput(pane_index, image, result, self.label, result.timings, render_ms)

    def close(self) -> None:
        self.adapter.close()


def hud_lines(output: PaneOutput, info_line: str = "", fps: float | None = None) -> list[str]:
    """The HUD text of one pane: what runs, how long it took, how fast the pipeline goes."""
    lines = [output.label]
    t = output.timings
    speed = f"infer {t.inference_ms:.1f} ms  pre {t.preprocess_ms:.1f}  post {t.postprocess_ms:.1f}"
    if fps is not None:
        speed += f"  {fps:.1f} FPS"
    lines.append(speed)
    if info_line:
        lines.append(info_line)
    return lines


class RateMeter:
    """Smoothed rate and mean values, published at most `refresh_s` apart so displayed numbers are readable."""

    def __init__(self, refresh_s: float = 0.5, clock=time.perf_counter):
        self._clock = clock
        self._refresh_s = refresh_s
        self._window_start = clock()
        self._events = 0
        self._sums: dict[str, float] = {}
        self.fps = 0.0
        self.means: dict[str, float] = {}

    def tick(self, **values: float) -> bool:
        """Count one event with optional values; return True when the published numbers were refreshed."""
        self._events += 1
        for key, value in values.items():
            self._sums[key] = self._sums.get(key, 0.0) + value
        now = self._clock()
        elapsed = now - self._window_start
        if elapsed < self._refresh_s:
            return False
        self.fps = self._events / elapsed
        self.means = {k: v / self._events for k, v in self._sums.items()}
        self._window_start, self._events, self._sums = now, 0, {}
        return True


MAX_COMPOSED_WH = (1920, 1080)


def composed_size_wh(frame_wh: tuple[int, int], layout: Layout) -> tuple[int, int] | None:
    """Size of the composed view: panes at frame size, scaled down to fit `MAX_COMPOSED_WH` (even sides, so it
    encodes as is). None for one pane that already fits: it is shown at its own size."""
    cols, rows = layout.grid
    width, height = frame_wh[0] * cols, frame_wh[1] * rows
    scale = min(1.0, MAX_COMPOSED_WH[0] / width, MAX_COMPOSED_WH[1] / height)
    if layout is Layout.ONE and scale == 1.0:
        return None
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


class Pipeline:
    """Runs every pane on the same frame and composes the panes into one view."""

    def __init__(self, runners: Sequence[PaneRunner | None], layout: Layout = Layout.ONE, hud: bool = True,
                 info_line: str = ""):
        """`info_line` is appended to every pane's HUD after the pane's own device and precision (the GUI puts
        the capture-to-display latency there)."""
        self._runners: list[PaneRunner | None] = list(runners)
        self._pending: dict[int, PaneRunner | None] = {}
        self._lock = threading.Lock()
        self.layout = layout
        self.hud = hud
        self.info_line = info_line
        #: cv2 text scale of the HUD; None sizes it from the frame (see `ModelPane.style`).
        self.hud_scale: float | None = None
        self._meters: dict[int, RateMeter] = {}
        self._hud_rects: dict[int, tuple[int, int, int, int] | None] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._pool_workers = 0

    @property
    def runners(self) -> tuple[PaneRunner | None, ...]:
        return tuple(self._runners)

    def swap_runner(self, index: int, runner: PaneRunner | None) -> None:
        """Replace pane `index`'s runner before the next frame (any thread). The old runner is closed by the
        pipeline once it is out of use, so its memory (GPU included) is released."""
        with self._lock:
            self._pending[index] = runner

    def set_layout(self, layout: Layout) -> None:
        self.layout = layout

    def _apply_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        for index, runner in pending.items():
            while len(self._runners) <= index:
                self._runners.append(None)
            old = self._runners[index]
            self._runners[index] = runner
            self._meters.pop(index, None)
            if old is not None and old is not runner:
                old.close()

    def process(self, frame: Frame) -> FrameOutput:
        """Run the visible panes on `frame`, draw their HUDs and compose them. A pane that fails shows why."""
        self._apply_pending()
        stage_ms: dict[str, float] = {"inference": 0.0, "render": 0.0}
        runners = [self._runners[i] if i < len(self._runners) else None for i in range(self.layout.value)]
        pool = self._pool_for(runners)
        if pool is None:
            outputs = [self._run_pane(runner, frame, i, stage_ms) for i, runner in enumerate(runners)]
        else:
            stages = [dict.fromkeys(stage_ms, 0.0) for _ in runners]
            futures = [pool.submit(self._run_pane, r, frame, i, stages[i]) for i, r in enumerate(runners)]
            outputs = [future.result() for future in futures]
            for pane_stages in stages:
                for key, value in pane_stages.items():
                    stage_ms[key] = stage_ms.get(key, 0.0) + value
        started = time.perf_counter()
        composed = tile([o.image for o in outputs], self.layout, composed_size_wh(frame.resolution_wh, self.layout))
        stage_ms["compose"] = (time.perf_counter() - started) * 1000.0
        return FrameOutput(frame.frame_index, frame.timestamp_s, tuple(outputs), composed, stage_ms)

    def _pool_for(self, runners: list[PaneRunner | None]) -> ThreadPoolExecutor | None:
        """A thread pool when two or more panes can run at once (all on the CPU, a free core each), else None."""
        if len(runners) < 2 or not all(_runs_on_cpu(r) for r in runners):
            return None
        workers = min(len(runners), parallel_pane_slots())
        if workers < 2:
            return None
        if self._pool is None or self._pool_workers != workers:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
            self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cnnlens-pane")
            self._pool_workers = workers
        return self._pool

    def _run_pane(self, runner: PaneRunner | None, frame: Frame, index: int, stage_ms: dict) -> PaneOutput:
        if runner is None:
            image = draw_banner(frame.image, "No model in this pane", "info")
            return PaneOutput(index, image, None, "empty")
        if hasattr(runner, "keep_clear"):  # task panes and views that draw boxes: labels go below the HUD
            runner.keep_clear = self._hud_rects.get(index) if self.hud else None  # the HUD of the last frame
        started = time.perf_counter()
        try:
            output = runner.run(frame, index)
        except (CnnLensError, RuntimeError, ValueError) as exc:
            # A model that fails on one frame must not take the live view down; the pane says why.
            log.warning("pane %d (%s) failed on frame %d: %s", index, runner.label, frame.frame_index, exc)
            image = draw_banner(frame.image, f"Error: {exc}", "error")
            return PaneOutput(index, image, None, runner.label, error=str(exc))
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        stage_ms["inference"] += output.timings.total_ms
        stage_ms["render"] += output.render_ms
        stage_ms[f"pane{index}"] = elapsed_ms
        if not self.hud:
            return output
        meter = self._meters.setdefault(index, RateMeter())
        meter.tick()
        started = time.perf_counter()
        info = " · ".join(part for part in (runner_details(runner), self.info_line) if part)
        lines = hud_lines(output, info, meter.fps or None)
        image = draw_hud(output.image, lines, scale=self.hud_scale)
        self._hud_rects[index] = hud_rect(image.shape, lines, scale=self.hud_scale)
        stage_ms["render"] += (time.perf_counter() - started) * 1000.0
        return replace(output, image=image)

    def close(self) -> None:
        """Close every runner (and any pending one); the pipeline is empty afterwards."""
        self._apply_pending()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for runner in self._runners:
            if runner is not None:
                runner.close()
        self._runners = []


def runner_details(runner: PaneRunner | None) -> str:
    """Where and how a pane's model runs, for its own HUD: `cpu · int8`, `cuda:0 · fp16 · CUDA graph`."""
    info = getattr(getattr(runner, "adapter", None), "info", None)
    if info is None:
        return ""
    return " · ".join(part for part in (info.device, info.precision, getattr(info, "runtime", "")) if part)


def parallel_pane_slots() -> int:
    """How many CPU panes may infer at once: the cores over PyTorch's intra-op threads per model.

    Only asked of PyTorch once a model has imported it: importing torch here would hold the GIL for over a
    second on the thread that paints the first frames, and without a model there is nothing to run in parallel.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return 1
    return max(1, (os.cpu_count() or 1) // max(1, torch.get_num_threads()))


def _runs_on_cpu(runner: PaneRunner | None) -> bool:
    """True for an empty pane, a view with no model, or a runner whose model is on the CPU; unknown runners are
    treated as not (they run on the owning thread)."""
    if runner is None:
        return True
    if not hasattr(runner, "adapter"):
        return False
    adapter = runner.adapter
    return adapter is None or getattr(getattr(adapter, "info", None), "device", None) == "cpu"
