"""Recording the composed view and taking snapshots, without ever stalling the live view.

The inference worker feeds the core `Recorder` (which encodes on its own thread) with exactly the frames the
panes show, stamped with the capture clock, so the file plays at real speed whatever the processing rate.
Finalising a file happens on a short-lived thread; `stop()` followed by `wait_finished()` guarantees a
complete file, which the session does when the window closes.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from desktop_app.core.errors import RecordingError

log = logging.getLogger(__name__)

STATUS_INTERVAL_MS = 500


@dataclass(frozen=True, slots=True)
class RecordingStatus:
    """A recording in progress (or just finished when `finished`)."""

    path: Path
    elapsed_s: float
    frames_written: int
    frames_skipped: int
    finished: bool = False
    error: str | None = None

    def describe(self) -> str:
        minutes, seconds = divmod(int(self.elapsed_s), 60)
        text = f"● REC {minutes:02d}:{seconds:02d}"
        if self.frames_skipped:
            text += f" · {self.frames_skipped} frames skipped (encoder too slow)"
        return text


class RecordingControl(QObject):
    """Starts, feeds and stops one recording at a time. `status` fires twice a second while recording and
    once more when the file is final (or the recording failed)."""

    status = Signal(object)  # RecordingStatus
    _failed = Signal(str)  # from the worker thread
    _finalised = Signal(object)  # from the finisher thread

    def __init__(self, worker, parent: QObject | None = None):
        super().__init__(parent)
        self._worker = worker
        self._lock = threading.Lock()
        self._recorder = None
        self._path: Path | None = None
        self._started = 0.0
        self._written = 0
        self._last_timestamp = float("-inf")
        self._failing = False
        self._finishers: list[threading.Thread] = []
        self._timer = QTimer(self)
        self._timer.setInterval(STATUS_INTERVAL_MS)
        self._timer.timeout.connect(self._publish)
        self._failed.connect(self._on_failed)
        self._finalised.connect(self.status.emit)

    @property
    def active(self) -> bool:
        return self._recorder is not None

    @property
    def path(self) -> Path | None:
        return self._path

    def start(self, path: Path, fps_hint: float = 30.0) -> Path:
        """Start recording to `path` (an existing empty placeholder may be overwritten: it is ours).

        Raises `RecordingError` when the file cannot be created.
        """
        from desktop_app.core.recorder import Recorder  # PyAV is only needed once the user records

        if self.active:
            raise RecordingError(f"Already recording to {self._path}")
        recorder = Recorder(path, fps_hint=fps_hint)
        with self._lock:
            self._recorder = recorder
            self._path = Path(path)
            self._started = time.monotonic()
            self._written = 0
            self._last_timestamp = float("-inf")
            self._failing = False
        self._timer.start()
        self._publish()
        return Path(path)

    def feed(self, item) -> None:
        """The pipeline's draw thread: hand one processed frame to the encoder."""
        with self._lock:
            recorder = self._recorder
            if recorder is None or self._failing:
                return
            timestamp = item.output.timestamp_s
            if timestamp <= self._last_timestamp:
                return  # the same frame re-run after a settings change: already in the file
            try:
                accepted = recorder.write(item.output.composed, timestamp, handover=True)  # never drawn into again
            except (RecordingError, OSError, ValueError) as exc:
                error = str(exc)
            else:
                error = str(recorder.error) if recorder.error is not None else None
                self._last_timestamp = timestamp
                self._written += int(accepted)
            if error is not None:
                # Stopping touches Qt timers, which belong to the UI thread: hand the failure over.
                self._failing = True
                self._failed.emit(error)

    def stop(self) -> Path | None:
        """Stop recording; the file is finalised on a background thread. Returns its path (None if idle)."""
        path = self._path if self.active else None
        self._detach_and_finish()
        return path

    def wait_finished(self, timeout_s: float = 30.0) -> None:
        """Block until every stopped recording is final (used when the app closes)."""
        deadline = time.monotonic() + timeout_s
        for thread in list(self._finishers):
            thread.join(max(0.0, deadline - time.monotonic()))
        self._finishers = [t for t in self._finishers if t.is_alive()]

    def current_status(self, finished: bool = False, error: str | None = None) -> RecordingStatus | None:
        recorder, path = self._recorder, self._path
        if path is None:
            return None
        skipped = int(getattr(recorder, "frames_skipped", 0) or 0) if recorder is not None else 0
        return RecordingStatus(path, time.monotonic() - self._started, self._written, skipped, finished, error)

    def _publish(self) -> None:
        recorder = self._recorder
        if recorder is not None and getattr(recorder, "error", None) is not None:
            self._detach_and_finish(error=str(recorder.error))
            return
        status = self.current_status()
        if status is not None and self.active:
            self.status.emit(status)

    def _detach_and_finish(self, error: str | None = None) -> None:
        with self._lock:
            recorder, self._recorder = self._recorder, None
        self._timer.stop()
        if recorder is not None:
            self._finish_in_background(recorder, error)

    def _finish_in_background(self, recorder, error: str | None = None) -> None:
        status = self.current_status()
        skipped = int(getattr(recorder, "frames_skipped", 0) or 0)

        def finish() -> None:
            final_error = error
            try:
                recorder.close()
            except (RecordingError, OSError) as exc:
                final_error = final_error or str(exc)
            if final_error is None and getattr(recorder, "error", None) is not None:
                final_error = str(recorder.error)
            if status is not None:
                self._finalised.emit(RecordingStatus(status.path, status.elapsed_s, status.frames_written,
                                                     skipped, True, final_error))

        thread = threading.Thread(target=finish, name="cnnlens-recording-finaliser", daemon=True)
        self._finishers = [t for t in self._finishers if t.is_alive()] + [thread]
        thread.start()

    def _on_failed(self, message: str) -> None:
        log.error("recording stopped: %s", message)
        self._detach_and_finish(error=message)


class SnapshotWriter(QObject):
    """Saves PNG snapshots on short-lived threads, so encoding a large composed frame never stalls painting.

    The file name is reserved at once (timestamped, never overwriting); `saved(path)` or `failed(message)`
    follows when the file is complete.
    """

    saved = Signal(object)  # Path
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._threads: list[threading.Thread] = []

    def save(self, image, folder: Path, prefix: str = "cnnlens") -> Path:
        """Reserve `folder/prefix-YYYYmmdd-HHMMSS.png` and write `image` (BGR) there in the background."""
        from desktop_app.core.outputs import unique_output_path, write_png

        path = unique_output_path(folder, prefix, ".png")
        frozen = image.copy()  # the view may get a new frame while we encode

        def write() -> None:
            try:
                write_png(path, frozen)
            except (RecordingError, OSError) as exc:
                path.unlink(missing_ok=True)
                self.failed.emit(f"Cannot save a snapshot: {exc}")
                return
            self.saved.emit(path)

        thread = threading.Thread(target=write, name="cnnlens-snapshot", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return path

    def wait_finished(self, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = [t for t in self._threads if t.is_alive()]
