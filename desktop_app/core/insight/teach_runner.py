"""The `teach` pane: transfer learning live. Name 2-5 classes, capture frames of each from the stream, train a new
linear head on the frozen backbone (EfficientNet-Lite0 by default), then classify live with it.

Threads: the GUI thread names classes and asks for captures; a worker thread calls `train`; the inference thread
calls `run`, which takes the frames asked for and, while training holds the session, shows progress instead of
waiting for it, so the live view never stalls.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from desktop_app.core.errors import InsightError
from desktop_app.core.frames import Frame
from desktop_app.core.insight.compose import PANEL_STYLE, text_scale
from desktop_app.core.insight.runner_base import model_preprocess
from desktop_app.core.insight.teach import MAX_CLASSES, MIN_CLASSES, PenultimateFeatures, TeachSession, TrainReport
from desktop_app.core.models.base import ModelAdapter, PredictOptions
from desktop_app.core.models.results import StageTimes
from desktop_app.core.pipeline import PaneOutput
from desktop_app.core.render import annotate, annotate_at, draw_banner, draw_hud
from desktop_app.core.render.canvas import shown_frame
from desktop_app.core.render.style import Corner

log = logging.getLogger(__name__)

TrainProgress = Callable[[int, float, float], None]


class TeachRunner:
    """Capture, train and classify with a new head on a frozen pretrained classifier backbone."""

    kind = "teach"

    def __init__(self, adapter: ModelAdapter, options: PredictOptions) -> None:
        self.adapter = adapter
        #: The size the composed view shows this pane at, when smaller than the frame (set by the pipeline).
        self.display_wh: tuple[int, int] | None = None
        self.options = options
        self._backbone = PenultimateFeatures(adapter.torch_module)
        self._preprocess = model_preprocess(adapter, options.imgsz)
        self._session_lock = threading.Lock()  # held by run (short), train, save, load and set_classes
        self._session = TeachSession(self._backbone, self._preprocess)
        self._pending: deque[str] = deque()
        self._counts: dict[str, int] = {}
        self._report: TrainReport | None = None
        self._progress: tuple[int, int, float, float] | None = None  # epoch, epochs, loss, accuracy

    @property
    def label(self) -> str:
        state = "trained head" if self.trained else "capturing"
        return f"teach ({state}) · {self.adapter.info.display_name} backbone"

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self._counts)

    @property
    def counts(self) -> dict[str, int]:
        """Frames captured per class so far."""
        return dict(self._counts)

    @property
    def pending_captures(self) -> int:
        """Captures asked for that wait for their frame."""
        return len(self._pending)

    @property
    def trained(self) -> bool:
        return self._report is not None

    @property
    def report(self) -> TrainReport | None:
        """How the last training went (None before the first, or after loading a saved head)."""
        return self._report

    def set_classes(self, names: Sequence[str]) -> None:
        """Start over with these 2-5 class names: captured frames and any trained head are dropped."""
        names = [str(n).strip() for n in names]
        if not MIN_CLASSES <= len(names) <= MAX_CLASSES:
            raise InsightError(f"Teach mode needs {MIN_CLASSES} to {MAX_CLASSES} classes, got {len(names)}")
        session = TeachSession(self._backbone, self._preprocess, names)  # validates: unique, non-empty
        with self._session_lock:
            self._session = session
            self._pending.clear()
            self._counts = dict.fromkeys(session.class_names, 0)
            self._report = None

    def capture(self, class_name: str) -> None:
        """Use the next frame as an example of `class_name` (any thread); each call takes its own frame."""
        if class_name not in self._counts:
            known = ", ".join(self._counts) or "none yet: set the classes first"
            raise InsightError(f"no class called {class_name!r} (classes: {known})")
        self._pending.append(class_name)

    def train(self, progress: TrainProgress | None = None, *, epochs: int = 200) -> TrainReport:
        """Train the new head on every captured frame, on the caller's thread; `progress(epoch, loss, accuracy)`.
        Live frames keep flowing meanwhile (they show the progress)."""

        def report_progress(epoch: int, loss: float, accuracy: float) -> None:
            self._progress = (epoch, epochs, loss, accuracy)
            if progress is not None:
                progress(epoch, loss, accuracy)

        with self._session_lock:
            try:
                report = self._session.train(epochs=epochs, progress=report_progress)
            finally:
                self._progress = None
            self._report = report
        return report

    def save(self, path: str | Path) -> Path:
        """Write the trained head and class names to `path`."""
        with self._session_lock:
            return self._session.save(path)

    def load(self, path: str | Path) -> None:
        """Replace classes and head with a saved head (trained on this same backbone)."""
        with self._session_lock:
            self._session.load(path)
            self._pending.clear()
            self._counts = dict.fromkeys(self._session.class_names, 0)
            self._report = TrainReport(float("nan"), float("nan"), 0, 0.0, 0)

    def run(self, frame: Frame, pane_index: int) -> PaneOutput:
        """Take a frame asked for, or classify with the trained head; show the state of the session."""
        if not self._session_lock.acquire(blocking=False):  # training (or loading) right now
            return self._output(frame, pane_index, None, self._busy_lines(), 0.0)
        try:
            started = time.perf_counter()
            name = self._pending.popleft() if self._pending else None
            if name in self._counts:  # a capture asked for just before the classes were renamed is dropped
                self._counts = {**self._counts, name: self._session.capture(name, frame)}
                log.debug("teach: captured frame %d as %r", frame.frame_index, name)
            result = self._session.predict(frame, self.options.top_k) if self._session.trained else None
            elapsed_ms = (time.perf_counter() - started) * 1000.0
        finally:
            self._session_lock.release()
        return self._output(frame, pane_index, result, self._status_lines(result is not None), elapsed_ms)

    def _output(self, frame: Frame, pane_index: int, result, lines: list[str], elapsed_ms: float) -> PaneOutput:
        started = time.perf_counter()
        size = self.display_wh  # drawn at the size the composed view shows it, when smaller than the frame
        if result is not None:
            image = annotate(frame.image, result, PANEL_STYLE) if size is None else annotate_at(
                frame.image, result, size, PANEL_STYLE)
        else:
            image = frame.image if size is None else shown_frame(frame.image, size)
        image = draw_hud(image, lines, Corner.BOTTOM_LEFT, scale=text_scale(image.shape, 0.4))
        if self.adapter.info.untrained:
            image = draw_banner(image, "UNTRAINED backbone: random weights, features mean little", "warning")
        render_ms = (time.perf_counter() - started) * 1000.0
        extras = {"view": self.kind, "classes": self.class_names, "counts": self.counts,
                  "pending_captures": self.pending_captures, "trained": self.trained, "report": self._report,
                  "training_progress": self._progress}
        return PaneOutput(pane_index, image, result, self.label, StageTimes(0.0, elapsed_ms, 0.0), render_ms,
                          extras=extras)

    def _status_lines(self, classifying: bool) -> list[str]:
        if not self._counts:
            return [f"Teach: name {MIN_CLASSES}-{MAX_CLASSES} classes to start"]
        counts = "  ".join(f"{name}: {n}" for name, n in self._counts.items())
        if classifying:
            acc = self._report.accuracy if self._report is not None else float("nan")
            trained = f"training accuracy {100 * acc:.0f}%" if not np.isnan(acc) else "loaded from file"
            return [f"New head on {len(self._counts)} classes ({trained})", f"frames: {counts}"]
        lines = [f"frames: {counts}"]
        if self._pending:
            lines.append(f"capturing '{self._pending[0]}'...")
        lines.append("Capture a few frames of each class, then train")
        return lines

    def _busy_lines(self) -> list[str]:
        progress = self._progress
        if progress is None:
            return ["Teach: working..."]
        epoch, epochs, loss, accuracy = progress
        return [f"Training the new head: epoch {epoch}/{epochs}", f"loss {loss:.3f}  accuracy {100 * accuracy:.0f}%"]

    def close(self) -> None:
        with self._session_lock:
            self._pending.clear()
        self.adapter.close()
