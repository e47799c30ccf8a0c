"""The current source: one `CaptureThread` feeding the inference worker, playback, loss and fallback.

Opening happens on the capture thread, so a slow camera or stream never blocks the window. A source that fails
before its first frame falls back to the last one that worked (or the sample); a live source that drops out
is shown as reconnecting until the capture thread brings it back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop_app.core.errors import CnnLensError
from desktop_app.core.sources import CaptureState, CaptureThread, create_source
from desktop_app.core.sources.images import is_image_path
from desktop_app.ui.source_menu import SourceChoice
from desktop_app.ui.status import Level

log = logging.getLogger(__name__)

SAMPLE = SourceChoice("sample")


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """The current source as the toolbar and status bar show it."""

    choice: SourceChoice
    name: str
    state: CaptureState
    seekable: bool
    is_live: bool
    paused: bool
    error: str | None = None


class SourceControl(QObject):
    """Owns the capture thread of the current source (and retires old ones without waiting on them)."""

    changed = Signal(object)  # SourceStatus
    message = Signal(str, str)  # text, Level value
    _capture_event = Signal(int, object)  # (generation, CaptureState), from the capture thread

    def __init__(self, worker, parent: QObject | None = None):
        super().__init__(parent)
        self._worker = worker
        self.loop = True
        self.generation = 0
        self._capture: CaptureThread | None = None
        self._retired: list[CaptureThread] = []
        self._choice: SourceChoice | None = None
        self._last_good: SourceChoice | None = None
        self._delivered_any = False
        self._closed = False
        self._capture_event.connect(self._on_capture_event)

    @property
    def choice(self) -> SourceChoice | None:
        return self._choice

    @property
    def capture(self) -> CaptureThread | None:
        return self._capture

    def open(self, choice: SourceChoice) -> bool:
        """Switch to `choice`; False (with a message) when the spec itself is invalid."""
        options = dict(choice.options)
        if not choice.spec.lower().startswith(("camera", "sample")) and is_image_path(Path(choice.spec)):
            options.setdefault("repeat", True)  # a still picture keeps the models running, so changes show
        try:
            source = create_source(choice.spec, **options)
        except (CnnLensError, ValueError, OSError) as exc:
            self.message.emit(str(exc), Level.ERROR.value)
            return False
        self.generation += 1
        generation = self.generation
        capture = CaptureThread(source, realtime=True, loop=self.loop,
                                on_state_change=lambda state: self._capture_event.emit(generation, state))
        old, self._capture = self._capture, capture
        self._choice = choice
        self._delivered_any = False
        self._worker.set_feed(capture, generation)
        capture.start()
        if old is not None:
            # Stopping may wait on a blocked read (a stalled stream): never on the UI thread.
            old.stop(timeout=0)
            self._retired = [c for c in self._retired if c.is_alive] + [old]
        self.message.emit(f"Opening {source.name}…", Level.INFO.value)
        self._emit_status()
        return True

    def set_paused(self, paused: bool) -> None:
        if self._capture is None:
            return
        if paused:
            self._capture.pause()
        else:
            self._capture.resume()
        self._emit_status()

    def step(self) -> None:
        """Show the next frame of a paused file (pausing first if it plays)."""
        if self._capture is not None:
            if not self._capture.paused:
                self._capture.pause()
            self._capture.step(1)
            self._emit_status()

    def set_loop(self, loop: bool) -> None:
        self.loop = loop
        if self._capture is not None:
            self._capture.loop = loop  # read by the capture thread when the file ends

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop every capture thread, the current one and any still retiring."""
        self._closed = True
        for capture in [self._capture, *self._retired]:
            if capture is not None:
                capture.stop(timeout=timeout_s)
        self._capture = None
        self._retired.clear()

    def _on_capture_event(self, generation: int, state: CaptureState) -> None:
        capture = self._capture
        if generation != self.generation or capture is None or self._closed:
            return
        name = capture.source.name
        if state is CaptureState.RUNNING:
            if not self._delivered_any:
                self.message.emit(f"Showing {name}", Level.INFO.value)
            elif capture.reconnects:
                self.message.emit(f"{name} is back", Level.INFO.value)
            self._delivered_any = True
            self._last_good = self._choice
        elif state is CaptureState.RECONNECTING:
            self.message.emit(f"{name} stopped delivering frames ({capture.error}); reconnecting…",
                              Level.WARNING.value)
        elif state is CaptureState.FAILED:
            self._fall_back(name, capture.error)
        elif state is CaptureState.FINISHED:
            self.message.emit(f"End of {name}" + ("" if self.loop else " (turn Loop on to play it again)"),
                              Level.INFO.value)
        self._emit_status()

    def _fall_back(self, name: str, error: BaseException | None) -> None:
        fallback = self._last_good if self._last_good not in (None, self._choice) else None
        if fallback is None and self._choice != SAMPLE:
            fallback = SAMPLE
        if fallback is None:
            self.message.emit(f"Cannot show {name}: {error}", Level.ERROR.value)
            return
        self.message.emit(f"Cannot show {name}: {error}. Showing {fallback.describe()} instead.",
                          Level.ERROR.value)
        self.open(fallback)

    def _emit_status(self) -> None:
        capture = self._capture
        if capture is None or self._choice is None:
            return
        source = capture.source
        error = str(capture.error) if capture.error is not None else None
        self.changed.emit(SourceStatus(self._choice, source.name, capture.state, source.is_seekable,
                                       source.is_live, capture.paused, error))
