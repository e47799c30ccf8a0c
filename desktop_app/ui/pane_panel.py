"""Controls of one pane: task, model, thresholds, image size and class filter, adjustable while it runs.

The panel only edits what the user chose (`PaneSpec`); loading and running models is the session's job. Model
changes ask for a load (`spec_requested`); threshold changes apply live (`options_changed`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Callable, Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QProgressBar, QSizePolicy, QSpinBox, QToolButton, QWidget)

from desktop_app.core.models.base import PredictOptions
from desktop_app.core.models.tasks import Task
from desktop_app.core.panes import split_backend
from desktop_app.core.pipeline import PaneSpec
from desktop_app.ui.choices import ModelChoice
from desktop_app.ui.status import Level

log = logging.getLogger(__name__)

PANE_POSITIONS = {1: ("",), 2: ("left", "right"), 4: ("top left", "top right", "bottom left", "bottom right")}
_STATE_STYLE = {Level.INFO: "color: palette(text);", Level.WARNING: "color: #b36b00;",
                Level.ERROR: "color: #c62828; font-weight: bold;"}


def parse_class_filter(text: str, names: Mapping[int, str]) -> tuple[int, ...] | None:
    """`"person, 2"` -> class ids, using the model's class names; empty text keeps every class.

    Raises ValueError naming the unknown entry.
    """
    by_name = {name.lower(): class_id for class_id, name in names.items()}
    ids: list[int] = []
    for token in (t.strip() for t in text.split(",")):
        if not token:
            continue
        if token.lstrip("-").isdigit():
            class_id = int(token)
            if names and class_id not in names:
                raise ValueError(f"class id {class_id} is not one of this model's {len(names)} classes")
        elif token.lower() in by_name:
            class_id = by_name[token.lower()]
        else:
            raise ValueError(f"unknown class {token!r}")
        if class_id not in ids:
            ids.append(class_id)
    return tuple(ids) if ids else None


def format_class_filter(classes: tuple[int, ...] | None, names: Mapping[int, str]) -> str:
    """Inverse of `parse_class_filter`: class names where known, ids otherwise."""
    if not classes:
        return ""
    return ", ".join(names.get(c, str(c)) for c in classes)


#: (backend suffix, label, tooltip) of the runtimes a task pane can run its Ultralytics model on.
RUNTIMES = (
    ("torch", "PyTorch", "The model as it is, on the device chosen in the View menu"),
    ("openvino", "OpenVINO (CPU)", "An OpenVINO export, made once and cached in models/: about 2x faster on a CPU"),
    ("openvino-int8", "OpenVINO INT8 (CPU)", "An 8-bit OpenVINO export calibrated on the sample photographs: "
     "about 3x faster than PyTorch on a CPU, with slightly different outputs"),
    ("onnx", "ONNX Runtime (CPU)", "An ONNX export run by ONNX Runtime"),
    ("tensorrt", "TensorRT (CUDA)", "A TensorRT engine built once for this GPU (needs CUDA and TensorRT)"),
)


class PanePanel(QGroupBox):
    """The controls of pane `index`."""

    spec_requested = Signal(int, object)  # (pane index, PaneSpec): load this task/model
    options_changed = Signal(int, object)  # (pane index, PredictOptions): apply live
    open_model_requested = Signal(int)

    def __init__(self, index: int, kinds: Mapping[str, str],
                 choices_for: Callable[[str], Sequence[ModelChoice]], parent: QWidget | None = None):
        super().__init__(parent)
        self.index = index
        self._choices_for = choices_for
        self._spec = PaneSpec("pose", "yolo11n-pose")
        self._class_names: Mapping[int, str] = {}
        self.setObjectName(f"pane{index + 1}")

        self.task_box = QComboBox()
        self.add_kinds(kinds)
        self.model_box = QComboBox()
        self.model_box.setModel(QStandardItemModel(self.model_box))
        self.model_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_box.setMinimumContentsLength(14)
        self.open_button = QToolButton()
        self.open_button.setText("…")
        self.open_button.setToolTip("Load a model file into this pane (model files can run code: open only "
                                    "files you trust)")

        self.runtime_box = QComboBox()
        for backend, label, tip in RUNTIMES:
            self.runtime_box.addItem(label, backend)
            self.runtime_box.setItemData(self.runtime_box.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.runtime_box.setToolTip("What runs the model: exports are made once and cached in models/")
        self.conf_box = _spin(0.0, 1.0, 0.05, "Keep detections at least this confident")
        self.iou_box = _spin(0.05, 1.0, 0.05, "Overlap above which duplicate boxes are suppressed (NMS)")
        self.imgsz_box = QSpinBox()
        self.imgsz_box.setRange(32, 1920)
        self.imgsz_box.setSingleStep(32)
        self.imgsz_box.setSuffix(" px")
        self.imgsz_box.setToolTip("Model input size: smaller is faster, larger sees smaller objects")
        self.imgsz_box.setKeyboardTracking(False)
        self.classes_edit = QLineEdit()
        self.classes_edit.setPlaceholderText("all classes (e.g. person, car or 0, 2)")
        self.classes_edit.setClearButtonEnabled(True)
        self.state_label = QLabel()
        self.state_label.setWordWrap(True)
        # Model and layer names are long words: let them wrap anywhere rather than widen the panel.
        self.state_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.state_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        model_row = QHBoxLayout()
        model_row.setContentsMargins(0, 0, 0, 0)
        model_row.addWidget(self.model_box, 1)
        model_row.addWidget(self.open_button)
        thresholds = QHBoxLayout()
        thresholds.setContentsMargins(0, 0, 0, 0)
        thresholds.addWidget(QLabel("conf"))
        thresholds.addWidget(self.conf_box)
        thresholds.addWidget(QLabel("IoU"))
        thresholds.addWidget(self.iou_box)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setContentsMargins(8, 4, 8, 6)
        form.setVerticalSpacing(4)
        form.addRow("Task", self.task_box)
        form.addRow("Model", model_row)
        form.addRow("Runtime", self.runtime_box)
        form.addRow("Thresholds", thresholds)
        form.addRow("Image size", self.imgsz_box)
        form.addRow("Classes", self.classes_edit)
        form.addRow(self.state_label)
        self.download_bar = QProgressBar()
        self.download_bar.setFormat("downloading %p%")
        self.download_bar.setVisible(False)
        form.addRow(self.download_bar)
        self._form = form
        self.view_controls: QWidget | None = None

        self.task_box.currentIndexChanged.connect(self._on_task_changed)
        self.model_box.activated.connect(self._on_model_chosen)
        self.runtime_box.activated.connect(self._on_runtime_chosen)
        self.open_button.clicked.connect(lambda: self.open_model_requested.emit(self.index))
        for box in (self.conf_box, self.iou_box, self.imgsz_box):
            box.valueChanged.connect(self._on_options_edited)
        self.classes_edit.editingFinished.connect(self._on_options_edited)
        self.set_title(1)

    # -- model -> view -------------------------------------------------------------------------------------------

    @property
    def spec(self) -> PaneSpec:
        return self._spec

    def set_title(self, layout: int) -> None:
        position = PANE_POSITIONS.get(layout, ("",) * 4)
        where = position[self.index] if self.index < len(position) else ""
        self.setTitle(f"Pane {self.index + 1}" + (f" · {where}" if where else ""))

    def add_kinds(self, kinds: Mapping[str, str]) -> None:
        """Offer more pane kinds (insight views register after start-up); known ones get their description."""
        self.task_box.blockSignals(True)
        for kind, description in kinds.items():
            row = self.task_box.findData(kind)
            if row < 0:
                self.task_box.addItem(kind, kind)
                row = self.task_box.count() - 1
            self.task_box.setItemData(row, description, Qt.ItemDataRole.ToolTipRole)
        self.task_box.blockSignals(False)

    def set_spec(self, spec: PaneSpec) -> None:
        """Show `spec` without emitting any request (signals blocked while the widgets are updated)."""
        self._spec = spec
        widgets = (self.task_box, self.model_box, self.runtime_box, self.conf_box, self.iou_box, self.imgsz_box,
                   self.classes_edit)
        for widget in widgets:
            widget.blockSignals(True)
        try:
            task_index = self.task_box.findData(spec.task)
            if task_index < 0:  # a view registered later, or a saved kind: show it rather than hide it
                self.task_box.addItem(spec.task, spec.task)
                task_index = self.task_box.count() - 1
            self.task_box.setCurrentIndex(task_index)
            model, backend = split_backend(spec.model)
            self._fill_models(spec.task, model)
            self.runtime_box.setCurrentIndex(max(0, self.runtime_box.findData(backend)))
            self._enable_runtime(spec.task)
            self.conf_box.setValue(spec.options.conf)
            self.iou_box.setValue(spec.options.iou)
            self.imgsz_box.setValue(spec.options.imgsz)
            self.classes_edit.setText(format_class_filter(spec.options.classes, self._class_names))
            self._mark_classes_valid(None)
        finally:
            for widget in widgets:
                widget.blockSignals(False)

    def set_class_names(self, names: Mapping[int, str]) -> None:
        """The loaded model's classes, so the filter accepts names and shows them."""
        self._class_names = dict(names)
        self.classes_edit.blockSignals(True)
        self.classes_edit.setText(format_class_filter(self._spec.options.classes, self._class_names))
        self.classes_edit.blockSignals(False)
        preview = ", ".join(list(self._class_names.values())[:12])
        more = "…" if len(self._class_names) > 12 else ""
        self.classes_edit.setToolTip(f"Comma-separated class names or ids. This model knows: {preview}{more}")

    def set_view_controls(self, controls: QWidget | None) -> None:
        """Show the settings of an insight view under the pane's own controls (None removes them)."""
        if self.view_controls is not None:
            self._form.removeRow(self.view_controls)  # deletes the old widget
        self.view_controls = controls
        if controls is not None:
            self._form.addRow(controls)

    def set_state(self, text: str, level: Level | str = Level.INFO) -> None:
        """What the pane is doing: loading, running which model, or why it failed."""
        self.state_label.setText(text)
        self.state_label.setStyleSheet(_STATE_STYLE[Level(level)])

    def set_download(self, done: int, total: int) -> None:
        """Show a model download's progress; the bar hides itself once the file is complete."""
        if total <= 0:
            self.download_bar.setRange(0, 0)  # size unknown: a busy bar
        else:  # in KiB: QProgressBar counts in 32-bit ints
            self.download_bar.setRange(0, max(1, total // 1024))
            self.download_bar.setValue(min(done, total) // 1024)
        self.download_bar.setVisible(total <= 0 or done < total)

    @property
    def state_text(self) -> str:
        return self.state_label.text()

    def refresh_models(self) -> None:
        """Rebuild the model list (after a download or a newly opened file)."""
        self.model_box.blockSignals(True)
        self._fill_models(self._spec.task, self._spec.model)
        self.model_box.blockSignals(False)

    def _fill_models(self, task: str, current: str) -> None:
        model: QStandardItemModel = self.model_box.model()
        model.clear()
        choices = list(self._choices_for(task))
        if current and all(c.spec != current for c in choices):
            choices.insert(0, ModelChoice(current, current, True, "", False))
        current_row = -1
        for choice in choices:
            item = QStandardItem(choice.label)
            item.setData(choice.spec, Qt.ItemDataRole.UserRole)
            item.setEnabled(choice.available)
            tooltip = choice.why if not choice.available else choice.tooltip
            if tooltip:
                item.setToolTip(tooltip)
            model.appendRow(item)
            if choice.spec == current:
                current_row = model.rowCount() - 1
        self.model_box.setCurrentIndex(current_row)

    # -- view -> requests ----------------------------------------------------------------------------------------

    def _on_task_changed(self, _row: int) -> None:
        task = self.task_box.currentData()
        if not task or task == self._spec.task:
            return
        self.model_box.blockSignals(True)
        self._fill_models(task, "")
        self.model_box.blockSignals(False)
        first = next((c for c in self._choices_for(task) if c.available), None)
        if first is None:
            self.set_state(f"No {task} model is available on this machine; see the model list for how to "
                           "add one.", Level.WARNING)
            return
        self.model_box.setCurrentIndex(self.model_box.findData(first.spec, Qt.ItemDataRole.UserRole))
        self._enable_runtime(task)
        self._request(replace(self._spec, task=task, model=self._with_runtime(first.spec)))

    def _on_model_chosen(self, row: int) -> None:
        spec = self.model_box.itemData(row, Qt.ItemDataRole.UserRole)
        if not spec:
            return
        model = self._with_runtime(spec)
        if model != self._spec.model or self.task_box.currentData() != self._spec.task:
            self._request(replace(self._spec, task=self.task_box.currentData(), model=model))

    def _on_runtime_chosen(self, _row: int) -> None:
        model = self._with_runtime(split_backend(self._spec.model)[0])
        if model != self._spec.model:
            self._request(replace(self._spec, model=model))

    def _with_runtime(self, model: str) -> str:
        """`model` run on the chosen runtime (`name@openvino`); plain PyTorch has no suffix."""
        backend = self.runtime_box.currentData() if self.runtime_box.isEnabled() else "torch"
        return model if backend in (None, "torch") else f"{model}@{backend}"

    def _enable_runtime(self, kind: str) -> None:
        # Insight views look inside the PyTorch modules: exported runtimes are for task panes only.
        is_task = kind in {t.value for t in Task}
        self.runtime_box.setEnabled(is_task)
        if not is_task:
            self.runtime_box.setCurrentIndex(0)

    def _request(self, spec: PaneSpec) -> None:
        self._spec = spec
        self.spec_requested.emit(self.index, spec)

    def _on_options_edited(self) -> None:
        try:
            classes = parse_class_filter(self.classes_edit.text(), self._class_names)
        except ValueError as exc:
            self._mark_classes_valid(str(exc))
            return
        self._mark_classes_valid(None)
        imgsz = max(32, round(self.imgsz_box.value() / 32) * 32)
        options = replace(self._spec.options, conf=round(self.conf_box.value(), 3),
                          iou=round(self.iou_box.value(), 3), imgsz=imgsz, classes=classes)
        if options != self._spec.options:
            self._spec = replace(self._spec, options=options)
            self.options_changed.emit(self.index, options)

    def _mark_classes_valid(self, error: str | None) -> None:
        self.classes_edit.setStyleSheet("" if error is None else "border: 1px solid #c62828;")
        if error:
            self.set_state(f"Class filter: {error}", Level.WARNING)


def _spin(low: float, high: float, step: float, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setDecimals(2)
    box.setToolTip(tip)
    box.setKeyboardTracking(False)
    return box


def option_summary(options: PredictOptions) -> str:
    """Short text of a pane's options, for logs and tooltips."""
    classes = "all" if not options.classes else ",".join(map(str, options.classes))
    return f"conf {options.conf:.2f} · IoU {options.iou:.2f} · {options.imgsz}px · classes {classes}"
