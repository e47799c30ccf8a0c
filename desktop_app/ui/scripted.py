"""Scripted runs for demos, documentation and tests: wait until every pane's model is ready, process N frames
(recording them if asked), save a screenshot of the window, and quit with an exit code."""

from __future__ import annotations

import logging
from pathlib import Path

from typing import Callable

from PySide6.QtCore import QObject, QTimer

from desktop_app.ui.status import Level

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1


class ScriptedRun(QObject):
    """Drives `window` to a screenshot and/or recording of `frames` processed frames, then quits the app.

    Frames are counted from the moment no model is loading any more, so the pictures show real models, not
    "Loading…" banners. The exit code is non-zero when a pane could not load its model or time ran out.
    """

    def __init__(self, window, frames: int, screenshot: Path | None = None, record: Path | None = None,
                 timeout_s: float = 600.0, quit: Callable[[int], None] | None = None):
        super().__init__(window)
        self._quit = quit
        if frames < 1:
            raise ValueError(f"--frames must be at least 1, got {frames}")
        self.window = window
        self.frames = frames
        self.screenshot = Path(screenshot) if screenshot else None
        self.record = Path(record) if record else None
        self.counted = 0
        self.exit_code: int | None = None
        self._counting = False
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.timeout.connect(self._on_timeout)
        self._timeout.start(int(timeout_s * 1000))
        window.session.loads_settled.connect(self._on_settled)
        window.frame_shown.connect(self._on_frame)

    def _on_settled(self) -> None:
        if self._counting:
            return
        self._counting = True
        if self.record is not None and self.window.start_recording(self.record) is None:
            self._finish(EXIT_FAILED, f"cannot record to {self.record}")

    def _on_frame(self, _item: object) -> None:
        if not self._counting or self.exit_code is not None:
            return
        self.counted += 1
        if self.counted >= self.frames:
            failures = self.window.status.messages(Level.ERROR)
            self._finish(EXIT_FAILED if self._any_pane_failed() else EXIT_OK,
                         "; ".join(failures[-3:]) if self._any_pane_failed() else "")

    def _any_pane_failed(self) -> bool:
        session = self.window.session
        return any(session.pane_info[i] is None for i in range(session.layout))

    def _on_timeout(self) -> None:
        self._finish(EXIT_FAILED, f"timed out after {self.counted} of {self.frames} frames")

    def _finish(self, code: int, problem: str) -> None:
        if self.exit_code is not None:
            return
        self.exit_code = code
        self._timeout.stop()
        session = self.window.session
        log.info("%d frames shown; last: %.1f FPS, capture to display %.1f ms", self.counted, session.display_fps,
                 session.latency_ms)
        if self.record is not None and self.window.session.recording.active:
            self.window.stop_recording()
            self.window.session.recording.wait_finished()
            log.info("recorded %s", self.record)
        if self.screenshot is not None:
            self.window.frame_view.repaint()
            self.screenshot.parent.mkdir(parents=True, exist_ok=True)
            if not self.window.grab().save(str(self.screenshot)):
                code = self.exit_code = EXIT_FAILED
                problem = problem or f"cannot write {self.screenshot}"
            else:
                log.info("saved screenshot %s", self.screenshot)
        if problem:
            log.error("scripted run: %s", problem)
        self.window.close()
        if self._quit is not None:
            self._quit(code)
