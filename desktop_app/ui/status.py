"""The status area: loading messages, errors, the source, recording state and skipped frames.

Errors are shown here, never in a modal dialog, so a live stream is never blocked waiting for a click.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

log = logging.getLogger(__name__)

HISTORY_LENGTH = 200


class Level(str, Enum):
    """How important a status message is; errors stay until replaced, the others fade."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


_STYLE = {
    Level.INFO: "",
    Level.WARNING: "color: #b36b00; font-weight: bold;",
    Level.ERROR: "color: #c62828; font-weight: bold;",
}
_TIMEOUT_MS = {Level.INFO: 8000, Level.WARNING: 15000, Level.ERROR: 0}


@dataclass(frozen=True, slots=True)
class StatusMessage:
    text: str
    level: Level
    time_s: float


class StatusArea(QStatusBar):
    """Status bar with a message on the left and the source, speed and recording state on the right."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizeGripEnabled(True)
        self.history: list[StatusMessage] = []
        self._message = QLabel()
        self._message.setObjectName("statusMessage")
        self._message.setMinimumWidth(200)
        self._source = QLabel()
        self._source.setObjectName("statusSource")
        self._speed = QLabel()
        self._speed.setObjectName("statusSpeed")
        self._recording = QLabel()
        self._recording.setObjectName("statusRecording")
        self._recording.setStyleSheet("color: #c62828; font-weight: bold;")
        self._recording.hide()
        self.addWidget(self._message, 1)
        self.addPermanentWidget(self._source)
        self.addPermanentWidget(self._speed)
        self.addPermanentWidget(self._recording)
        self._fade = QTimer(self)
        self._fade.setSingleShot(True)
        self._fade.timeout.connect(lambda: self._message.setText(""))

    def show_message(self, text: str, level: Level | str = Level.INFO) -> None:
        """Show `text`; also logged. Errors stay until the next message."""
        level = Level(level)
        self.history.append(StatusMessage(text, level, time.time()))
        del self.history[:-HISTORY_LENGTH]
        getattr(log, "error" if level is Level.ERROR else level.value)("%s", text)
        self._message.setText(text)
        self._message.setStyleSheet(_STYLE[level])
        self._message.setToolTip("\n".join(m.text for m in self.history[-10:]))
        timeout = _TIMEOUT_MS[level]
        if timeout:
            self._fade.start(timeout)
        else:
            self._fade.stop()

    @property
    def current_text(self) -> str:
        return self._message.text()

    def messages(self, level: Level | None = None) -> list[str]:
        """Texts shown so far (optionally of one level), oldest first."""
        return [m.text for m in self.history if level is None or m.level is level]

    def set_source(self, text: str) -> None:
        self._source.setText(text)

    def set_speed(self, text: str) -> None:
        self._speed.setText(text)

    def set_recording(self, text: str | None) -> None:
        """Show the recording state (`None` hides it)."""
        self._recording.setVisible(bool(text))
        self._recording.setText(text or "")

    @property
    def recording_text(self) -> str:
        return self._recording.text() if self._recording.isVisible() else ""
