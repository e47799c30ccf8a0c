"""Controls for insight panes (feature maps, filters, the lesson, Grad-CAM, FGSM, Teach), built from what the
pane's runner can do.

The runners' setters are safe from any thread (they publish settings the next frame picks up), so the controls
call them directly; Teach training runs on its own short-lived thread so frames keep flowing while it learns.
Failures are reported through `failed(message)` to the status area, never in a dialog.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QSizePolicy, QSlider, QSpinBox, QWidget)

from desktop_app.core.errors import CnnLensError
from desktop_app.core.models.tasks import Task
from desktop_app.ui.background import BackgroundCall

log = logging.getLogger(__name__)

CLICK_HINT = {
    "features": "Click a cell of the picture or of a channel to outline its receptive field.",
    "filters": "Click a kernel tile to see that filter's response.",
    "lesson": "Click the picture to move the patch being convolved.",
}
EPSILON_STEPS = 32  # the FGSM slider goes 0 .. 32/255


def _compact(box: QComboBox) -> QComboBox:
    # Long entries (layer names with shapes) must not widen the pane panel: show what fits, all in the list.
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(10)
    return box


def wrapping_label(text: str) -> QLabel:
    """A label that wraps, and never forces its panel wider (long layer names have no spaces to break at)."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def _is_classifier(runner) -> bool:
    # Grad-CAM explains one class of a classifier; EigenCAM on a detector has no class to choose.
    info = getattr(getattr(runner, "adapter", None), "info", None)
    return info is not None and info.task is Task.CLASSIFY


def layer_text(layer) -> str:
    """"model.8 · 256×20×20 · stride 32 · RF 467 px" for a layer list."""
    channels, height, width = layer.out_shape_chw
    return (f"{layer.name} · {channels}×{height}×{width} · stride {int(layer.jump_hw[0])} · "
            f"RF {int(layer.rf_hw[0])} px")


class ViewControls(QWidget):
    """The settings of one insight pane; empty for runners that have none."""

    failed = Signal(str)

    def __init__(self, runner, class_names: dict, parent: QWidget | None = None):
        super().__init__(parent)
        self.runner = runner
        self._names = dict(class_names)
        self._calls: list[BackgroundCall] = []
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        kind = getattr(runner, "kind", "") or type(runner).__name__.lower()
        if hasattr(runner, "set_layer") and hasattr(runner, "layers"):
            self._add_layer_choice()
        if hasattr(runner, "set_filter") and hasattr(runner, "filter_count"):
            self._add_filter_choice()
        if hasattr(runner, "set_kernel"):
            self._add_kernel_choice()
        if hasattr(runner, "set_epsilon"):
            self._add_epsilon()
        if hasattr(runner, "set_target"):
            self.form.addRow("Push towards", self._class_box(runner.set_target, "(away from its answer)"))
        elif hasattr(runner, "set_class") and _is_classifier(runner):
            self.form.addRow("Explain", self._class_box(runner.set_class, "(top class)"))
        if hasattr(runner, "set_classes") and hasattr(runner, "capture"):
            self._add_teach()
        hint = next((text for name, text in CLICK_HINT.items() if name in kind), "")
        if hint and hasattr(runner, "select_at"):
            self.form.addRow(wrapping_label(hint))

    @property
    def empty(self) -> bool:
        return self.form.rowCount() == 0

    def _guard(self, action: Callable[[], object]) -> None:
        try:
            action()
        except (CnnLensError, ValueError) as exc:
            self.failed.emit(str(exc))

    # -- feature maps, filters, lesson ---------------------------------------------------------------------------

    def _add_layer_choice(self) -> None:
        box = _compact(QComboBox())
        current = getattr(getattr(self.runner, "layer", None), "name", None)
        for layer in self.runner.layers:
            box.addItem(layer_text(layer), layer.name)
        box.setCurrentIndex(max(0, box.findData(current)))
        box.setToolTip("Layer: output channels×height×width, stride (input pixels between cells), receptive field")
        box.activated.connect(lambda row: self._guard(lambda: self.runner.set_layer(box.itemData(row))))
        self.layer_box = box
        self.form.addRow("Layer", box)

    def _add_filter_choice(self) -> None:
        spin = QSpinBox()
        spin.setRange(0, max(0, self.runner.filter_count - 1))
        spin.setValue(int(getattr(self.runner, "filter_index", 0)))
        spin.valueChanged.connect(lambda value: self._guard(lambda: self.runner.set_filter(value)))
        self.filter_spin = spin
        self.form.addRow("Filter", spin)

    def _add_kernel_choice(self) -> None:
        from desktop_app.core.insight.lesson import LessonKernel

        box = _compact(QComboBox())
        for kernel in LessonKernel:
            box.addItem(kernel.value.replace("_", " "), kernel.value)
        current = getattr(getattr(self.runner, "kernel", None), "value", None)
        box.setCurrentIndex(max(0, box.findData(current)))
        box.activated.connect(lambda row: self._guard(lambda: self.runner.set_kernel(box.itemData(row))))
        self.form.addRow("Kernel", box)

    # -- Grad-CAM and FGSM ---------------------------------------------------------------------------------------

    def _class_box(self, setter: Callable[[int | None], None], none_text: str) -> QComboBox:
        box = _compact(QComboBox())
        box.addItem(none_text, None)
        for class_id, name in sorted(self._names.items()):
            box.addItem(f"{class_id}: {name}", class_id)
        box.setEditable(True)
        box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)  # typing searches the 1000 ImageNet names
        box.activated.connect(lambda row: self._guard(lambda: setter(box.itemData(row))))
        return box

    def _add_epsilon(self) -> None:
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(0, EPSILON_STEPS)
        slider.setValue(round(float(getattr(self.runner, "epsilon", 2 / 255)) * 255))
        value = QLabel()

        def apply(steps: int) -> None:
            value.setText(f"{steps}/255")
            self._guard(lambda: self.runner.set_epsilon(steps / 255.0))

        slider.valueChanged.connect(apply)
        value.setText(f"{slider.value()}/255")
        row = QHBoxLayout()
        row.addWidget(slider, 1)
        row.addWidget(value)
        self.epsilon_slider = slider
        self.form.addRow("Epsilon", row)

    # -- Teach ---------------------------------------------------------------------------------------------------

    def _add_teach(self) -> None:
        self.classes_edit = QLineEdit(", ".join(self.runner.class_names))
        self.classes_edit.setPlaceholderText("2 to 5 class names, e.g. cup, pen, phone")
        self.classes_edit.editingFinished.connect(self._set_teach_classes)
        self.capture_row = QHBoxLayout()
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train a new head on the frozen backbone with the captured frames")
        self.train_button.clicked.connect(self._train)
        save, load = QPushButton("Save…"), QPushButton("Load…")
        save.clicked.connect(self._save_head)
        load.clicked.connect(self._load_head)
        self.teach_state = wrapping_label("")
        self.teach_counts = wrapping_label("")
        buttons = QHBoxLayout()
        for button in (self.train_button, save, load):
            buttons.addWidget(button)
        self.form.addRow("Classes", self.classes_edit)
        self.form.addRow("Capture", self.capture_row)
        self.form.addRow(buttons)
        self.form.addRow(self.teach_counts)
        self.form.addRow(self.teach_state)
        self._rebuild_capture_buttons()
        # Captures land on the next processed frame: keep the counts honest while the pane is shown.
        self._counts_timer = QTimer(self)
        self._counts_timer.setInterval(500)
        self._counts_timer.timeout.connect(self._refresh_counts)
        self._counts_timer.start()

    def _refresh_counts(self) -> None:
        self._show_counts(pending=self.runner.pending_captures > 0)

    def _set_teach_classes(self) -> None:
        names = [n.strip() for n in self.classes_edit.text().split(",") if n.strip()]
        if tuple(names) == tuple(self.runner.class_names):
            return
        self._guard(lambda: self.runner.set_classes(names))
        self._rebuild_capture_buttons()

    def _rebuild_capture_buttons(self) -> None:
        while self.capture_row.count():
            widget = self.capture_row.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        for name in self.runner.class_names:
            button = QPushButton(name)
            button.setToolTip(f"Use the next frame as an example of '{name}'")
            button.clicked.connect(lambda _=False, n=name: self._capture(n))
            self.capture_row.addWidget(button)
        self._show_counts()

    def _capture(self, name: str) -> None:
        self._guard(lambda: self.runner.capture(name))
        self._show_counts(pending=True)

    def _show_counts(self, pending: bool = False) -> None:
        counts = ", ".join(f"{name} {count}" for name, count in self.runner.counts.items())
        extra = " (capturing…)" if pending else ""
        self.teach_counts.setText(f"Captured: {counts}{extra}" if counts else "Name 2 to 5 classes to start.")

    def _train(self) -> None:
        self.train_button.setEnabled(False)
        self.teach_state.setText("Training…")
        # Not parented to this widget: the pane may be switched while training, and the thread must be able to
        # report to a call object that still exists.
        call = BackgroundCall("teach-training", self.runner.train)
        call.done.connect(self._trained)
        call.failed.connect(self._train_failed)
        self._calls = [c for c in self._calls if not c.wait(0)] + [call.start()]

    def _trained(self, report) -> None:
        self.train_button.setEnabled(True)
        self.teach_state.setText(f"Trained in {report.seconds:.1f} s on {report.samples} examples: "
                                 f"{report.accuracy:.0%} of them right. The pane now classifies live.")

    def _train_failed(self, message: str) -> None:
        self.train_button.setEnabled(True)
        self.teach_state.setText("")
        self.failed.emit(f"Training failed: {message}")

    def _save_head(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the trained head", str(Path.home() / "teach-head.pt"),
                                              "Teach heads (*.pt)")
        if path:
            self._guard(lambda: self.runner.save(path))

    def _load_head(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a trained head (files can run code: open only yours)",
                                              str(Path.home()), "Teach heads (*.pt)")
        if path:
            self._guard(lambda: self.runner.load(path))
            self.classes_edit.setText(", ".join(self.runner.class_names))
            self._rebuild_capture_buttons()

    def wait_finished(self, timeout_s: float = 60.0) -> None:
        """Join a training still running (the window is closing)."""
        for call in self._calls:
            call.wait(timeout_s)
