"""The recorder: H.264 MP4 timed by capture timestamps, non-blocking, and playable after a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

from desktop_app.core.errors import RecordingError
from desktop_app.core.recorder import Recorder


def _frame(index: int, size_wh: tuple[int, int] = (64, 48)) -> np.ndarray:
    rng = np.random.default_rng(index)
    return rng.integers(0, 256, (size_wh[1], size_wh[0], 3), dtype=np.uint8)


def _decode(path: Path) -> tuple[av.VideoStream, list[av.VideoFrame], float | None]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        duration = container.duration / 1_000_000 if container.duration else None
        return stream, frames, duration


def test_sixty_frames_at_30_fps_make_a_two_second_h264_file(tmp_path):
    path = tmp_path / "clip.mp4"
    with Recorder(path, fps_hint=30, drop_when_busy=False) as recorder:
        for index in range(60):
            assert recorder.write(_frame(index), 100.0 + index / 30)  # any clock: the first frame becomes 0
    assert recorder.frames_written == 60 and recorder.frames_skipped == 0
    stream, frames, duration = _decode(path)
    assert stream.codec_context.name == "h264"
    assert stream.codec_context.pix_fmt == "yuv420p"
    assert len(frames) == 60
    assert frames[0].time == pytest.approx(0.0)
    assert frames[-1].time == pytest.approx(59 / 30, abs=1e-3)
    assert duration == pytest.approx(2.0, abs=0.05)


def test_colours_survive_the_recording(tmp_path):
    # Flat patches of saturated and grey colours: what a player shows must be what was drawn (same BT.601
    # limited-range conversion as FFmpeg's own, so red stays red and grey stays grey).
    colours = [(0, 0, 255), (0, 255, 0), (255, 0, 0), (0, 255, 255), (128, 128, 128), (255, 255, 255), (20, 20, 20)]
    image = np.zeros((64, 64 * len(colours), 3), np.uint8)
    for i, bgr in enumerate(colours):
        image[:, 64 * i:64 * (i + 1)] = bgr
    path = tmp_path / "colours.mp4"
    with Recorder(path, fps_hint=30, drop_when_busy=False) as recorder:
        for index in range(5):
            recorder.write(image, index / 30)
    _, frames, _ = _decode(path)
    decoded = frames[-1].to_ndarray(format="bgr24").astype(int)
    for i, bgr in enumerate(colours):
        patch = decoded[16:48, 64 * i + 16:64 * i + 48].reshape(-1, 3).mean(axis=0)
        assert np.abs(patch - np.array(bgr)).max() < 6, (bgr, patch)


def test_timestamps_not_the_write_rate_set_the_speed(tmp_path):
    # Processing managed only 10 frames in 3 s of capture time: the file must last 3 s, not 1/3 s.
    path = tmp_path / "slow.mp4"
    with Recorder(path, fps_hint=30, drop_when_busy=False) as recorder:
        for index in range(10):
            recorder.write(_frame(index), index * 0.3)
    _, frames, _ = _decode(path)
    assert [round(f.time, 3) for f in frames] == pytest.approx([i * 0.3 for i in range(10)], abs=1e-3)


def test_repeated_or_backward_timestamps_are_dropped_and_a_clock_restart_continues(tmp_path):
    path = tmp_path / "jumps.mp4"
    stamps = [0.0, 0.1, 0.1, 0.05, 0.2, 5.0, 0.0, 0.1]  # repeat, slight step back, then a new source at 0
    with Recorder(path, fps_hint=10, drop_when_busy=False) as recorder:
        for index, stamp in enumerate(stamps):
            recorder.write(_frame(index), stamp)
    assert recorder.frames_out_of_order == 2
    _, frames, _ = _decode(path)
    times = [f.time for f in frames]
    assert len(frames) == 6
    assert times == sorted(times) and len(set(times)) == len(times)
    assert times[-2:] == pytest.approx([5.1, 5.2], abs=1e-3)


def test_odd_sizes_are_padded_and_size_changes_are_letterboxed(tmp_path):
    path = tmp_path / "odd.mp4"
    with Recorder(path, drop_when_busy=False) as recorder:
        recorder.write(np.full((49, 65, 3), 200, np.uint8), 0.0)
        recorder.write(np.full((20, 120, 3), 200, np.uint8), 0.1)  # the layout changed mid-recording
    stream, frames, _ = _decode(path)
    assert (stream.codec_context.width, stream.codec_context.height) == (66, 50)
    assert len(frames) == 2
    letterboxed = frames[1].to_ndarray(format="bgr24")
    assert letterboxed[2, 30].mean() < 40, "bars above a wide frame are black"
    assert letterboxed[25, 30].mean() > 150


def test_write_never_blocks_when_the_encoder_is_slow(tmp_path):
    class SlowRecorder(Recorder):
        def _encode_frame(self, image, timestamp_s):
            time.sleep(0.05)
            super()._encode_frame(image, timestamp_s)

    recorder = SlowRecorder(tmp_path / "slow.mp4", queue_size=4)
    slowest = 0.0
    for index in range(40):
        started = time.perf_counter()
        recorder.write(_frame(index), index / 30)
        slowest = max(slowest, time.perf_counter() - started)
    summary = recorder.close()
    assert slowest < 0.03, f"write blocked for {slowest * 1000:.0f} ms"
    assert summary.frames_skipped > 20
    assert summary.frames_written + summary.frames_skipped == 40
    assert len(_decode(tmp_path / "slow.mp4")[1]) == summary.frames_written


def test_headless_mode_waits_and_keeps_every_frame(tmp_path):
    class SlowRecorder(Recorder):
        def _encode_frame(self, image, timestamp_s):
            time.sleep(0.01)
            super()._encode_frame(image, timestamp_s)

    with SlowRecorder(tmp_path / "all.mp4", queue_size=2, drop_when_busy=False) as recorder:
        for index in range(30):
            assert recorder.write(_frame(index), index / 30)
    assert recorder.frames_written == 30 and recorder.frames_skipped == 0


@pytest.mark.parametrize(
    ("make_path", "reason"),
    [
        (lambda tmp: tmp / "no-such-folder" / "out.mp4", "does not exist"),
        (lambda tmp: _file(tmp / "plain.txt") / "out.mp4", "not a folder"),
        (lambda tmp: tmp, "it is a folder"),
    ],
)
def test_unwritable_target_fails_at_start(tmp_path, make_path, reason):
    with pytest.raises(RecordingError, match=reason):
        Recorder(make_path(tmp_path))


def test_recording_without_frames_leaves_no_file(tmp_path):
    path = tmp_path / "nothing.mp4"
    summary = Recorder(path).close()
    assert summary.frames_written == 0 and summary.error is None
    assert not path.exists()


def test_close_is_idempotent_and_late_writes_are_refused(tmp_path):
    recorder = Recorder(tmp_path / "x.mp4", drop_when_busy=False)
    recorder.write(_frame(0), 0.0)
    first = recorder.close()
    assert recorder.close() == first
    assert not recorder.write(_frame(1), 0.1)
    assert first.frames_written == 1 and first.duration_s == 0.0


def test_write_rejects_images_that_are_not_bgr_uint8(tmp_path):
    with Recorder(tmp_path / "x.mp4") as recorder, pytest.raises(ValueError, match="BGR"):
        recorder.write(np.zeros((4, 4), np.uint8), 0.0)


_CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from desktop_app.core.recorder import Recorder
    recorder = Recorder(sys.argv[1], fps_hint=30, keyframe_interval_s={keyframe_s}, drop_when_busy=False)
    index = 0
    while True:
        image = np.random.default_rng(index).integers(0, 256, (96, 128, 3), dtype=np.uint8)
        ok = recorder.write(image, index / 30)
        index += 1
        if not ok and recorder.error is not None:
            print("ERROR", recorder.error, flush=True)
            time.sleep(60)
        print("WRITTEN", recorder.frames_written, flush=True)
        time.sleep(0.002)
    """
)


def _run_child(path: Path, *, preexec=None, keyframe_s: float = 0.5) -> subprocess.Popen:
    code = _CHILD.format(keyframe_s=keyframe_s)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    return subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True, env=env,
                            preexec_fn=preexec)


def _read_until(child: subprocess.Popen, accept, timeout_s: float = 60.0) -> str:
    deadline = time.monotonic() + timeout_s
    for line in child.stdout:
        if accept(line):
            return line
        assert time.monotonic() < deadline, "child recorder made no progress"
    raise AssertionError(f"child recorder exited early with {child.wait()}")


@pytest.mark.slow
def test_sigkilled_recording_still_decodes(tmp_path):
    path = tmp_path / "killed.mp4"
    child = _run_child(path)
    try:
        _read_until(child, lambda line: line.startswith("WRITTEN") and int(line.split()[1]) >= 60)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    stream, frames, _ = _decode(path)
    assert stream.codec_context.name == "h264"
    assert len(frames) >= 30, "fragments up to the last keyframe before the kill must be playable"
    assert [round(f.time * 30) for f in frames] == list(range(len(frames)))


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="file size limits are a POSIX feature")
def test_disk_full_stops_the_recording_with_a_message_and_keeps_what_was_written(tmp_path):
    import resource

    def limit_file_size():
        # The child sees a "full disk" once the file reaches 150 kB (EFBIG instead of a SIGXFSZ kill).
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, 150_000))

    path = tmp_path / "full.mp4"
    child = _run_child(path, preexec=limit_file_size)
    try:
        line = _read_until(child, lambda line: line.startswith("ERROR"))
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert "stopped" in line and "full.mp4" in line
    assert path.stat().st_size <= 150_000
    _, frames, _ = _decode(path)
    assert len(frames) >= 5


def _file(path: Path) -> Path:
    path.write_text("x")
    return path


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priorities are a Linux feature")
def test_the_encoder_thread_yields_to_the_live_path(tmp_path):
    seen = {}
    recorder = Recorder(tmp_path / "nice.mp4", fps_hint=30.0)
    tid = recorder._thread.native_id
    for _ in range(100):
        seen["encoder"] = os.getpriority(os.PRIO_PROCESS, tid)
        if seen["encoder"] > 0:
            break
        time.sleep(0.01)
    recorder.write(np.zeros((64, 64, 3), np.uint8), 0.0)
    recorder.close()
    assert seen["encoder"] == os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) + 5


def test_a_handed_over_frame_is_recorded_without_a_copy(tmp_path, monkeypatch):
    taken = []
    recorder = Recorder(tmp_path / "handover.mp4", fps_hint=30.0, drop_when_busy=False)
    monkeypatch.setattr(recorder._queue, "put", lambda item, timeout=None: taken.append(item))
    image = np.full((64, 64, 3), 7, np.uint8)
    recorder.write(image, 0.0, handover=True)
    recorder.write(image, 1 / 30)
    monkeypatch.undo()
    recorder.close()
    assert taken[0][0] is image  # handed over: the array itself
    assert taken[1][0] is not image and np.array_equal(taken[1][0], image)  # otherwise a copy
