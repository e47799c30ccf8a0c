"""Insight views in the window: their controls drive the runner, and clicks reach the pane under the mouse."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from ui_helpers import FAST, last_output, wait_for_frames, wait_for_model

from desktop_app.core.pipeline import PaneSpec
from desktop_app.core.render import letterbox_rect, pane_rects

pytestmark = pytest.mark.slow

FEATURES = PaneSpec("features", "efficientnet-lite0", FAST)
TEACH = PaneSpec("teach", "efficientnet-lite0", FAST)


def test_the_layer_picker_switches_the_feature_map_layer(qtbot, make_window):
    window = make_window(layout=1, panes=[FEATURES])
    wait_for_model(qtbot, window, 0, "features")
    controls = window.panels[0].view_controls
    assert controls is not None and controls.layer_box.count() > 5
    target_row = 1 if controls.layer_box.currentIndex() != 1 else 2
    name = controls.layer_box.itemData(target_row)
    assert "stride" in controls.layer_box.itemText(target_row) and "RF" in controls.layer_box.itemText(target_row)
    controls.layer_box.activated.emit(target_row)
    qtbot.waitUntil(lambda: last_output(window).panes[0].label.endswith(name), timeout=30_000)


def test_a_click_reaches_the_pane_under_the_mouse_in_its_own_pixels(qtbot, make_window, monkeypatch):
    window = make_window(layout=2, panes=[PaneSpec("pose", "yolo11n-pose", FAST), FEATURES])
    wait_for_model(qtbot, window, 1, "features")
    wait_for_frames(qtbot, window, 1)
    runner = window.session.pane_info[1].runner
    clicks = []
    monkeypatch.setattr(runner, "select_at", lambda x, y: clicks.append((x, y)), raising=False)

    output = last_output(window)
    composed_wh = (output.composed.shape[1], output.composed.shape[0])
    pane_h, pane_w = output.panes[1].image.shape[:2]
    shown = letterbox_rect((pane_w, pane_h), pane_rects(2, composed_wh)[1])
    composed_xy = (shown.x + shown.w / 4, shown.y + shown.h / 2)  # a quarter into the right-hand pane
    view_rect = window.frame_view.image_rect()
    widget_pos = QPointF(view_rect.x() + composed_xy[0] * view_rect.width() / composed_wh[0],
                         view_rect.y() + composed_xy[1] * view_rect.height() / composed_wh[1])
    qtbot.mouseClick(window.frame_view, Qt.MouseButton.LeftButton, pos=widget_pos.toPoint())

    assert len(clicks) == 1
    assert clicks[0] == pytest.approx((pane_w / 4, pane_h / 2), abs=pane_w / 100)


def test_teach_mode_captures_named_classes_trains_and_then_classifies_live(qtbot, make_window):
    window = make_window(layout=1, panes=[TEACH])
    wait_for_model(qtbot, window, 0, "teach")
    controls = window.panels[0].view_controls
    controls.classes_edit.setText("left, right")
    controls.classes_edit.editingFinished.emit()
    buttons = [controls.capture_row.itemAt(i).widget() for i in range(controls.capture_row.count())]
    assert [b.text() for b in buttons] == ["left", "right"]
    for button in buttons:
        for _ in range(3):
            button.click()
            wait_for_frames(qtbot, window, 1)
    runner = window.session.pane_info[0].runner
    qtbot.waitUntil(lambda: runner.counts == {"left": 3, "right": 3}, timeout=30_000)

    controls.train_button.click()
    qtbot.waitUntil(lambda: controls.teach_state.text().startswith("Trained in"), timeout=120_000)
    wait_for_frames(qtbot, window, 2)
    assert "trained head" in last_output(window).panes[0].label
