"""The Record and Snapshot commands as the user sees them: a red, ticking Record button, status messages, and
files named by time in the output folder. The work itself happens in `recording.py`, off the UI thread."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from desktop_app.core.errors import CnnLensError
from desktop_app.core.outputs import unique_output_path
from desktop_app.ui.frame_view import FrameView
from desktop_app.ui.recording import RecordingStatus, SnapshotWriter
from desktop_app.ui.status import Level, StatusArea

RECORD_STYLE = "QToolButton { color: white; background: #c62828; border-radius: 4px; font-weight: bold; }"
FILE_PREFIX = "cnnlens"


class CaptureControls(QObject):
    """Connects the Record action and button, the snapshot writer and the status area to the session."""

    def __init__(self, session, record_action: QAction, record_button: QWidget | None, status: StatusArea,
                 frame_view: FrameView, output_folder: Callable[[], Path], parent: QObject | None = None):
        super().__init__(parent)
        self._session = session
        self._action = record_action
        self._button = record_button
        self._status = status
        self._view = frame_view
        self._output_folder = output_folder
        self.snapshots = SnapshotWriter(self)
        record_action.toggled.connect(self._on_toggled)
        session.recording.status.connect(self._on_status)
        self.snapshots.saved.connect(lambda path: status.show_message(f"Snapshot saved: {path}"))
        self.snapshots.failed.connect(lambda why: status.show_message(why, Level.ERROR))

    def start_recording(self, path: Path | None = None) -> Path | None:
        """Record the composed view to `path` (default: a new timestamped file in the output folder)."""
        try:
            target = Path(path or unique_output_path(self._output_folder(), FILE_PREFIX, ".mp4"))
            capture = self._session.sources.capture
            fps = (capture.source.fps if capture is not None else None) or 30.0
            self._session.recording.start(target, fps_hint=fps)
        except (CnnLensError, OSError, ValueError) as exc:
            self._status.show_message(f"Cannot record: {exc}", Level.ERROR)
            self._show_recording(False)
            return None
        self._show_recording(True)
        self._status.show_message(f"Recording to {target}")
        return target

    def stop_recording(self) -> Path | None:
        """Stop; the file is finalised in the background and a status message says when it is saved."""
        path = self._session.recording.stop()
        self._show_recording(False)
        return path

    def snapshot(self) -> Path | None:
        """Save what the frame view shows as a PNG in the output folder (written in the background)."""
        image = self._view.current_image
        if image is None:
            self._status.show_message("Nothing to snapshot yet", Level.WARNING)
            return None
        try:
            return self.snapshots.save(image, self._output_folder(), FILE_PREFIX)
        except (CnnLensError, OSError) as exc:
            self._status.show_message(f"Cannot save a snapshot: {exc}", Level.ERROR)
            return None

    def _show_recording(self, recording: bool) -> None:
        self._action.blockSignals(True)
        self._action.setChecked(recording)
        self._action.blockSignals(False)
        if self._button is not None:
            self._button.setStyleSheet(RECORD_STYLE if recording else "")
        if not recording:
            self._action.setText("&Record")
            self._status.set_recording(None)

    def _on_toggled(self, checked: bool) -> None:
        if checked:
            self.start_recording()
        else:
            self.stop_recording()

    def _on_status(self, status: RecordingStatus) -> None:
        if status.finished:
            self._show_recording(False)
            if status.error:
                self._status.show_message(f"Recording stopped: {status.error}. What was recorded is kept in "
                                          f"{status.path}", Level.ERROR)
            else:
                skipped = f", {status.frames_skipped} frames skipped" if status.frames_skipped else ""
                self._status.show_message(f"Recording saved: {status.path} ({status.frames_written} frames"
                                          f"{skipped})")
            return
        minutes, seconds = divmod(int(status.elapsed_s), 60)
        self._action.setText(f"● {minutes:02d}:{seconds:02d}")
        self._status.set_recording(status.describe())
