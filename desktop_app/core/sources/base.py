"""The interface every frame source implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterator

from desktop_app.core.errors import SourceError
from desktop_app.core.frames import Frame


class FrameSource(ABC):
    """A camera, file, folder, stream or the built-in sample, read one `Frame` at a time.

    Use as a context manager or call `open()` / `close()`. `read()` returns None at the end of a finite
    source; a live source that stops delivering raises `SourceError` instead, so callers can reconnect.
    Not thread-safe: one thread reads (see `CaptureThread` for sharing frames across threads).
    """

    #: What the user calls this source ("camera 0", "clip.mp4", "sample").
    name: str
    #: True for cameras, streams and the paced sample: frames arrive in real time and cannot be sought.
    is_live: bool = False
    #: Native frame rate in frames per second, or None when the source does not have one.
    fps: float | None = None
    #: Number of frames of a finite source (may be the container's estimate for video), else None.
    frame_count: int | None = None
    #: (width, height) of the frames, known after `open()` (None before, or when frames vary in size).
    resolution_wh: tuple[int, int] | None = None
    #: True when the device buffers frames while nobody reads (cameras, streams): a paused capture keeps
    #: reading and dropping them, so resuming shows the present instead of a stale backlog.
    drain_when_paused: bool = False

    def __init__(self, name: str) -> None:
        self.name = name
        self._is_open = False

    @property
    def is_open(self) -> bool:
        return self._is_open

    @property
    def is_seekable(self) -> bool:
        """True when `seek()` and `rewind()` work (files, folders, images, the finite sample)."""
        return False

    def open(self) -> None:
        """Acquire the underlying resource; raises `SourceError` naming the source and the reason."""
        if self._is_open:
            return
        self._open()
        self._is_open = True

    def read(self) -> Frame | None:
        """The next frame, or None once a finite source is exhausted. Opens the source if needed."""
        if not self._is_open:
            self.open()
        return self._read()

    def close(self) -> None:
        """Release the underlying resource; safe to call twice or on a source that never opened."""
        if not self._is_open:
            return
        self._is_open = False
        self._close()

    def seek(self, frame_index: int) -> None:
        """Make the next `read()` return frame `frame_index` (clamped to the source's range)."""
        raise SourceError(f"{self.name} cannot seek: it is a live source")

    def rewind(self) -> None:
        """Go back to the first frame (for looping playback)."""
        self.seek(0)

    @abstractmethod
    def _open(self) -> None: ...

    @abstractmethod
    def _read(self) -> Frame | None: ...

    @abstractmethod
    def _close(self) -> None: ...

    def __enter__(self) -> FrameSource:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        """Every remaining frame in order (forever for a live source)."""
        while (frame := self.read()) is not None:
            yield frame

    def __repr__(self) -> str:
        state = "open" if self._is_open else "closed"
        return f"<{type(self).__name__} {self.name!r} {state} live={self.is_live} fps={self.fps}>"


def clamp_index(frame_index: int, frame_count: int | None) -> int:
    """`frame_index` limited to [0, frame_count - 1] (only the lower bound when the count is unknown)."""
    index = max(0, int(frame_index))
    if frame_count is not None and frame_count > 0:
        index = min(index, frame_count - 1)
    return index
