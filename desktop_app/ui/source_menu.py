"""The source picker: the sample, every camera found (each with a choice of resolution and frame rate), and
the open-file / folder / URL commands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from desktop_app.core.sources.camera import COMMON_FPS, COMMON_RESOLUTIONS_WH, CameraInfo


@dataclass(frozen=True, slots=True)
class SourceChoice:
    """An `open_source` spec plus its options (e.g. a camera's resolution and frame rate)."""

    spec: str
    options: dict = field(default_factory=dict, hash=False, compare=True)

    def describe(self) -> str:
        mode = self.options.get("resolution_wh")
        fps = self.options.get("fps")
        extra = ""
        if mode:
            extra = f" {mode[0]}×{mode[1]}"
        if fps:
            extra += f" @ {fps:g} fps"
        return self.spec + extra


def camera_label(camera: CameraInfo) -> str:
    """"Camera 0 · HD Webcam · 1280×720 @ 30 fps"."""
    width, height = camera.resolution_wh
    rate = f" @ {camera.fps:g} fps" if camera.fps else ""
    return f"{camera.name} · {width}×{height}{rate}"


class SourceMenu(QMenu):
    """Menu of sources; `chosen(SourceChoice)` fires when the user picks the sample or a camera mode."""

    chosen = Signal(object)

    def __init__(self, open_file: QAction, open_folder: QAction, open_url: QAction, sample: QAction,
                 refresh: QAction, parent: QWidget | None = None):
        super().__init__("&Source", parent)
        self._sample = sample
        self._static = (open_file, open_folder, open_url, refresh)
        self._cameras: list[CameraInfo] = []
        self._searching = True
        sample.triggered.connect(lambda: self.chosen.emit(SourceChoice("sample")))
        self._rebuild()

    @property
    def cameras(self) -> list[CameraInfo]:
        return list(self._cameras)

    def set_searching(self) -> None:
        self._searching = True
        self._rebuild()

    def set_cameras(self, cameras: Sequence[CameraInfo]) -> None:
        """Show the cameras found by `list_cameras` (an empty list says so)."""
        self._cameras = list(cameras)
        self._searching = False
        self._rebuild()

    def _rebuild(self) -> None:
        self.clear()
        self.addAction(self._sample)
        self.addSection("Cameras")
        if self._searching:
            self.addAction("Looking for cameras…").setEnabled(False)
        elif not self._cameras:
            self.addAction("No camera found").setEnabled(False)
        for camera in self._cameras:
            submenu = self.addMenu(camera_label(camera))
            default = submenu.addAction("Default mode")
            default.triggered.connect(lambda _=False, c=camera: self.chosen.emit(SourceChoice(c.spec)))
            submenu.addSeparator()
            for width, height in COMMON_RESOLUTIONS_WH:
                for fps in COMMON_FPS:
                    act = submenu.addAction(f"{width}×{height} @ {fps:g} fps")
                    options = {"resolution_wh": (width, height), "fps": fps}
                    act.triggered.connect(
                        lambda _=False, c=camera, o=options: self.chosen.emit(SourceChoice(c.spec, dict(o))))
        self.addSeparator()
        open_file, open_folder, open_url, refresh = self._static
        for act in (open_file, open_folder, open_url):
            self.addAction(act)
        self.addSeparator()
        self.addAction(refresh)


def make_source_button(menu: SourceMenu) -> QToolButton:
    """Toolbar button that shows the current source and drops the menu down."""
    button = QToolButton()
    button.setMenu(menu)
    button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    button.setText("Source")
    button.setToolTip("Choose the source: sample, a camera, a file, a folder or a stream URL")
    button.setMinimumWidth(120)
    return button
