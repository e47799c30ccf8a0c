"""One pane: what the user chose for it (`PaneSpec`), what fills it (`PaneRunner`, `ModelPane` for a task), what
it produces for a frame (`PaneOutput`; `FrameOutput` for all panes), and the HUD drawn over it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable, Protocol

import numpy as np

from desktop_app.core.frames import Frame
from desktop_app.core.models.base import ModelAdapter, PredictOptions
from desktop_app.core.models.results import StageTimes, TaskResult
from desktop_app.core.models.tasks import Task
from desktop_app.core.render import UNTRAINED_TEXT, RenderStyle, annotate, annotate_at, clear_of, draw_banner_into


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
    """What one pane produced for one frame: the annotated image (BGR; at frame resolution, or smaller at the size
    the composed view shows it, see `ModelPane.display_wh`) and its numbers."""

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
    """All panes for one frame plus the composed view. `stage_ms` holds per-stage wall times in ms.

    Nothing draws into `composed` once the pipeline has returned it, so consumers may keep it without a copy
    (the recorder does)."""

    frame_index: int
    timestamp_s: float
    panes: tuple[PaneOutput, ...]
    composed: np.ndarray
    stage_ms: dict
    #: The captured frame's size; panes drawn smaller than it (see `ModelPane.display_wh`) scale their text by it.
    frame_wh: tuple[int, int] = (0, 0)


#: The second half of a pane's work on one frame: drawing what its first half computed. The pipeline runs it on
#: its draw thread while the models infer the next frame.
FinishPane = Callable[[], PaneOutput]


class PaneRunner(Protocol):
    """Anything that can fill a pane: a task model or an insight view.

    A runner may also offer `infer(frame, pane_index) -> FinishPane`, which does the model's work and returns the
    drawing as a step of its own, so the pipeline can draw one frame while the next one infers; the step must
    not depend on state the next `infer` changes. `run` does both halves at once."""

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
        #: Where the pipeline draws this pane's HUD (pane pixels), so labels are placed clear of it.
        self.keep_clear: tuple[int, int, int, int] | None = None
        #: The size the composed view shows this pane at when that is smaller than the frame (2 or 4 panes, or a
        #: frame over full HD): the pipeline sets it, and the pane draws at that size. None: at frame size.
        self.display_wh: tuple[int, int] | None = None

    def infer(self, frame: Frame, pane_index: int) -> FinishPane:
        """Predict on `frame` now; the step returned draws the result (on the pipeline's draw thread)."""
        result = self.adapter.predict(frame, self.options)
        style, untrained, label = clear_of(self.style, self.keep_clear), self.adapter.info.untrained, self.label
        display_wh = self.display_wh
        if display_wh is not None:
            style = scaled_text(style, display_wh[1] / frame.image.shape[0])

        def draw() -> PaneOutput:
            started = time.perf_counter()
            # a fresh canvas: the frame, or the frame resized to how it is shown (drawn there, not shrunk after)
            image = annotate(frame.image, result, style) if display_wh is None else annotate_at(
                frame.image, result, display_wh, style)
            if untrained:
                draw_banner_into(image, UNTRAINED_TEXT, "warning")
            render_ms = (time.perf_counter() - started) * 1000.0
            return PaneOutput(pane_index, image, result, label, result.timings, render_ms)

        return draw

    def run(self, frame: Frame, pane_index: int) -> PaneOutput:
        return self.infer(frame, pane_index)()

    def close(self) -> None:
        self.adapter.close()


def scaled_text(style: RenderStyle | None, factor: float) -> RenderStyle | None:
    """`style` for a pane drawn `factor` times its frame's size: a text scale chosen for the frame (the GUI sizes
    it for the screen) shrinks with it, so every pane's text shows at the same size on screen."""
    if style is None or style.text_scale is None or factor == 1.0:
        return style
    return replace(style, text_scale=style.text_scale * factor)


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


def runner_details(runner: PaneRunner | None) -> str:
    """Where and how a pane's model runs, for its own HUD: `cpu · int8`, `cuda:0 · fp16 · CUDA graph`."""
    info = getattr(getattr(runner, "adapter", None), "info", None)
    if info is None:
        return ""
    return " · ".join(part for part in (info.device, info.precision, getattr(info, "runtime", "")) if part)
