"""The two background threads of the live view: the inference worker and the model loader.

The inference worker is the only thread that touches the `Pipeline` (and so every model): it takes the newest
captured frame and runs the panes' models; the pipeline's draw thread then draws it (while the worker infers the
next frame), feeds the recorder and leaves the newest result in a one-slot `OutputSlot`.
The loader builds pane runners off the UI thread; a loaded runner is swapped into the pipeline between two
frames. Neither thread imports Qt: they report through plain callbacks, which the session turns into signals.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable, Protocol

from desktop_app.core.errors import CnnLensError
from desktop_app.core.frames import Frame
from desktop_app.core.models.base import PredictOptions
from desktop_app.core.pipeline import FrameOutput, PaneRunner, PaneSpec, Pipeline
from desktop_app.core.render import Corner, RenderStyle
from desktop_app.core.sources import FRESH_FRAME_PATIENCE

log = logging.getLogger(__name__)

#: How often an idle worker looks for work no event announced (a feed without a mailbox to listen to).
IDLE_WAIT_S = 0.004


class FrameFeed(Protocol):
    """What the worker needs from a capture: the newest unseen frame, and the clock its timestamps use."""

    def latest(self, newer_than: int = -1, patience: float = 0.0) -> Frame | None: ...

    def clock_s(self) -> float: ...


@dataclass(frozen=True, slots=True)
class DisplayFrame:
    """One processed frame on its way to the screen. `captured_monotonic_s` is when the capture thread
    delivered the frame, on `time.monotonic()`'s clock, so the UI can measure capture-to-display latency;
    `source_generation` tells results of a previous source apart."""

    output: FrameOutput
    captured_monotonic_s: float
    processed_monotonic_s: float
    source_generation: int


class OutputSlot:
    """Newest-wins hand-off from the worker to the UI: `put` replaces an unread item instead of queueing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._item: DisplayFrame | None = None
        self.replaced = 0

    def put(self, item: DisplayFrame) -> bool:
        """Store `item`; True when the slot was empty, i.e. the UI needs a notification."""
        with self._lock:
            was_empty = self._item is None
            if not was_empty:
                self.replaced += 1
            self._item = item
            return was_empty

    def take(self) -> DisplayFrame | None:
        with self._lock:
            item, self._item = self._item, None
            return item


class InferenceWorker(threading.Thread):
    """Runs the pipeline on the newest frame of the current feed, on its own thread.

    Every method except `run` may be called from any thread; they take effect between two frames.
    `on_output()` is called (on the pipeline's draw thread) when the slot went from empty to full;
    `on_error(message)` when a frame failed unexpectedly (the worker carries on with the next frame).
    """

    def __init__(self, pipeline: Pipeline, slot: OutputSlot, on_output: Callable[[], None],
                 on_frame_processed: Callable[[DisplayFrame], None] | None = None,
                 on_error: Callable[[str], None] | None = None):
        super().__init__(name="cnnlens-inference", daemon=True)
        self.pipeline = pipeline
        self.slot = slot
        self._on_output = on_output
        self._on_frame_processed = on_frame_processed
        self._on_error = on_error
        self._last_error = ""
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stop_event = threading.Event()
        self._feed: FrameFeed | None = None
        self._generation = 0
        self._last_index = -1
        self._last_frame: Frame | None = None
        self._reprocess = False
        self._options: dict[int, PredictOptions] = {}
        self._style: RenderStyle | None = None
        self.frames_processed = 0
        self.error: BaseException | None = None

    # -- any thread ------------------------------------------------------------------------------------------

    def set_feed(self, feed: FrameFeed | None, generation: int) -> None:
        """Read frames from `feed` from now on (None: stop processing)."""
        def apply() -> None:
            # A feed with a mailbox wakes this thread the moment a frame arrives; others are polled every
            # IDLE_WAIT_S, which would add up to that much to the latency of every frame of a fast model.
            for old_or_new, listen in ((self._feed, False), (feed, True)):
                mailbox = getattr(old_or_new, "mailbox", None)
                if mailbox is not None:
                    (mailbox.add_listener if listen else mailbox.remove_listener)(self._wake.set)
            self._feed = feed
            self._generation = generation
            self._last_index = -1
            self._last_frame = None
        self._submit(apply)

    def swap_runner(self, index: int, runner: PaneRunner) -> None:
        """Put `runner` into pane `index` before the next frame; the pipeline closes the old runner."""
        options = self._options.get(index)
        if options is not None and hasattr(runner, "options"):
            runner.options = options  # it was loaded with the options of its request; the user may have moved on
        self.pipeline.swap_runner(index, runner)
        self.request_reprocess()

    def set_options(self, index: int, options: PredictOptions) -> None:
        """Thresholds of pane `index`, applied from the next frame on (and to a paused frame at once)."""
        self._options[index] = options
        self.request_reprocess()

    def set_layout(self, layout) -> None:
        self._submit(lambda: self.pipeline.set_layout(layout))
        self.request_reprocess()

    def set_info_line(self, text: str) -> None:
        """Extra HUD line (device, precision, display latency); a plain attribute write, safe between frames."""
        self.pipeline.info_line = text

    def set_text_scale(self, scale: float) -> None:
        """Overlay and HUD text scale (the GUI sizes it for the display), from the next frame on."""
        def apply() -> None:
            # The HUD sits top-left, so the top-5 panel of classifiers goes top-right instead of under it.
            self._style = RenderStyle(text_scale=scale, panel_corner=Corner.TOP_RIGHT)
            self.pipeline.hud_scale = scale
        self._submit(apply)
        self.request_reprocess()

    def call(self, command: Callable[[], None]) -> None:
        """Run `command` on the worker thread between two frames (e.g. to start or stop feeding a recorder)."""
        self._submit(command)

    def request_reprocess(self) -> None:
        """Run the panes again on the last frame, so a paused or still picture reflects a change."""
        self._reprocess = True
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the thread to finish its current frame and end; waits up to `timeout_s`."""
        self._stop_event.set()
        self._wake.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout_s)
            if self.is_alive():
                log.error("inference thread did not stop within %.0f s", timeout_s)

    # -- worker thread ---------------------------------------------------------------------------------------

    def _submit(self, command: Callable[[], None]) -> None:
        self._commands.put(command)
        self._wake.set()

    def _run_commands(self) -> None:
        if not self._commands.empty():
            # a command may stop the recorder the frame being drawn is about to feed: that frame goes first
            self.pipeline.drain()
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            command()

    def run(self) -> None:
        try:
            while not self._stop_event.is_set():
                try:
                    self._run_commands()
                    frame = self._next_frame()
                    if frame is None:
                        self._wake.wait(IDLE_WAIT_S)
                        self._wake.clear()
                        continue
                    self._process(frame)
                except Exception as exc:  # noqa: BLE001 - a bug in one frame must not freeze the live view
                    self._report(exc)
        finally:
            try:
                self.pipeline.drain()  # the last frame reaches the screen and the recorder
            except Exception as exc:  # noqa: BLE001 - reported like any frame's failure; the commands must run
                self._report(exc)
            self._run_commands()  # e.g. a pending "stop recording" must still close its file

    def _report(self, exc: Exception) -> None:
        message = f"{type(exc).__name__}: {exc}"
        if message != self._last_error:  # once per distinct error, not once per frame
            self._last_error = message
            log.exception("inference failed on a frame")
            if self._on_error is not None:
                self._on_error(message)
        self.error = exc
        self._wake.wait(0.05)  # a persistent error must not spin a core

    def _next_frame(self) -> tuple[Frame, float] | None:
        """(frame, its capture time on the monotonic clock), or None when there is nothing new to do."""
        feed = self._feed
        if feed is not None:
            # A frame about to be superseded waits a moment for its successor: lower latency (see the mailbox).
            frame = feed.latest(newer_than=self._last_index, patience=FRESH_FRAME_PATIENCE)
            if frame is not None:
                self._reprocess = False
                # Frame timestamps are on the capture clock; translate to monotonic time once, here.
                age_s = max(0.0, feed.clock_s() - frame.timestamp_s)
                return frame, time.monotonic() - age_s
        if self._reprocess and self._last_frame is not None:
            self._reprocess = False
            return self._last_frame, time.monotonic()
        return None

    def _apply_options(self) -> None:
        runners = self.pipeline.runners
        for index, options in list(self._options.items()):  # a copy: the UI thread may add a pane meanwhile
            runner = runners[index] if index < len(runners) else None
            if runner is not None and getattr(runner, "options", options) != options:
                runner.options = options
        if self._style is not None:
            for runner in runners:
                if runner is not None and hasattr(runner, "style") and runner.style is not self._style:
                    runner.style = self._style

    def _process(self, frame_captured: tuple[Frame, float]) -> None:
        frame, captured = frame_captured
        self._last_frame = frame
        self._last_index = frame.frame_index
        self._apply_options()
        generation = self._generation
        # Inferred here; drawn on the pipeline's draw thread while this thread infers the next frame, and handed
        # on from there. What the drawing raised surfaces here at the next frame.
        self.pipeline.submit(frame, lambda output: self._deliver(output, captured, generation))

    def _deliver(self, output: FrameOutput, captured: float, generation: int) -> None:
        """On the pipeline's draw thread: a finished frame to the recorder and the screen."""
        item = DisplayFrame(output, captured, time.monotonic(), generation)
        self.frames_processed += 1
        if self._on_frame_processed is not None:
            self._on_frame_processed(item)
        if self.slot.put(item):
            self._on_output()


@dataclass(frozen=True, slots=True)
class LoadRequest:
    """Load `spec` into pane `pane_index`. `request_id` grows with every request, so late results of a
    superseded request can be recognised and discarded. `adopt_task`: the model file decides the pane's task
    (a file the user dropped or opened). `fallback` is loaded instead if this fails and nothing runs yet."""

    request_id: int
    pane_index: int
    spec: PaneSpec
    device: str
    adopt_task: bool = False
    fallback: PaneSpec | None = None


BuildRunner = Callable[[LoadRequest, Callable[[int, int], None] | None], PaneRunner]


class ModelLoader(threading.Thread):
    """Builds pane runners one at a time, off the UI thread.

    A new request for a pane replaces that pane's queued request. Results arrive through callbacks on this
    thread: `on_started(request)`, `on_loaded(request, runner)`, `on_failed(request, message)`,
    `on_progress(request, done, total)`.
    """

    def __init__(self, build: BuildRunner, *, on_started: Callable[[LoadRequest], None],
                 on_loaded: Callable[[LoadRequest, PaneRunner], None],
                 on_failed: Callable[[LoadRequest, str], None],
                 on_progress: Callable[[LoadRequest, int, int], None] | None = None):
        super().__init__(name="cnnlens-model-loader", daemon=True)
        self._build = build
        self._on_started = on_started
        self._on_loaded = on_loaded
        self._on_failed = on_failed
        self._on_progress = on_progress
        self._pending: dict[int, LoadRequest] = {}
        self._condition = threading.Condition()
        self._stopping = False
        self._next_id = 0
        self.busy = False

    def request(self, pane_index: int, spec: PaneSpec, device: str, *, adopt_task: bool = False,
                fallback: PaneSpec | None = None) -> LoadRequest:
        """Queue a load for pane `pane_index`, replacing any queued one for that pane."""
        with self._condition:
            self._next_id += 1
            request = LoadRequest(self._next_id, pane_index, spec, device, adopt_task, fallback)
            self._pending[pane_index] = request
            self._condition.notify()
            return request

    @property
    def idle(self) -> bool:
        """True when nothing is loading or queued."""
        with self._condition:
            return not self._pending and not self.busy

    def stop(self, timeout_s: float = 60.0) -> None:
        """Drop queued requests and wait for a load in progress to finish (its runner is closed)."""
        with self._condition:
            self._stopping = True
            self._pending.clear()
            self._condition.notify_all()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout_s)
            if self.is_alive():
                log.error("model loader did not stop within %.0f s", timeout_s)

    def run(self) -> None:
        while True:
            with self._condition:
                while not self._pending and not self._stopping:
                    self._condition.wait()
                if self._stopping:
                    return
                # Lowest pane first, so pane 1 (what the user sees first) is ready first.
                request = self._pending.pop(min(self._pending))
                self.busy = True
            try:
                self._load(request)
            finally:
                with self._condition:
                    self.busy = False

    def _load(self, request: LoadRequest) -> None:
        self._on_started(request)
        progress = None
        if self._on_progress is not None:
            progress = lambda done, total: self._on_progress(request, done, total)  # noqa: E731
        try:
            runner = self._build(request, progress)
        except (CnnLensError, ValueError, OSError, RuntimeError) as exc:
            # Expected user-facing failures: corrupt file, wrong task, offline download, out of memory.
            self._on_failed(request, str(exc) or type(exc).__name__)
            return
        except Exception as exc:  # noqa: BLE001 - third-party loaders raise anything; the pane must say why
            log.exception("loading %s failed", request.spec.model)
            self._on_failed(request, f"{type(exc).__name__}: {exc}")
            return
        with self._condition:
            stopping = self._stopping
        if stopping:
            runner.close()
            return
        self._on_loaded(request, runner)
