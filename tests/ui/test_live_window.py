"""The real window, offscreen, on the sample source: frames, model switching, bad models, layouts, threads."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QTimer

from desktop_app.core.models.results import Classification, Detections
from desktop_app.core.models.tasks import Task
from desktop_app.core.pipeline import PaneSpec
from desktop_app.core.render import Layout
from ui_helpers import FAST, last_output, wait_for_frames, wait_for_model

pytestmark = pytest.mark.slow


def test_starts_on_the_sample_and_shows_frames_with_a_live_overlay(qtbot, make_window):
    window = make_window(layout=1)
    wait_for_frames(qtbot, window, 3)
    assert window.frame_view.has_frame
    assert window.source_button.text() == "sample"
    wait_for_model(qtbot, window, 0, "yolo11n-pose")
    wait_for_frames(qtbot, window, 2)
    output = last_output(window)
    assert len(output.panes) == 1
    result = output.panes[0].result
    assert isinstance(result, Detections) and result.task is Task.POSE
    assert output.composed.shape[2] == 3 and output.composed.dtype == np.uint8
    # The frame on screen is painted, not merely stored.
    qtbot.waitUntil(lambda: window.frame_view.paint_count > 0)
    assert "pose" in window.panels[0].state_text


def test_switching_a_model_while_frames_flow_never_stalls_the_ui(qtbot, make_window):
    window = make_window(layout=1)
    wait_for_model(qtbot, window, 0, "yolo11n-pose")
    wait_for_frames(qtbot, window, 2)

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    labels_during_load: list[str] = []
    window.frame_shown.connect(lambda item: labels_during_load.append(item.output.panes[0].label))
    timer.start()
    window.panels[0].spec_requested.emit(0, PaneSpec("classify", "efficientnet-lite0", FAST))
    wait_for_model(qtbot, window, 0, "efficientnet-lite0")
    wait_for_frames(qtbot, window, 2)
    timer.stop()

    gaps = np.diff(ticks)
    assert len(ticks) >= 5
    # A 20 ms timer on the UI thread keeps firing while the model loads: no gap near a blocking load.
    assert gaps.max() < 0.5, f"UI thread stalled for {gaps.max():.2f} s"
    # Frames kept flowing with the old model until the swap, then the new one took over.
    assert any("yolo11n-pose" in label for label in labels_during_load)
    assert isinstance(last_output(window).panes[0].result, Classification)


def test_a_corrupt_model_file_shows_an_error_and_the_old_model_keeps_running(qtbot, make_window, tmp_path):
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"this is not a model" * 100)
    window = make_window(layout=1)
    wait_for_model(qtbot, window, 0, "yolo11n-pose")

    window.open_model_file(0, str(bad))
    qtbot.waitUntil(lambda: any("broken.pt" in m for m in window.status.messages()) and
                    "Could not load" in window.panels[0].state_text, timeout=60_000)
    assert "still running" in window.panels[0].state_text
    assert "yolo11n-pose" in window.session.pane_info[0].label
    wait_for_frames(qtbot, window, 2)
    output = last_output(window)
    assert "yolo11n-pose" in output.panes[0].label
    assert output.panes[0].error is None


@pytest.mark.parametrize("layout", [2, 4, 1])
def test_layout_changes_show_that_many_panes(qtbot, make_window, layout):
    window = make_window(layout=1)
    wait_for_frames(qtbot, window, 1)
    frame_h, frame_w = last_output(window).panes[0].image.shape[:2]
    window.set_layout(layout)
    qtbot.waitUntil(lambda: len(last_output(window).panes) == layout, timeout=30_000)
    composed = last_output(window).composed
    columns, rows = Layout(layout).grid
    # Each cell of the composed view holds a whole pane at the frame's aspect ratio.
    cell_w, cell_h = composed.shape[1] / columns, composed.shape[0] / rows
    assert cell_w / cell_h == pytest.approx(frame_w / frame_h, rel=0.02)
    assert [p.isVisible() for p in window.panels] == [i < layout for i in range(4)]
    assert window.actions_.layouts[layout].isChecked()


def test_keyboard_shortcuts_switch_layouts_and_menus_show_them(qtbot, make_window):
    from PySide6.QtCore import Qt

    window = make_window(layout=1)
    with qtbot.waitActive(window):
        window.activateWindow()
    qtbot.keyClick(window.frame_view, Qt.Key.Key_4)
    qtbot.waitUntil(lambda: window.session.layout == 4)
    # Typing in a text field types: single-key shortcuts do not steal the keys.
    edit = window.panels[0].classes_edit
    edit.setFocus()
    qtbot.keyClicks(edit, "2 R S")
    assert edit.text() == "2 R S" and window.session.layout == 4
    assert not window.session.recording.active
    shortcuts = {a.text().replace("&", ""): a.shortcut().toString() for a in window.actions()}
    assert shortcuts["Record"] == "R"
    assert shortcuts["Snapshot"] == "S"
    assert shortcuts["Full screen"] == "F11"
    assert shortcuts["Leave full screen"] == "Esc"
    assert shortcuts["4 panes"] == "4"
    assert shortcuts["Open file…"] == "Ctrl+O"
    assert shortcuts["Pause"] == "Space"


def test_no_thread_is_left_running_after_close(qtbot, make_window):
    before = set(threading.enumerate())
    window = make_window(layout=2)
    wait_for_model(qtbot, window, 0, "yolo11n-pose")
    wait_for_frames(qtbot, window, 2)
    window.start_recording()
    wait_for_frames(qtbot, window, 2)
    assert len(set(threading.enumerate()) - before) >= 3  # capture, inference, loader (and the encoder)
    window.close()
    leftover = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
    assert leftover == []
    recordings = list((window.settings.output_dir).glob("*.mp4"))
    assert len(recordings) == 1 and recordings[0].stat().st_size > 0


def test_choosing_a_device_this_machine_lacks_keeps_the_models_running_and_says_why(qtbot, make_window):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    window = make_window(layout=1)
    wait_for_model(qtbot, window, 0, "yolo11n-pose")
    window.actions_.devices["cuda"].trigger()
    qtbot.waitUntil(lambda: "Could not load" in window.panels[0].state_text, timeout=60_000)
    assert "CUDA" in window.panels[0].state_text and "still running" in window.panels[0].state_text
    assert window.settings.device == "cuda"
    wait_for_frames(qtbot, window, 2)
    assert last_output(window).panes[0].error is None
    window.actions_.devices["cpu"].trigger()
    qtbot.waitUntil(lambda: window.panels[0].state_text.startswith("Running"), timeout=60_000)


def test_h_hides_and_shows_the_hud_and_the_choice_is_kept(qtbot, make_window, monkeypatch, tmp_path):
    from PySide6.QtCore import Qt

    from desktop_app.core import pipeline as pipeline_module
    from desktop_app.ui.settings import SettingsStore

    drawn = []
    real_draw_hud = pipeline_module.draw_hud
    monkeypatch.setattr(pipeline_module, "draw_hud", lambda *a, **k: drawn.append(1) or real_draw_hud(*a, **k))
    window = make_window(layout=1)
    with qtbot.waitActive(window):
        window.activateWindow()
    wait_for_frames(qtbot, window, 3)
    assert drawn and window.actions_.hud.isChecked()
    qtbot.keyClick(window.frame_view, Qt.Key.Key_H)
    assert window.session.pipeline.hud is False and not window.actions_.hud.isChecked()
    wait_for_frames(qtbot, window, 2)  # a frame already in flight may still carry it
    hidden_from = len(drawn)
    wait_for_frames(qtbot, window, 3)
    assert len(drawn) == hidden_from
    assert SettingsStore(tmp_path / "settings.ini").load().hud is False
    qtbot.keyClick(window.frame_view, Qt.Key.Key_H)
    wait_for_frames(qtbot, window, 3)
    assert len(drawn) > hidden_from and window.session.pipeline.hud is True


def test_a_pane_switched_to_openvino_runs_the_export_and_says_so(qtbot, make_window):
    window = make_window(layout=1)
    wait_for_model(qtbot, window, 0, "yolo11n-pose")
    panel = window.panels[0]
    panel.runtime_box.setCurrentIndex(panel.runtime_box.findData("openvino"))
    panel.runtime_box.activated.emit(panel.runtime_box.currentIndex())  # what a user's pick emits
    qtbot.waitUntil(lambda: window.session.pane_info[0] is not None
                    and window.session.pane_info[0].backend == "openvino", timeout=120_000)
    wait_for_frames(qtbot, window, 2)
    output = last_output(window).panes[0]
    assert "openvino" in output.label and isinstance(output.result, Detections) and output.error is None
    assert window.settings.panes[0].model == "yolo11n-pose@openvino"  # kept for the next start
