"""Recording the composed view to H.264 and saving PNG snapshots from the real window."""

from __future__ import annotations

import av
import cv2
import pytest
from ui_helpers import last_output, wait_for_frames, wait_for_model

pytestmark = pytest.mark.slow


def test_recording_two_seconds_gives_a_playable_h264_file_of_that_length(qtbot, make_window, tmp_path):
    window = make_window(layout=2)
    wait_for_model(qtbot, window, 0, "yolo11n-pose")
    wait_for_model(qtbot, window, 1, "efficientnet-lite0")
    wait_for_frames(qtbot, window, 2)

    target = tmp_path / "clip.mp4"
    assert window.start_recording(target) == target
    assert window.actions_.record.isChecked()
    assert "background" in window.record_button.styleSheet()  # red while recording
    qtbot.wait(2000)
    assert window.status.recording_text.startswith("● REC 00:0")
    with qtbot.waitSignal(window.session.recording.status, timeout=30_000,
                          check_params_cb=lambda status: status.finished):
        window.stop_recording()
    assert not window.actions_.record.isChecked()
    assert any("Recording saved" in m for m in window.status.messages())

    with av.open(str(target)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = list(container.decode(stream))
    height, width = last_output(window).composed.shape[:2]
    assert (frames[0].width, frames[0].height) == (width, height)
    duration_s = float(frames[-1].pts * stream.time_base) + 1 / 30
    # Capture timestamps time the file: about the two seconds that were recorded, whatever the FPS.
    assert 1.4 <= duration_s <= 2.8, duration_s
    assert len(frames) >= 3


def test_snapshot_writes_a_png_of_the_view_into_the_output_folder(qtbot, make_window):
    window = make_window(layout=1)
    wait_for_frames(qtbot, window, 2)
    with qtbot.waitSignal(window.snapshots.saved, timeout=10_000) as saved:
        path = window.snapshot()
    assert saved.args[0] == path
    assert path.parent == window.settings.output_dir and path.suffix == ".png"
    image = cv2.imread(str(path))
    assert image is not None and image.shape == window.frame_view.current_image.shape
    # A second snapshot in the same second never overwrites the first.
    with qtbot.waitSignal(window.snapshots.saved, timeout=10_000):
        second = window.snapshot()
    assert second != path and path.exists() and second.exists()


def test_recording_into_an_unwritable_folder_says_why_and_keeps_the_view_live(qtbot, make_window, tmp_path):
    window = make_window(layout=1)
    wait_for_frames(qtbot, window, 1)
    window.set_output_dir(tmp_path / "missing" / "deeper" / "file.txt" / "nope")
    (tmp_path / "missing").mkdir()
    (tmp_path / "missing" / "deeper").write_text("a file where a folder should be")
    assert window.start_recording() is None
    assert not window.actions_.record.isChecked()
    assert "Cannot record" in window.status.current_text
    wait_for_frames(qtbot, window, 2)


def test_closing_the_window_while_recording_finalises_the_file(qtbot, make_window, tmp_path):
    window = make_window(layout=1)
    wait_for_frames(qtbot, window, 2)
    target = tmp_path / "closed.mp4"
    assert window.start_recording(target) == target
    qtbot.wait(1500)
    window.close()
    with av.open(str(target)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
    assert stream.codec_context.name == "h264"
    assert len(frames) >= 3  # everything recorded up to the close is in a playable file
