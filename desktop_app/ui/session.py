"""The live session: one capture, one inference worker, one model loader and an optional recorder.

`LiveSession` is the UI's single handle on the running core. Its methods are called on the UI thread and never
wait on a model or a device; what happens on the background threads comes back as Qt signals (queued onto the
UI thread), so widgets are only ever touched by the UI thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

from desktop_app.core.models.base import PredictOptions
from desktop_app.core.pipeline import PaneRunner, PaneSpec, Pipeline, RateMeter
from desktop_app.core.render import Layout
from desktop_app.ui.placeholders import failed_pane, loading_pane
from desktop_app.ui.recording import RecordingControl
from desktop_app.ui.source_control import SourceControl
from desktop_app.ui.status import Level
from desktop_app.ui.workers import DisplayFrame, InferenceWorker, LoadRequest, ModelLoader, OutputSlot

log = logging.getLogger(__name__)

MAX_PANES = 4


@dataclass(frozen=True, slots=True)
class PaneModelInfo:
    """What a pane runs once loaded, for its panel and the HUD."""

    label: str
    task: str
    untrained: bool
    class_names: dict
    device: str
    precision: str
    backend: str
    #: The runner itself, for views whose settings the UI changes (their setters are safe from any thread).
    runner: object = field(default=None, compare=False, repr=False)


def _runner_info(runner: PaneRunner, kind: str) -> PaneModelInfo:
    info = getattr(getattr(runner, "adapter", None), "info", None)
    task = getattr(getattr(runner, "task", None), "value", None) or kind
    if info is None:
        return PaneModelInfo(runner.label, task, False, {}, "", "", "", runner=runner)
    return PaneModelInfo(runner.label, task, bool(info.untrained), dict(info.names), info.device,
                         info.precision, info.backend, runner=runner)


def build_pane_runner(request: LoadRequest, progress) -> PaneRunner:
    """Loader-thread builder: a catalog/YAML model for the pane's task, or a user's file whose own metadata
    decides the task (`adopt_task`)."""
    # Imported here, on the loader thread: they pull in torch and Ultralytics, which the window must not
    # wait for at start-up.
    from desktop_app.core.panes import build_runner

    spec = request.spec
    if not request.adopt_task:
        return build_runner(spec, request.device, progress)
    from desktop_app.core.models.loader import load_model
    from desktop_app.core.pipeline import ModelPane

    adapter = load_model(spec.model, device=request.device, progress=progress)
    return ModelPane(adapter, spec.options, adapter.info.task)


class LiveSession(QObject):
    """Runs the live view for the window; see the module docstring for the threading rules."""

    output_ready = Signal()  # a new DisplayFrame waits in the slot: call take_output()
    pane_state = Signal(int, str, str)  # pane index, text, Level value
    pane_download = Signal(int, int, int)  # pane index, bytes done, bytes in all (0 when unknown)
    pane_model = Signal(int, object)  # pane index, PaneModelInfo of the model now running there
    pane_spec_changed = Signal(int, object)  # pane index, PaneSpec the session switched to by itself
    message = Signal(str, str)  # text, Level value
    loads_settled = Signal()  # nothing is loading or queued any more
    _load_event = Signal(object, object, str)  # (LoadRequest, runner | None, error), from the loader thread

    def __init__(self, device: str = "auto", build_runner=build_pane_runner, parent: QObject | None = None):
        super().__init__(parent)
        self.device = device
        self.slot = OutputSlot()
        self.pipeline = Pipeline([loading_pane("…") for _ in range(MAX_PANES)], Layout.ONE, hud=True)
        self.worker = InferenceWorker(self.pipeline, self.slot, self.output_ready.emit, self._on_frame_processed,
                                      on_error=lambda why: self.message.emit(f"Processing failed: {why}",
                                                                             Level.ERROR.value))
        self.loader = ModelLoader(build_runner, on_started=self._on_load_started,
                                  on_loaded=lambda r, runner: self._load_event.emit(r, runner, ""),
                                  on_failed=lambda r, why: self._load_event.emit(r, None, why),
                                  on_progress=self._on_load_progress)
        self.recording = RecordingControl(self.worker, self)
        self.sources = SourceControl(self.worker, self)
        self.sources.message.connect(self.message)
        self.specs: list[PaneSpec | None] = [None] * MAX_PANES
        self.layout = 1
        self.pane_info: list[PaneModelInfo | None] = [None] * MAX_PANES
        self._latest_request: dict[int, int] = {}
        self._fallbacks: list[PaneSpec | None] = [None] * MAX_PANES
        self._adopt: list[bool] = [False] * MAX_PANES
        self._display_meter = RateMeter(refresh_s=0.5)
        self.display_fps = 0.0
        self.latency_ms = 0.0
        self._closed = False
        self._text_scale: float | None = None
        self._load_event.connect(self._on_load_event)

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker and loader threads (frames flow once a source is opened)."""
        self.worker.start()
        self.loader.start()

    def close(self) -> None:
        """Stop every thread, finalise any recording and release every model. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.recording.stop()
        self.loader.stop()
        self.sources.close()
        self.worker.stop()
        self.pipeline.close()
        self.recording.wait_finished()

    @property
    def closed(self) -> bool:
        return self._closed

    # -- panes -----------------------------------------------------------------------------------------------

    def set_layout(self, layout: int) -> None:
        """Show `layout` panes; panes that become visible for the first time start loading."""
        self.layout = layout
        self.worker.set_layout(Layout(layout))
        for index in range(layout):
            spec = self.specs[index]
            if spec is not None and index not in self._latest_request:
                self._request(index, spec)

    def configure_pane(self, index: int, spec: PaneSpec, fallback: PaneSpec | None = None) -> None:
        """Remember `spec` for pane `index` and load it now if the pane is visible. If it cannot be loaded
        while nothing runs in the pane yet, `fallback` is loaded instead (e.g. for a stale saved model)."""
        self.specs[index] = spec
        self._fallbacks[index] = fallback
        self._adopt[index] = False
        self.worker.set_options(index, spec.options)
        if index < self.layout:
            self._request(index, spec)

    def set_pane(self, index: int, spec: PaneSpec) -> None:
        """Load a new task/model into pane `index`; the old one keeps running until the new one is ready."""
        self.configure_pane(index, spec)

    def load_file_into_pane(self, index: int, path: str) -> None:
        """Load a model file the user chose into pane `index`; the file's own metadata sets the pane's task."""
        spec = self.specs[index] or PaneSpec("detect", path)
        from desktop_app.core.models.tasks import Task

        adopt = spec.task in {t.value for t in Task}  # insight views keep their kind and look inside the model
        self.specs[index] = PaneSpec(spec.task, path, spec.options)
        self._fallbacks[index] = None
        self._adopt[index] = adopt
        if index >= self.layout:
            return
        self._request(index, self.specs[index])

    def set_device(self, device: str) -> None:
        """Run every model on `device` from now on: visible panes reload in the background (their current
        models keep running until then), hidden ones when they are next shown."""
        self.device = device
        self._latest_request = {i: rid for i, rid in self._latest_request.items() if i < self.layout}
        for index in range(self.layout):
            if self.specs[index] is not None:
                self._request(index, self.specs[index])

    def set_options(self, index: int, options: PredictOptions) -> None:
        spec = self.specs[index]
        if spec is not None:
            self.specs[index] = PaneSpec(spec.task, spec.model, options)
        self.worker.set_options(index, options)

    @property
    def loading(self) -> bool:
        """True while a model load is in progress or queued."""
        return bool(self._pending_requests())

    def _pending_requests(self) -> list[int]:
        # Request ids are positive while pending and negated once their result has been handled.
        return [rid for rid in self._latest_request.values() if rid > 0]

    def _request(self, index: int, spec: PaneSpec) -> None:
        request = self.loader.request(index, spec, self.device, adopt_task=self._adopt[index],
                                      fallback=self._fallbacks[index])
        self._latest_request[index] = request.request_id
        if self.pane_info[index] is None:
            # Nothing runs in this pane yet: say on the picture itself what is coming.
            self.worker.swap_runner(index, loading_pane(spec.model))
        self.pane_state.emit(index, f"Loading {spec.model}…", Level.INFO.value)

    def _on_load_started(self, request: LoadRequest) -> None:
        log.info("loading %s into pane %d", request.spec.model, request.pane_index + 1)

    def _on_load_progress(self, request: LoadRequest, done: int, total: int) -> None:
        self.pane_download.emit(request.pane_index, done, total)
        if total > 0:
            text = f"Downloading {request.spec.model}: {100 * done // total}%"
            self.pane_state.emit(request.pane_index, text, Level.INFO.value)

    def _on_load_event(self, request: LoadRequest, runner: PaneRunner | None, error: str) -> None:
        index = request.pane_index
        current = self._latest_request.get(index) == request.request_id
        if runner is not None and (not current or self._closed):
            runner.close()  # superseded while loading: the user already asked for something else
        elif current and runner is not None:
            self._latest_request[index] = -request.request_id  # negative: settled
            self.worker.swap_runner(index, runner)
            info = _runner_info(runner, request.spec.task)
            self.pane_info[index] = info
            spec = self.specs[index] or request.spec
            if info.task != spec.task:  # a file decided its own task
                self.specs[index] = PaneSpec(info.task, spec.model, spec.options)
                self.pane_spec_changed.emit(index, self.specs[index])
            self.pane_model.emit(index, info)
            self.pane_state.emit(index, f"Running {info.label}" + (" on " + info.device if info.device else ""),
                                 Level.INFO.value)
            self.message.emit(f"Pane {index + 1}: {info.label} ready", Level.INFO.value)
        elif current:
            self._latest_request[index] = -request.request_id
            running = self.pane_info[index]
            fallback = request.fallback
            if running is None and fallback is not None and fallback != request.spec:
                self.message.emit(f"Pane {index + 1}: {request.spec.model} is not available ({error}); "
                                  f"using {fallback.model}", Level.WARNING.value)
                self.configure_pane(index, fallback)
                self.pane_spec_changed.emit(index, fallback)
                return
            if running is None:
                self.worker.swap_runner(index, failed_pane(request.spec.model, error))
                keeps = ""
            else:
                keeps = f"; still running {running.label}"
            self.pane_state.emit(index, f"Could not load {request.spec.model}: {error}{keeps}", Level.ERROR.value)
            self.message.emit(f"Pane {index + 1}: could not load {request.spec.model}: {error}{keeps}",
                              Level.ERROR.value)
        # Judged from our own bookkeeping, not the loader's busy flag: that flag clears on the loader thread a
        # moment after this result was queued to us.
        if not self._closed and not self._pending_requests():
            self.loads_settled.emit()

    # -- frames ----------------------------------------------------------------------------------------------

    def take_output(self) -> DisplayFrame | None:
        """The newest processed frame of the current source, or None."""
        item = self.slot.take()
        if item is None or item.source_generation != self.sources.generation:
            return None
        return item

    def _on_frame_processed(self, item: DisplayFrame) -> None:
        # The pipeline's draw thread: feed the recorder with exactly what the panes show.
        self.recording.feed(item)

    def note_painted(self, item: object, painted_monotonic_s: float) -> None:
        """Called when a frame reached the screen: capture-to-display latency is measured here."""
        if not isinstance(item, DisplayFrame):
            return
        latency_ms = (painted_monotonic_s - item.captured_monotonic_s) * 1000.0
        if self._display_meter.tick(latency=latency_ms):
            self.display_fps = self._display_meter.fps
            self.latency_ms = self._display_meter.means.get("latency", 0.0)
            # Each pane's HUD already names its own device and precision; the latency is the view's.
            self.worker.set_info_line(f"latency {self.latency_ms:.0f} ms")

    def fit_text_to_display(self, frame_height_px: int, shown_pane_height_px: float) -> None:
        """Size overlay text for how big a pane appears on screen, so labels stay readable with 2 or 4 panes
        (text is drawn into the frame, then the frame is shrunk to fit its cell and the window)."""
        if shown_pane_height_px < 1 or frame_height_px < 1:
            return
        scale = readable_text_scale(frame_height_px, shown_pane_height_px)
        if scale != self._text_scale:
            self._text_scale = scale
            self.worker.set_text_scale(scale)


def readable_text_scale(frame_height_px: int, shown_height_px: float, on_screen: float = 0.5) -> float:
    """The OpenCV font scale that shows text at about `on_screen` (0.5: ~11 px capitals) once a frame
    `frame_height_px` tall is displayed `shown_height_px` tall; rounded to 0.05 so small resizes do not churn."""
    scale = on_screen * frame_height_px / shown_height_px
    return round(min(3.0, max(0.35, scale)) * 20) / 20

