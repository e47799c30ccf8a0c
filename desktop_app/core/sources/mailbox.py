"""The one-slot mailbox between a capture thread and its consumer: it holds only the newest frame, so latency
cannot build up, and wakes the consumer the moment a frame arrives."""

from __future__ import annotations

import threading
import time
from typing import Callable

from desktop_app.core.frames import Frame

#: How close the next frame must be, as a share of the interval between frames, for `latest(patience=...)` to
#: wait for it rather than hand out the frame already held (see `LatestFrameMailbox.latest`).
FRESH_FRAME_PATIENCE = 0.25
_LONGEST_INTERVAL_S = 1.0  # gaps longer than this (a pause, a stall) say nothing about the frame rate


class LatestFrameMailbox:
    """One slot holding the newest frame. `put` overwrites; nothing ever queues, so latency cannot build up."""

    def __init__(self, clock=time.monotonic) -> None:
        self._condition = threading.Condition()
        self._listeners: list[Callable[[], None]] = []
        self._frame: Frame | None = None
        self._closed = False
        self._clock = clock
        self._put_at: float | None = None
        #: Smoothed seconds between two frames, None until two have arrived.
        self.interval_s: float | None = None

    def put(self, frame: Frame) -> None:
        """Replace the held frame with `frame` and wake any waiter."""
        with self._condition:
            now = self._clock()
            if self._put_at is not None and 0.0 < now - self._put_at <= _LONGEST_INTERVAL_S:
                gap = now - self._put_at
                self.interval_s = gap if self.interval_s is None else self.interval_s + 0.2 * (gap - self.interval_s)
            self._put_at = now
            self._frame = frame
            self._condition.notify_all()
            listeners = tuple(self._listeners)
        for listener in listeners:  # outside the lock: a listener may read the frame at once
            listener()

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener()` (on the capture thread, so it must be quick: e.g. set an event) after every `put`:
        a consumer that also waits for other things wakes the moment a frame arrives, instead of polling."""
        with self._condition:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[], None]) -> None:
        """Stop calling `listener` (no error if it was not added)."""
        with self._condition:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def latest(self, newer_than: int = -1, patience: float = 0.0) -> Frame | None:
        """The newest frame if its `frame_index` is greater than `newer_than`, else None.

        With `patience` 0 it never blocks. With `patience` p, a consumer slower than the source gets a fresher
        frame: when the next frame is due within p frame intervals, it waits for that one (at most p intervals)
        instead of taking the held frame, which is then almost an interval old. A consumer that takes newest
        frames at random phases sees them half an interval old on average; with p = 0.25 that falls to about a
        quarter of an interval, for a few per cent of throughput (docs/benchmarks.md)."""
        with self._condition:
            frame = self._frame
            if frame is None or frame.frame_index <= newer_than:
                return None
            if patience > 0.0 and self.interval_s is not None and self._put_at is not None and not self._closed:
                due_in = self._put_at + self.interval_s - self._clock()
                if 0.0 < due_in <= patience * self.interval_s:
                    held = frame.frame_index
                    self._condition.wait_for(
                        lambda: self._closed or self._frame is None or self._frame.frame_index > held,
                        timeout=due_in + 0.25 * patience * self.interval_s)
                    frame = self._frame  # the next one, or still the held one; None if cleared meanwhile
        return frame if frame is not None and frame.frame_index > newer_than else None

    def wait(self, newer_than: int = -1, timeout: float | None = None) -> Frame | None:
        """Block until a frame newer than `newer_than` arrives (or the mailbox closes, or `timeout`)."""
        with self._condition:
            self._condition.wait_for(
                lambda: self._closed or (self._frame is not None and self._frame.frame_index > newer_than),
                timeout=timeout,
            )
            frame = self._frame
        return frame if frame is not None and frame.frame_index > newer_than else None

    def close(self) -> None:
        """Wake every waiter for good: no more frames will come (the held frame stays readable)."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def clear(self) -> None:
        """Forget the held frame (e.g. when the source is replaced)."""
        with self._condition:
            self._frame = None
