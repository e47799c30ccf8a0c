"""Settings persist between runs and every bad saved value falls back to a working default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from ui_helpers import FAST, wait_for_frames

from desktop_app.core.models.base import PredictOptions
from desktop_app.core.pipeline import PaneSpec
from desktop_app.ui.settings import DEFAULT_PANES, SessionSettings, SettingsStore


def test_settings_round_trip(tmp_path: Path):
    store = SettingsStore(tmp_path / "s.ini")
    settings = SessionSettings(
        source="camera:1", source_options={"resolution_wh": (1280, 720), "fps": 30.0}, layout=4,
        panes=(PaneSpec("detect", "yolo11s", PredictOptions(conf=0.4, iou=0.5, imgsz=480, classes=(0, 2))),
               *DEFAULT_PANES[1:]),
        output_dir=tmp_path / "captures", device="cpu", loop=False, hud=False)
    store.save(settings)
    assert SettingsStore(tmp_path / "s.ini").load() == settings


def _raw_store(path: Path, **values) -> SettingsStore:
    raw = QSettings(str(path), QSettings.Format.IniFormat)
    for key, value in values.items():
        raw.setValue(f"session/{key}", value)
    raw.setValue("session/layout", values.get("layout", 2))
    raw.sync()
    return SettingsStore(path)


@pytest.mark.parametrize("values, field, expected", [
    ({"layout": 3}, "layout", 1),
    ({"layout": "many"}, "layout", 1),
    ({"panes": "{not json"}, "panes", DEFAULT_PANES),
    ({"panes": json.dumps({"a": 1})}, "panes", DEFAULT_PANES),
    ({"panes": json.dumps([{"task": "pose"}])}, "panes", DEFAULT_PANES),  # no model
    ({"panes": json.dumps([{"task": "pose", "model": "m", "conf": 7}])}, "panes", DEFAULT_PANES),
    ({"source_options": json.dumps({"resolution_wh": [-1, 5], "evil": "x"})}, "source_options", {}),
    ({"output_dir": "{tmp}/a-file/captures"}, "output_dir", SessionSettings().output_dir),
])
def test_bad_saved_values_fall_back_to_defaults(tmp_path: Path, values, field, expected):
    (tmp_path / "a-file").write_text("a file where a folder should be")
    values = {k: v.replace("{tmp}", str(tmp_path)) if isinstance(v, str) else v for k, v in values.items()}
    loaded = _raw_store(tmp_path / "s.ini", **values).load()
    assert getattr(loaded, field) == expected


def test_a_partial_pane_list_is_completed_from_the_defaults(tmp_path: Path):
    one = [PaneSpec("detect", "yolo11n.yaml").to_dict()]
    loaded = _raw_store(tmp_path / "s.ini", panes=json.dumps(one)).load()
    assert loaded.panes == (PaneSpec("detect", "yolo11n.yaml"), *DEFAULT_PANES[1:])


@pytest.mark.slow
def test_window_changes_are_remembered_by_the_next_start(qtbot, make_window, tmp_path: Path):
    path = tmp_path / "remember.ini"
    window = make_window(layout=1, settings_path=path)
    wait_for_frames(qtbot, window, 1)
    window.set_layout(2)
    window.panels[1].conf_box.setValue(0.55)
    window.set_output_dir(tmp_path / "elsewhere")
    window.close()

    saved = SettingsStore(path).load()
    assert saved.layout == 2
    assert saved.panes[1].options.conf == pytest.approx(0.55)
    assert saved.panes[1].options.imgsz == FAST.imgsz
    assert saved.output_dir == tmp_path / "elsewhere"
    geometry, _ = SettingsStore(path).geometry()
    assert geometry is not None and not geometry.isEmpty()

    again = make_window(layout=saved.layout, panes=saved.panes, settings_path=path)
    assert again.actions_.layouts[2].isChecked()
    assert again.panels[1].conf_box.value() == pytest.approx(0.55)


@pytest.mark.slow
def test_an_unavailable_saved_source_and_model_fall_back_gracefully(qtbot, make_window, tmp_path: Path):
    missing_model = PaneSpec("pose", str(tmp_path / "gone.pt"), FAST)
    window = make_window(layout=1, panes=(missing_model, *DEFAULT_PANES[1:]),
                         source=str(tmp_path / "gone.mp4"))
    qtbot.waitUntil(lambda: window.source_button.text() == "sample", timeout=20_000)
    wait_for_frames(qtbot, window, 2)
    qtbot.waitUntil(lambda: window.session.pane_info[0] is not None, timeout=90_000)
    assert window.session.pane_info[0].label.endswith("yolo11n-pose")
    assert window.panels[0].spec.model == "yolo11n-pose"
    messages = " ".join(window.status.messages())
    assert "gone.mp4" in messages and "gone.pt" in messages


@pytest.mark.slow
def test_only_a_source_that_worked_is_remembered(qtbot, make_window, tmp_path: Path):
    path = tmp_path / "remember.ini"
    window = make_window(layout=1, settings_path=path)
    wait_for_frames(qtbot, window, 1)
    from desktop_app.ui.source_menu import SourceChoice

    fake = tmp_path / "fake.mp4"
    fake.write_text("not a video")  # fails on the capture thread, after the switch was asked for
    window.open_source(SourceChoice(str(fake)))
    qtbot.waitUntil(lambda: any("fake.mp4" in m and "Cannot show" in m for m in window.status.messages()),
                    timeout=10_000)
    wait_for_frames(qtbot, window, 2)
    window.close()
    assert SettingsStore(path).load().source == "sample"
