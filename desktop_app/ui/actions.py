"""The window's commands as `QAction`s, with their shortcuts, and the menus and toolbar that show them.

Keeping the actions in one place means a menu entry, a toolbar button and a keyboard shortcut can never
disagree, and the menus display every shortcut next to its command.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QColor, QIcon, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import QMenuBar, QStyle, QToolBar, QToolButton, QWidget


class WindowActions(QObject):
    """Every command of the main window. Connect to `triggered`/`toggled` in the window."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        style = parent.style()

        def action(text: str, shortcut: str | QKeySequence.StandardKey | None = None, *, tip: str = "",
                   checkable: bool = False, icon: QStyle.StandardPixmap | None = None) -> QAction:
            act = QAction(text, parent)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
                # Window-wide, so the shortcuts work whichever control has focus (text fields still
                # receive their own keys: Qt lets a focused editor override single-key shortcuts).
                act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            if tip:
                shown = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                act.setToolTip(f"{tip} ({shown})" if shown else tip)
                act.setStatusTip(tip)
            act.setCheckable(checkable)
            if icon is not None:
                act.setIcon(style.standardIcon(icon))
            parent.addAction(act)
            return act

        SP = QStyle.StandardPixmap
        self.open_file = action("Open &file…", QKeySequence.StandardKey.Open,
                                tip="Open a video or image file as the source")
        self.open_folder = action("Open f&older…", "Ctrl+Shift+O", tip="Play the images of a folder")
        self.open_url = action("Open &URL…", "Ctrl+U", tip="Open an RTSP or HTTP stream")
        self.sample = action("&Sample", tip="The built-in sample made from real photographs")
        self.refresh_cameras = action("&Refresh camera list", tip="Look for cameras again")
        self.open_model = action("Open &model file…", "Ctrl+M",
                                 tip="Load a model file (.pt, .onnx, OpenVINO) into a pane")
        self.output_folder = action("Output &folder…", tip="Choose where recordings and snapshots are saved")
        self.quit = action("&Quit", QKeySequence.StandardKey.Quit, tip="Close CNN Lens")

        self.play_pause = action("&Pause", "Space", tip="Pause or resume playback", icon=SP.SP_MediaPause)
        self.step = action("S&tep one frame", "Period", tip="Show the next frame of a paused file",
                           icon=SP.SP_MediaSkipForward)
        self.loop = action("&Loop", "L", tip="Start the file again when it ends", checkable=True,
                           icon=SP.SP_BrowserReload)

        self.layout_group = QActionGroup(parent)
        self.layout_group.setExclusive(True)
        self.layouts: dict[int, QAction] = {}
        for count, label in ((1, "&1 pane"), (2, "&2 panes"), (4, "&4 panes")):
            act = action(label, str(count), tip=f"Show {count} pane{'s' if count > 1 else ''} side by side",
                         checkable=True)
            act.setData(count)
            act.setIconText(str(count))
            self.layout_group.addAction(act)
            self.layouts[count] = act

        self.record = action("&Record", "R", tip="Record the composed view to an MP4 file", checkable=True)
        self.record.setIcon(dot_icon(QColor(220, 40, 40)))
        self.snapshot = action("&Snapshot", "S", tip="Save the current view as a PNG",
                               icon=SP.SP_DialogSaveButton)
        self.fullscreen = action("&Full screen", "F11", tip="Full screen on or off", checkable=True,
                                 icon=SP.SP_TitleBarMaxButton)
        self.hud = action("Show &HUD", "H", tip="Show or hide the numbers drawn over each pane (model, timings, "
                          "device)", checkable=True)
        self.leave_fullscreen = action("Leave full screen", "Esc", tip="Leave full screen")
        self.leave_fullscreen.setEnabled(False)
        self.about = action("&About CNN Lens", tip="About this application")

        self.device_group = QActionGroup(parent)
        self.device_group.setExclusive(True)
        self.devices: dict[str, QAction] = {}
        for device, label in (("auto", "&Auto (CUDA, then MPS, then CPU)"), ("cpu", "&CPU"),
                              ("cuda", "CU&DA GPU (FP16)"), ("mps", "Apple &MPS")):
            act = action(label, tip=f"Run the models on {device}; they reload in the background",
                         checkable=True)
            act.setData(device)
            self.device_group.addAction(act)
            self.devices[device] = act

    def set_playing(self, playing: bool) -> None:
        """Show Pause while playing, Play while paused."""
        style = self.parent().style()
        self.play_pause.setText("&Pause" if playing else "&Play")
        self.play_pause.setIcon(style.standardIcon(
            QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay))

    def set_playback_enabled(self, seekable: bool) -> None:
        """Playback controls only make sense for files, folders and images."""
        for act in (self.play_pause, self.step, self.loop):
            act.setEnabled(seekable)


def dot_icon(color: QColor, size: int = 16) -> QIcon:
    """A filled circle (the universal "record" sign), drawn so no icon file has to ship."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(color)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(2, 2, size - 4, size - 4)
    painter.end()
    return QIcon(pixmap)


def build_menus(menubar: QMenuBar, actions: WindowActions, source_menu, panes_toggle: QAction) -> None:
    """File / Playback / View / Capture / Help menus; Qt shows each action's shortcut beside it."""
    file_menu = menubar.addMenu("&File")
    file_menu.addMenu(source_menu)
    file_menu.addAction(actions.open_file)
    file_menu.addAction(actions.open_folder)
    file_menu.addAction(actions.open_url)
    file_menu.addSeparator()
    file_menu.addAction(actions.open_model)
    file_menu.addAction(actions.output_folder)
    file_menu.addSeparator()
    file_menu.addAction(actions.quit)

    playback = menubar.addMenu("&Playback")
    for act in (actions.play_pause, actions.step, actions.loop):
        playback.addAction(act)

    view = menubar.addMenu("&View")
    for act in actions.layouts.values():
        view.addAction(act)
    view.addSeparator()
    devices = view.addMenu("&Device")
    for act in actions.devices.values():
        devices.addAction(act)
    view.addSeparator()
    view.addAction(panes_toggle)
    view.addAction(actions.hud)
    view.addAction(actions.fullscreen)
    view.addAction(actions.leave_fullscreen)

    capture = menubar.addMenu("&Capture")
    capture.addAction(actions.record)
    capture.addAction(actions.snapshot)

    help_menu = menubar.addMenu("&Help")
    help_menu.addAction(actions.about)


def build_toolbar(toolbar: QToolBar, actions: WindowActions, source_button: QToolButton) -> None:
    """Source picker, playback, layout, record, snapshot, full screen, left to right."""
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    toolbar.addWidget(source_button)
    toolbar.addSeparator()
    for act in (actions.play_pause, actions.step, actions.loop):
        toolbar.addAction(act)
    toolbar.addSeparator()
    for act in actions.layouts.values():
        toolbar.addAction(act)
    toolbar.addSeparator()
    toolbar.addAction(actions.record)
    toolbar.addAction(actions.snapshot)
    toolbar.addSeparator()
    toolbar.addAction(actions.fullscreen)
    for count, act in actions.layouts.items():
        button = toolbar.widgetForAction(act)
        if isinstance(button, QToolButton):
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setText(str(count))
            button.setMinimumWidth(28)
