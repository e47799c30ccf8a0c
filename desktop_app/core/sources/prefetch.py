"""Read a finite source ahead on its own thread, keeping every frame in order.

Headless processing must not drop frames, yet decoding need not wait for the model: a small bounded queue lets
the next frames decode on another core while the current one is inferred. Memory stays bounded by `depth`.
"""

from __future__ import annotations

import queue
import threading
from typing import Iterator

from desktop_app.core.frames import Frame
from desktop_app.core.sources.base import FrameSource
from desktop_app.core.threads import yield_to_live_path

_END = object()


class PrefetchingReader:
    """Iterate `source` with up to `depth` frames decoded ahead; errors from the reader re-raise in the consumer.

    Use as a context manager (or call `close()`): closing stops the reader thread promptly, even mid-source.
    """

    def __init__(self, source: FrameSource, depth: int = 4):
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self._source = source
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"prefetch {source.name}", daemon=True)
        self._started = False

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        yield_to_live_path()  # decoding ahead fills a small queue: inference and drawing go first
        try:
            while not self._stop.is_set():
                frame = self._source.read()
                if frame is None:
                    break
                if not self._put(frame):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it where it can be handled
            self._put(exc)
            return
        self._put(_END)

    def __iter__(self) -> Iterator[Frame]:
        if not self._started:
            self._started = True
            self._thread.start()
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        """Stop reading ahead and wait for the reader thread to end."""
        self._stop.set()
        if self._started:
            self._thread.join(timeout=5.0)

    def __enter__(self) -> "PrefetchingReader":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
