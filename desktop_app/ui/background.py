"""One-off background calls whose result comes back to the UI thread as a signal (camera scan, online probe)."""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


class BackgroundCall(QObject):
    """Runs `function()` on a daemon thread; `done(result)` or `failed(message)` fires on the UI thread."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, name: str, function: Callable[[], Any], parent: QObject | None = None):
        super().__init__(parent)
        self._function = function
        self._thread = threading.Thread(target=self._run, name=f"cnnlens-{name}", daemon=True)

    def start(self) -> "BackgroundCall":
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            result = self._function()
        except Exception as exc:  # noqa: BLE001 - reported on the UI thread, never lost
            log.warning("%s failed: %s", self._thread.name, exc)
            self.failed.emit(str(exc))
            return
        self.done.emit(result)

    def wait(self, timeout_s: float = 10.0) -> bool:
        """Join the thread; True when it has finished."""
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        return not self._thread.is_alive()
