"""Per-pane controls: model lists with availability, live options, class filter parsing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop_app.core.models.base import PredictOptions
from desktop_app.core.pipeline import PaneSpec
from desktop_app.ui.choices import ModelChoice, ModelChoices
from desktop_app.ui.pane_panel import PanePanel, format_class_filter, parse_class_filter

NAMES = {0: "person", 1: "bicycle", 2: "car", 16: "dog"}


@pytest.mark.parametrize("text, expected", [
    ("", None),
    ("  ", None),
    ("person", (0,)),
    ("Person, car", (0, 2)),
    ("0, 2", (0, 2)),
    ("dog, 0, dog", (16, 0)),
    ("car,", (2,)),
])
def test_class_filter_accepts_names_and_ids(text, expected):
    assert parse_class_filter(text, NAMES) == expected


@pytest.mark.parametrize("text, message", [
    ("unicorn", "unknown class 'unicorn'"),
    ("99", "class id 99 is not one of this model's 4 classes"),
])
def test_class_filter_rejects_what_the_model_does_not_know(text, message):
    with pytest.raises(ValueError, match=message):
        parse_class_filter(text, NAMES)


def test_class_filter_round_trips_through_its_text_form():
    assert format_class_filter((0, 16), NAMES) == "person, dog"
    assert parse_class_filter(format_class_filter((0, 16), NAMES), NAMES) == (0, 16)
    assert format_class_filter((5,), {}) == "5"


def _choices(kind):
    return [ModelChoice("good", "good", True, "", False),
            ModelChoice("raw.yaml", "raw.yaml (untrained)", True, "", True),
            ModelChoice("absent", "absent · not on this machine", False, "copy absent.pt into models/", False)]


@pytest.fixture
def panel(qtbot):
    widget = PanePanel(0, {"detect": "boxes", "pose": "keypoints", "features": "maps"}, _choices)
    qtbot.addWidget(widget)
    widget.set_spec(PaneSpec("detect", "good", PredictOptions(conf=0.3, imgsz=320)))
    return widget


def test_unavailable_models_are_listed_disabled_with_the_reason(panel):
    model = panel.model_box.model()
    rows = {model.item(r).text(): model.item(r) for r in range(model.rowCount())}
    assert rows["absent · not on this machine"].isEnabled() is False
    assert rows["absent · not on this machine"].toolTip() == "copy absent.pt into models/"
    assert rows["raw.yaml (untrained)"].isEnabled()
    assert panel.model_box.currentData(Qt.ItemDataRole.UserRole) == "good"


def test_set_spec_emits_nothing_but_user_edits_do(qtbot, panel):
    with qtbot.assertNotEmitted(panel.options_changed), qtbot.assertNotEmitted(panel.spec_requested):
        panel.set_spec(PaneSpec("detect", "good", PredictOptions(conf=0.5)))
    with qtbot.waitSignal(panel.options_changed) as blocker:
        panel.conf_box.setValue(0.65)
    assert blocker.args[1].conf == pytest.approx(0.65)
    with qtbot.waitSignal(panel.spec_requested) as blocker:
        panel.model_box.activated.emit(1)
    assert blocker.args[1].model == "raw.yaml"


def test_a_bad_class_filter_is_flagged_and_not_applied(qtbot, panel):
    panel.set_class_names(NAMES)
    panel.classes_edit.setText("unicorn")
    with qtbot.assertNotEmitted(panel.options_changed):
        panel.classes_edit.editingFinished.emit()
    assert "unknown class" in panel.state_text
    panel.classes_edit.setText("person, car")
    with qtbot.waitSignal(panel.options_changed) as blocker:
        panel.classes_edit.editingFinished.emit()
    assert blocker.args[1].classes == (0, 2)


def test_changing_task_picks_the_first_available_model_of_that_task(qtbot, panel):
    with qtbot.waitSignal(panel.spec_requested) as blocker:
        panel.task_box.setCurrentIndex(panel.task_box.findData("pose"))
    assert blocker.args[1].task == "pose" and blocker.args[1].model == "good"


def test_the_runtime_is_chosen_per_pane_and_kept_across_model_changes(qtbot, panel):
    assert panel.runtime_box.currentData() == "torch" and panel.runtime_box.isEnabled()
    with qtbot.waitSignal(panel.spec_requested) as blocker:
        panel.runtime_box.setCurrentIndex(panel.runtime_box.findData("openvino-int8"))
        panel.runtime_box.activated.emit(panel.runtime_box.currentIndex())
    assert blocker.args[1].model == "good@openvino-int8"
    with qtbot.waitSignal(panel.spec_requested) as blocker:
        panel.model_box.activated.emit(1)
    assert blocker.args[1].model == "raw.yaml@openvino-int8"  # a new model keeps the pane's runtime
    with qtbot.waitSignal(panel.spec_requested) as blocker:
        panel.runtime_box.setCurrentIndex(0)
        panel.runtime_box.activated.emit(0)
    assert blocker.args[1].model == "raw.yaml"


def test_a_saved_runtime_is_shown_and_views_run_on_pytorch(qtbot, panel):
    with qtbot.assertNotEmitted(panel.spec_requested):
        panel.set_spec(PaneSpec("pose", "good@openvino"))
    assert panel.runtime_box.currentData() == "openvino"
    assert panel.model_box.currentData(Qt.ItemDataRole.UserRole) == "good"
    with qtbot.waitSignal(panel.spec_requested) as blocker:
        panel.task_box.setCurrentIndex(panel.task_box.findData("features"))
    assert blocker.args[1].task == "features" and "@" not in blocker.args[1].model
    assert not panel.runtime_box.isEnabled() and panel.runtime_box.currentData() == "torch"


def test_catalog_choices_mark_untrained_builds_and_missing_weights():
    choices = ModelChoices(online=False)("detect")
    by_spec = {c.spec: c for c in choices}
    assert by_spec["yolo11n.yaml"].untrained and by_spec["yolo11n.yaml"].available
    assert "(untrained)" in by_spec["yolo11n.yaml"].label
    missing = by_spec["yolo11s"]
    assert not missing.available and "models" in missing.why
    # Ready models come before the ones that cannot be used.
    assert choices.index(by_spec["yolo11n.yaml"]) < choices.index(missing)
    pose = {c.spec: c for c in ModelChoices(online=False)("pose")}
    assert pose["yolo11n-pose"].available and not pose["yolo11n-pose"].untrained


def test_a_model_download_shows_a_progress_bar_until_the_file_is_complete(panel):
    assert panel.download_bar.isHidden()
    panel.set_download(3 * 2**20, 6 * 2**20)
    assert not panel.download_bar.isHidden()
    assert panel.download_bar.value() * 2 == panel.download_bar.maximum()  # half way
    panel.set_download(6 * 2**20, 6 * 2**20)
    assert panel.download_bar.isHidden()


def test_a_download_of_unknown_size_shows_a_busy_bar(panel):
    panel.set_download(1000, 0)
    assert not panel.download_bar.isHidden() and panel.download_bar.maximum() == 0
