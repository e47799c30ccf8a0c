"""Faults seen from the window: a camera that drops out and comes back, a disk that fills while recording,
and no network traffic while the whole app runs."""

from __future__ import annotations

import errno
import av
import pytest
from ui_helpers import FlakyCamera, wait_for_frames, wait_for_model

from desktop_app.core.recorder import Recorder
from tests.network_guard import NetworkGuard

pytestmark = pytest.mark.slow


def test_a_camera_that_drops_out_shows_reconnecting_and_resumes_by_itself(qtbot, make_window, monkeypatch):
    camera = FlakyCamera()
    monkeypatch.setattr("desktop_app.ui.source_control.create_source", lambda spec, **options: camera)
    window = make_window(layout=1, source="camera:0")
    wait_for_frames(qtbot, window, 3)

    camera.gone.set()
    qtbot.waitUntil(lambda: window.frame_view.notice is not None and "reconnecting" in window.frame_view.notice,
                    timeout=10_000)
    assert any("reconnecting" in m for m in window.status.messages())
    # The window stays responsive while the camera is away: a layout change still goes through.
    window.set_layout(2)
    assert window.session.layout == 2

    camera.gone.clear()
    qtbot.waitUntil(lambda: window.frame_view.notice is None, timeout=15_000)
    wait_for_frames(qtbot, window, 3)
    assert any("is back" in m for m in window.status.messages())


def test_a_full_disk_stops_the_recording_with_a_message_and_keeps_what_was_written(
        qtbot, make_window, tmp_path, monkeypatch):
    real_encode = Recorder._encode_frame
    calls = {"n": 0}

    def encode_until_full(self, image, timestamp_s):
        calls["n"] += 1
        if calls["n"] > 45:  # past the first keyframe fragment (one per second)
            raise OSError(errno.ENOSPC, "No space left on device")
        real_encode(self, image, timestamp_s)

    monkeypatch.setattr(Recorder, "_encode_frame", encode_until_full)
    window = make_window(layout=1, panes=[])
    wait_for_frames(qtbot, window, 2)
    target = tmp_path / "full.mp4"
    window.start_recording(target)
    qtbot.waitUntil(lambda: any("Recording stopped" in m for m in window.status.messages()), timeout=30_000)
    assert "No space left on device" in window.status.current_text
    assert not window.actions_.record.isChecked()
    wait_for_frames(qtbot, window, 3)  # the live view carries on
    with av.open(str(target)) as container:
        assert len(list(container.decode(video=0))) >= 1


def test_the_whole_app_sends_nothing_over_the_network(qtbot, make_window, monkeypatch):
    monkeypatch.delenv("CNNLENS_OFFLINE", raising=False)  # the app's own behaviour, not the test switch
    guard = NetworkGuard(monkeypatch)
    window = make_window(layout=4)
    for index, model in enumerate(("yolo11n-pose", "efficientnet-lite0", "yolo11n.yaml", "yolo11n-seg.yaml")):
        wait_for_model(qtbot, window, index, model)
    window.start_recording()
    wait_for_frames(qtbot, window, 4)
    window.snapshot()
    window.close()
    assert guard.leaks() == []
