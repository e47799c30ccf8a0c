"""The one-slot mailbox and the capture thread: newest frame only, pacing, pause/step/seek/loop, reconnect."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from desktop_app.core.errors import SourceError
from desktop_app.core.frames import Frame
from desktop_app.core.sources import CameraSource, CaptureState, CaptureThread, LatestFrameMailbox, SampleSource
from desktop_app.core.sources.base import FrameSource

SMALL = (64, 36)


def _frame(index: int) -> Frame:
    return Frame(np.zeros((2, 2, 3), np.uint8), index, index / 30)


def _wait_until(predicate, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


class FlakyLiveSource(FrameSource):
    """A live source that fails after `fail_after` frames, refuses `refusals` reopen attempts, then works."""

    is_live = True

    def __init__(self, fail_after: int = 5, refusals: int = 2) -> None:
        super().__init__("flaky camera")
        self.fail_after = fail_after
        self.refusals = refusals
        self.opens = 0
        self.reads = 0

    def _open(self) -> None:
        self.opens += 1
        if self.opens > 1 and self.refusals > 0:
            self.refusals -= 1
            raise SourceError("flaky camera is unplugged")

    def _read(self) -> Frame | None:
        time.sleep(0.005)
        self.reads += 1
        if self.reads == self.fail_after:
            raise SourceError("flaky camera stopped delivering frames")
        return _frame(self.reads)

    def _close(self) -> None:
        pass


# -- mailbox -------------------------------------------------------------------------------------------------


def test_mailbox_keeps_only_the_newest_frame():
    mailbox = LatestFrameMailbox()
    assert mailbox.latest() is None
    for index in range(5):
        mailbox.put(_frame(index))
    assert mailbox.latest().frame_index == 4
    assert mailbox.latest(newer_than=3).frame_index == 4
    assert mailbox.latest(newer_than=4) is None


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _paced_mailbox(interval_s: float = 0.1) -> tuple[LatestFrameMailbox, _Clock]:
    clock = _Clock()
    mailbox = LatestFrameMailbox(clock=clock)
    mailbox.put(_frame(0))
    clock.now = interval_s
    mailbox.put(_frame(1))
    return mailbox, clock


def test_patience_waits_for_a_frame_that_is_about_to_arrive():
    mailbox, clock = _paced_mailbox()
    assert mailbox.interval_s == pytest.approx(0.1)
    clock.now = 0.19  # the next frame is due in 10 ms, within a quarter of an interval
    threading.Timer(0.005, mailbox.put, args=(_frame(2),)).start()
    assert mailbox.latest(newer_than=0, patience=0.25).frame_index == 2


def test_patience_takes_the_held_frame_when_the_next_is_not_close():
    mailbox, clock = _paced_mailbox()
    clock.now = 0.15  # the next frame is 50 ms away: waiting for it would cost throughput
    started = time.perf_counter()
    assert mailbox.latest(newer_than=0, patience=0.25).frame_index == 1
    clock.now = 0.19
    assert mailbox.latest(newer_than=0).frame_index == 1  # no patience: never waits
    assert time.perf_counter() - started < 0.005


def test_patience_gives_up_when_the_next_frame_does_not_come():
    mailbox, clock = _paced_mailbox()
    clock.now = 0.19  # due in 10 ms, but the source has been paused: at most ~16 ms of waiting
    started = time.perf_counter()
    assert mailbox.latest(newer_than=0, patience=0.25).frame_index == 1
    assert time.perf_counter() - started < 0.1


def test_a_long_gap_does_not_count_as_the_frame_interval():
    mailbox, clock = _paced_mailbox()
    clock.now = 5.0  # resumed after a pause
    mailbox.put(_frame(2))
    assert mailbox.interval_s == pytest.approx(0.1)


def test_mailbox_wait_wakes_on_put_and_on_close():
    mailbox = LatestFrameMailbox()
    assert mailbox.wait(timeout=0.05) is None
    threading.Timer(0.05, mailbox.put, args=(_frame(7),)).start()
    assert mailbox.wait(newer_than=6, timeout=5).frame_index == 7
    threading.Timer(0.05, mailbox.close).start()
    started = time.monotonic()
    assert mailbox.wait(newer_than=7, timeout=5) is None
    assert time.monotonic() - started < 2


def test_mailbox_listeners_hear_every_put_with_the_frame_already_held():
    mailbox = LatestFrameMailbox()
    heard = []

    def listener():
        heard.append(mailbox.latest().frame_index)  # called outside the lock: reading here must not deadlock

    mailbox.add_listener(listener)
    mailbox.put(_frame(1))
    mailbox.put(_frame(2))
    mailbox.remove_listener(listener)
    mailbox.remove_listener(listener)  # twice is harmless
    mailbox.put(_frame(3))
    assert heard == [1, 2]


# -- capture thread ------------------------------------------------------------------------------------------


def test_capture_delivers_newest_frames_and_stops_cleanly():
    source = SampleSource(resolution_wh=SMALL)
    capture = CaptureThread(source).start()
    first = capture.wait_for_frame(timeout=5)
    second = capture.wait_for_frame(newer_than=first.frame_index, timeout=5)
    assert second.frame_index > first.frame_index
    assert second.timestamp_s > first.timestamp_s
    assert 0 <= capture.age_s(second) < 1.0
    assert capture.state is CaptureState.RUNNING
    started = time.monotonic()
    assert capture.stop(timeout=2)
    assert time.monotonic() - started < 1.0
    assert capture.state is CaptureState.STOPPED and capture.finished
    assert not source.is_open


def test_file_source_plays_at_native_rate_when_realtime():
    capture = CaptureThread(SampleSource(duration_s=0.5, resolution_wh=SMALL), realtime=True).start()
    started = time.monotonic()
    assert capture.join(timeout=5)
    elapsed = time.monotonic() - started
    assert capture.state is CaptureState.FINISHED and capture.finished
    assert capture.frames_delivered == 15 and capture.position == 14
    assert 0.4 <= elapsed < 2.0, f"15 frames at 30 fps took {elapsed:.2f} s"


def test_file_source_runs_flat_out_without_realtime():
    capture = CaptureThread(SampleSource(duration_s=2.0, resolution_wh=SMALL), realtime=False).start()
    started = time.monotonic()
    assert capture.join(timeout=10)
    assert time.monotonic() - started < 1.5
    assert capture.frames_delivered == 60


def test_loop_replays_with_strictly_increasing_indices():
    capture = CaptureThread(SampleSource(duration_s=0.1, resolution_wh=SMALL), realtime=False, loop=True).start()
    try:
        seen: list[tuple[int, int]] = []
        last = -1
        while len(seen) < 12:
            frame = capture.wait_for_frame(newer_than=last, timeout=5)
            assert frame is not None
            last = frame.frame_index
            seen.append((frame.frame_index, capture.position))
        indices = [index for index, _ in seen]
        assert indices == sorted(set(indices))
        assert capture.frames_delivered > 3  # more deliveries than the 3-frame source holds
        assert not capture.finished
    finally:
        capture.stop()


def test_pause_step_seek_and_resume_a_file():
    capture = CaptureThread(SampleSource(duration_s=10.0, resolution_wh=SMALL), realtime=True).start()
    try:
        capture.wait_for_frame(timeout=5)
        capture.pause()
        _wait_until(lambda: capture.state is CaptureState.PAUSED)
        held = capture.frames_delivered
        time.sleep(0.2)
        assert capture.frames_delivered == held, "a paused file must not advance"
        position = capture.position
        capture.step()
        _wait_until(lambda: capture.frames_delivered == held + 1)
        assert capture.position == position + 1
        capture.seek(150)
        _wait_until(lambda: capture.position == 150)
        assert capture.latest().frame_index == held + 1  # the sought frame is shown while paused
        capture.step(-1)
        _wait_until(lambda: capture.position == 149)
        capture.resume()
        _wait_until(lambda: capture.position > 152)
        assert capture.state is CaptureState.RUNNING
    finally:
        capture.stop()


def test_live_source_that_fails_mid_stream_is_reconnected():
    states: list[CaptureState] = []
    source = FlakyLiveSource(fail_after=5, refusals=2)
    capture = CaptureThread(source, min_backoff_s=0.02, max_backoff_s=0.05, on_state_change=states.append).start()
    try:
        _wait_until(lambda: capture.reconnects == 1)
        last = capture.latest().frame_index
        resumed = capture.wait_for_frame(newer_than=last, timeout=5)
        assert resumed is not None and resumed.frame_index > last
        assert capture.state is CaptureState.RUNNING and capture.error is None
        assert source.opens == 4  # first open, two refused reopen attempts, then back
    finally:
        capture.stop()
    assert states == [CaptureState.RUNNING, CaptureState.RECONNECTING, CaptureState.RUNNING, CaptureState.STOPPED]


def test_stop_interrupts_a_long_reconnect_back_off():
    source = FlakyLiveSource(fail_after=2, refusals=1_000)
    capture = CaptureThread(source, min_backoff_s=5.0, max_backoff_s=5.0).start()
    _wait_until(lambda: capture.state is CaptureState.RECONNECTING)
    assert "stopped delivering" in str(capture.error)
    started = time.monotonic()
    assert capture.stop(timeout=2)
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("make_source", [lambda tmp: CameraSource(41), lambda tmp: _broken_folder(tmp)])
def test_failures_land_in_state_and_error_never_in_the_consumer(tmp_path, make_source):
    capture = CaptureThread(make_source(tmp_path)).start()
    assert capture.join(timeout=5)
    assert capture.state is CaptureState.FAILED and capture.finished
    assert isinstance(capture.error, SourceError)
    assert capture.latest() is None
    assert capture.wait_for_frame(timeout=1) is None


def _broken_folder(tmp_path):
    from desktop_app.core.sources import FolderSource

    (tmp_path / "x.png").write_text("not a png")
    return FolderSource(tmp_path)


@pytest.mark.parametrize("drains", [True, False])
def test_paused_live_source_shows_nothing_new_and_drains_only_buffering_devices(drains):
    source = FlakyLiveSource(fail_after=10_000)
    source.drain_when_paused = drains
    capture = CaptureThread(source).start()
    try:
        capture.wait_for_frame(timeout=5)
        capture.pause()
        _wait_until(lambda: capture.state is CaptureState.PAUSED)
        delivered, reads = capture.frames_delivered, source.reads
        time.sleep(0.15)
        assert capture.frames_delivered == delivered
        assert (source.reads > reads + 5) is drains
        capture.resume()
        assert capture.wait_for_frame(newer_than=capture.latest().frame_index, timeout=5) is not None
    finally:
        capture.stop()
