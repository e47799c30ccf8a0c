"""Reading a source on its own thread into a one-slot mailbox, so consumers always get the newest frame."""

from __future__ import annotations

import logging
import threading
import time
from enum import Enum
from typing import Callable

from desktop_app.core.errors import SourceError
from desktop_app.core.frames import Frame
from desktop_app.core.sources.base import FrameSource
from desktop_app.core.sources.mailbox import FRESH_FRAME_PATIENCE, LatestFrameMailbox

log = logging.getLogger(__name__)

__all__ = ["FRESH_FRAME_PATIENCE", "CaptureState", "CaptureThread", "LatestFrameMailbox"]


class CaptureState(str, Enum):
    """What a `CaptureThread` is doing; `FINISHED`, `FAILED` and `STOPPED` are final."""

    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    RECONNECTING = "reconnecting"
    FINISHED = "finished"
    FAILED = "failed"
    STOPPED = "stopped"


_FINAL_STATES = frozenset({CaptureState.FINISHED, CaptureState.FAILED, CaptureState.STOPPED})


class CaptureThread:
    """Reads `source` on a daemon thread and publishes each frame to a `LatestFrameMailbox`.

    Published frames carry the capture clock: `frame_index` counts deliveries (strictly increasing, even across
    seeks and loops) and `timestamp_s` is `clock_s()` at delivery; `position` / `position_s` give the frame's
    place in the source. File sources play at their native rate when `realtime` (with pause, step, seek and
    loop); live sources that fail are reopened with back-off. Errors never reach the consumer's thread: they
    land in `error` and `state`. A `mailbox` passed in is shared, so it is not closed when capture ends.
    """

    def __init__(
        self,
        source: FrameSource,
        *,
        realtime: bool = True,
        loop: bool = False,
        reconnect: bool = True,
        mailbox: LatestFrameMailbox | None = None,
        min_backoff_s: float = 0.5,
        max_backoff_s: float = 5.0,
        on_state_change: Callable[[CaptureState], None] | None = None,
    ) -> None:
        self.source = source
        self.realtime = realtime
        self.loop = loop
        self.reconnect = reconnect
        # A mailbox passed in may outlive this capture (shared across source switches): never close it.
        self._owns_mailbox = mailbox is None
        self.mailbox = mailbox or LatestFrameMailbox()
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.on_state_change = on_state_change
        #: The exception behind the current RECONNECTING or FAILED state; None while frames flow.
        self.error: BaseException | None = None
        self.frames_delivered = 0
        self.reconnects = 0
        #: Source frame index and source timestamp of the newest delivered frame (-1 / 0.0 before any).
        self.position = -1
        self.position_s = 0.0
        self._state = CaptureState.STARTING
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop_requested = False
        self._paused = False
        self._steps = 0
        self._seek_to: int | None = None
        self._held: Frame | None = None
        self._anchor: tuple[float, float] | None = None
        self._clock_origin = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"capture-{source.name}", daemon=True)

    # -- consumer side -------------------------------------------------------------------------------------

    def start(self) -> CaptureThread:
        """Start reading; returns self so `CaptureThread(src).start()` reads naturally."""
        self._clock_origin = time.monotonic()
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 2.0) -> bool:
        """Ask the thread to end and wait up to `timeout`; True when it has ended (the source is closed)."""
        with self._lock:
            self._stop_requested = True
        self._wake.set()
        return self.join(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end by itself (end of a finite source); True when it has."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def latest(self, newer_than: int = -1, patience: float = 0.0) -> Frame | None:
        """The newest frame, or None when there is none newer than `newer_than`. Blocks only with `patience`,
        for at most that share of a frame interval (see `LatestFrameMailbox.latest`)."""
        return self.mailbox.latest(newer_than, patience)

    def wait_for_frame(self, newer_than: int = -1, timeout: float | None = None) -> Frame | None:
        """Block until a frame newer than `newer_than` arrives, the capture ends, or `timeout` passes."""
        return self.mailbox.wait(newer_than, timeout)

    def clock_s(self) -> float:
        """Seconds on the capture clock; `clock_s() - frame.timestamp_s` is a frame's age."""
        return time.monotonic() - self._clock_origin

    def age_s(self, frame: Frame) -> float:
        """Seconds since `frame` (delivered by this thread) was captured: the latency so far."""
        return self.clock_s() - frame.timestamp_s

    @property
    def state(self) -> CaptureState:
        return self._state

    @property
    def finished(self) -> bool:
        """True once no more frames will come (end of source, failure or stop)."""
        return self._state in _FINAL_STATES

    @property
    def is_alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        """Stop publishing frames (cameras and streams keep being drained so that resuming shows the present)."""
        with self._lock:
            self._paused = True
        self._wake.set()

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            self._anchor = None
        self._wake.set()

    def step(self, count: int = 1) -> None:
        """While paused, deliver the next `count` frames; a negative count steps back (seekable sources)."""
        with self._lock:
            if count < 0 and self.source.is_seekable:
                self._seek_to = max(0, self.position + count)
            elif count > 0:
                self._steps += count
        self._wake.set()

    def seek(self, frame_index: int) -> None:
        """Continue from source frame `frame_index`; when paused, that frame is delivered at once."""
        if not self.source.is_seekable:
            log.warning("%s cannot seek", self.source.name)
            return
        with self._lock:
            self._seek_to = max(0, int(frame_index))
        self._wake.set()

    def __enter__(self) -> CaptureThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- capture thread ------------------------------------------------------------------------------------

    def _set_state(self, state: CaptureState) -> None:
        if state == self._state:
            return
        self._state = state
        log.debug("%s: capture %s", self.source.name, state.value)
        if self.on_state_change is not None:
            try:
                self.on_state_change(state)
            except Exception:  # a listener bug must not kill capture
                log.exception("capture state listener failed")

    def _run(self) -> None:
        final = CaptureState.STOPPED
        try:
            if not self.source.is_open:
                self.source.open()
            self._set_state(CaptureState.PAUSED if self._paused else CaptureState.RUNNING)
            final = self._loop()
        except Exception as error:  # noqa: BLE001 - reported through `error`/`state`, never raised to consumers
            log.warning("%s: capture failed: %s", self.source.name, error)
            self.error = error
            final = CaptureState.FAILED
        finally:
            try:
                self.source.close()
            except Exception:  # closing must not mask the state
                log.exception("%s: closing failed", self.source.name)
            self._set_state(final)
            if self._owns_mailbox:
                self.mailbox.close()

    def _loop(self) -> CaptureState:
        while not self._stop_requested:
            with self._lock:
                seek_to, self._seek_to = self._seek_to, None
                paused = self._paused
                stepping = self._steps > 0
            if seek_to is not None:
                self._apply_seek(seek_to, deliver_now=paused)
                continue
            self._set_state(CaptureState.PAUSED if paused else CaptureState.RUNNING)
            if paused and not stepping and not self.source.drain_when_paused:
                self._wake.wait(0.1)
                self._wake.clear()
                continue
            if self._held is None:
                self._held = self._read_with_reconnect()
                if self._held is None:
                    if self._stop_requested:
                        break
                    if self.loop and self.source.is_seekable and self.position >= 0:
                        self._apply_seek(0, deliver_now=False)
                        continue
                    return CaptureState.FINISHED
            if paused and not stepping:
                self._held = None  # a buffering device while paused: drained, not shown
                continue
            if not stepping and not self._wait_until_due(self._held):
                continue  # woken by a command: re-evaluate before delivering
            self._publish(self._held)
            self._held = None
            if stepping:
                with self._lock:
                    self._steps = max(0, self._steps - 1)
        return CaptureState.STOPPED

    def _apply_seek(self, frame_index: int, *, deliver_now: bool) -> None:
        self._held = None
        self._anchor = None
        try:
            self.source.seek(frame_index)
        except Exception as error:  # noqa: BLE001 - a failed seek leaves playback where it was
            log.warning("%s: seek to %d failed: %s", self.source.name, frame_index, error)
            return
        if deliver_now:
            with self._lock:
                self._steps += 1

    def _read_with_reconnect(self) -> Frame | None:
        while not self._stop_requested:
            try:
                frame = self.source.read()
            except (SourceError, OSError) as error:
                # Device trouble is worth a reconnect; any other exception is a bug and fails the capture.
                if not (self.source.is_live and self.reconnect):
                    raise
                self.error = error
                log.warning("%s; reconnecting (%s)", error, self.source.name)
                if not self._reopen_with_backoff():
                    return None
                continue
            return frame
        return None

    def _reopen_with_backoff(self) -> bool:
        """Close and reopen the source until it works or a stop is requested; True when it is back."""
        self._set_state(CaptureState.RECONNECTING)
        backoff = self.min_backoff_s
        while not self._stop_requested:
            try:
                self.source.close()
            except Exception:  # noqa: BLE001 - the device is already gone; reopening is what matters
                log.debug("%s: close before reconnect failed", self.source.name, exc_info=True)
            if self._wake.wait(backoff):
                self._wake.clear()
            if self._stop_requested:
                return False
            try:
                self.source.open()
            except Exception as error:  # noqa: BLE001 - still gone: wait longer and retry
                self.error = error
                log.debug("%s: still unavailable (%s)", self.source.name, error)
                backoff = min(self.max_backoff_s, backoff * 2)
                continue
            self.reconnects += 1
            self.error = None
            log.info("%s: reconnected", self.source.name)
            self._set_state(CaptureState.PAUSED if self._paused else CaptureState.RUNNING)
            return True
        return False

    def _wait_until_due(self, frame: Frame) -> bool:
        """Pace a file source at its native rate; False if a command woke us before the frame was due."""
        if self.source.is_live or not self.realtime:
            return True
        now = time.monotonic()
        if self._anchor is None:
            self._anchor = (now, frame.timestamp_s)
        due = self._anchor[0] + (frame.timestamp_s - self._anchor[1])
        delay = due - now
        # Far behind (slow decoding, a stall) or a huge timestamp gap: restart the clock here instead of
        # bursting to catch up or freezing for the gap.
        longest_wait = max(2.0, 2.0 / self.source.fps) if self.source.fps else 2.0
        if delay < -0.25 or delay > longest_wait:
            self._anchor = (now, frame.timestamp_s)
            return True
        if delay <= 0:
            return True
        if self._wake.wait(delay):
            self._wake.clear()
            return False
        return True

    def _publish(self, frame: Frame) -> None:
        self.position = frame.frame_index
        self.position_s = frame.timestamp_s
        restamped = Frame(frame.image, self.frames_delivered, self.clock_s())
        self.frames_delivered += 1
        self.mailbox.put(restamped)
