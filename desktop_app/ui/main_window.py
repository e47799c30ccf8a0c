"""The main window: composes the frame view, the pane panels, the toolbar, the menus and the status area, and
connects them to the live session. It holds no inference logic and no thread of its own."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QScrollArea, QToolBar, QVBoxLayout, QWidget

from desktop_app.core.pipeline import PaneSpec
from desktop_app.core.errors import CnnLensError
from desktop_app.core.render import letterbox_rect, pane_at, pane_rects
from desktop_app.core.sources import CaptureState
from desktop_app.ui import dialogs, drops
from desktop_app.ui.actions import WindowActions, build_menus, build_toolbar
from desktop_app.ui.capture_controls import CaptureControls
from desktop_app.ui.choices import ModelChoices
from desktop_app.ui.frame_view import FrameView
from desktop_app.ui.pane_panel import PanePanel
from desktop_app.ui.session import LiveSession, PaneModelInfo
from desktop_app.ui.source_control import SourceStatus
from desktop_app.ui.settings import MAX_PANES, SessionSettings, SettingsStore
from desktop_app.ui.source_menu import SourceChoice, SourceMenu, make_source_button
from desktop_app.ui.status import Level, StatusArea
from desktop_app.ui.view_controls import ViewControls

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """CNN Lens' window. `frame_shown(DisplayFrame)` fires each time a new processed frame is put on screen."""

    frame_shown = Signal(object)
    closed = Signal()  # after every thread has stopped and settings are saved

    def __init__(self, session: LiveSession, store: SettingsStore | None, settings: SessionSettings,
                 choices: ModelChoices, kinds: dict[str, str]):
        super().__init__()
        self.session = session
        self.store = store  # None: do not persist (scripted runs)
        self.settings = settings
        self.choices = choices
        self.frames_shown = 0
        self.first_paint_s: float | None = None
        self.background_calls: list = []  # BackgroundCall objects, joined on close
        self._fullscreen_hidden: list[QWidget] = []
        self.setWindowTitle("CNN Lens")
        self.setAcceptDrops(True)

        self.frame_view = FrameView()
        self.frame_view.set_placeholder("Opening the source…")
        self.setCentralWidget(self.frame_view)
        self.status = StatusArea()
        self.setStatusBar(self.status)

        self.panels = [PanePanel(i, kinds, choices) for i in range(MAX_PANES)]
        holder = QWidget()
        column = QVBoxLayout(holder)
        for panel in self.panels:
            column.addWidget(panel)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.panes_dock = QDockWidget("Panes", self)
        self.panes_dock.setObjectName("panesDock")
        self.panes_dock.setWidget(scroll)
        self.panes_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                    | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.panes_dock)
        self.resizeDocks([self.panes_dock], [360], Qt.Orientation.Horizontal)

        self.actions_ = WindowActions(self)
        a = self.actions_
        self.source_menu = SourceMenu(a.open_file, a.open_folder, a.open_url, a.sample, a.refresh_cameras, self)
        self.source_button = make_source_button(self.source_menu)
        self.toolbar = QToolBar("Controls", self)
        self.toolbar.setObjectName("controlsToolbar")
        self.toolbar.setMovable(False)
        build_toolbar(self.toolbar, a, self.source_button)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        build_menus(self.menuBar(), a, self.source_menu, self.panes_dock.toggleViewAction())
        self.record_button = self.toolbar.widgetForAction(a.record)
        self.captures = CaptureControls(session, a.record, self.record_button, self.status, self.frame_view,
                                        self._output_folder, self)
        self.snapshots = self.captures.snapshots

        self._connect()
        a.loop.setChecked(settings.loop)
        a.hud.setChecked(settings.hud)
        self.session.pipeline.hud = settings.hud
        a.layouts[settings.layout].setChecked(True)
        a.devices.get(settings.device.split(":")[0], a.devices["auto"]).setChecked(True)
        a.set_playback_enabled(False)
        for panel, spec in zip(self.panels, settings.panes):
            panel.set_spec(spec)
        self._show_layout(settings.layout)

    # -- wiring ----------------------------------------------------------------------------------------------

    def _connect(self) -> None:
        a, s = self.actions_, self.session
        s.output_ready.connect(self._show_output)
        s.message.connect(self.status.show_message)
        s.pane_state.connect(lambda i, text, level: self.panels[i].set_state(text, level))
        s.pane_download.connect(lambda i, done, total: self.panels[i].set_download(done, total))
        s.pane_model.connect(self._on_pane_model)
        s.pane_spec_changed.connect(self._on_pane_spec_changed)
        s.sources.changed.connect(self._on_source_changed)
        self.frame_view.painted.connect(self._on_painted)
        self.frame_view.clicked.connect(self._on_view_clicked)
        self.source_menu.chosen.connect(self.open_source)
        for panel in self.panels:
            panel.spec_requested.connect(self._on_spec_requested)
            panel.options_changed.connect(self._on_options_changed)
            panel.open_model_requested.connect(self.open_model_file)

        a.open_file.triggered.connect(self._ask_media_file)
        a.open_folder.triggered.connect(self._ask_folder)
        a.open_url.triggered.connect(self._ask_url)
        a.open_model.triggered.connect(lambda: self.open_model_file(0))
        a.output_folder.triggered.connect(self._ask_output_folder)
        a.quit.triggered.connect(self.close)
        a.play_pause.triggered.connect(self.toggle_pause)
        a.step.triggered.connect(self.session.sources.step)
        a.loop.toggled.connect(self._on_loop_toggled)
        a.hud.toggled.connect(self._on_hud_toggled)
        a.layout_group.triggered.connect(lambda act: self.set_layout(int(act.data())))
        a.device_group.triggered.connect(lambda act: self.set_device(str(act.data())))
        a.snapshot.triggered.connect(self.snapshot)
        a.fullscreen.toggled.connect(self.set_fullscreen)
        a.leave_fullscreen.triggered.connect(lambda: a.fullscreen.setChecked(False))
        a.about.triggered.connect(lambda: QMessageBox.about(
            self, "About CNN Lens", "CNN Lens shows, live, what convolutional networks see.\n"
            "Frames never leave this machine."))

    # -- frames ----------------------------------------------------------------------------------------------

    def _show_output(self) -> None:
        item = self.session.take_output()
        if item is None:
            return
        self.frame_view.set_frame(item.output.composed, item)
        self.frames_shown += 1
        self.frame_shown.emit(item)

    def _on_painted(self, item: object, painted_s: float) -> None:
        self.session.note_painted(item, painted_s)
        output = getattr(item, "output", None)
        panes = getattr(output, "panes", ())
        if panes:
            rows = 2 if len(panes) == 4 else 1
            # Text is sized for a frame-sized pane; panes drawn smaller than their frame scale it down with them.
            frame_h = output.frame_wh[1] or panes[0].image.shape[0]
            self.session.fit_text_to_display(frame_h, self.frame_view.image_rect().height() / rows)
        if self.session.display_fps:
            self.status.set_speed(f"{self.session.display_fps:.1f} FPS · capture→display "
                                  f"{self.session.latency_ms:.0f} ms")

    # -- source ----------------------------------------------------------------------------------------------

    def open_source(self, choice: SourceChoice) -> None:
        """Switch the source (what the menu, dialogs and drops call); it is remembered once it shows frames."""
        self.session.sources.open(choice)

    def _ask_media_file(self) -> None:
        path = dialogs.ask_media_file(self, Path.home())
        if path:
            self.open_source(SourceChoice(path))

    def _ask_folder(self) -> None:
        path = dialogs.ask_folder(self, Path.home())
        if path:
            self.open_source(SourceChoice(path))

    def _ask_url(self) -> None:
        url = dialogs.ask_url(self)
        if url:
            self.open_source(SourceChoice(url))

    def _on_source_changed(self, status: SourceStatus) -> None:
        a = self.actions_
        self.source_button.setText(status.name)
        self.source_button.setToolTip(f"Source: {status.choice.describe()}")
        self.setWindowTitle(f"CNN Lens — {status.name}")
        a.set_playback_enabled(status.seekable and not status.is_live)
        a.set_playing(not status.paused)
        state = status.state.value if status.state is not CaptureState.RUNNING else "live" if status.is_live \
            else "playing"
        self.status.set_source(f"{status.name} · {state}")
        if status.state is CaptureState.RUNNING and status.choice.spec != self.settings.source:
            self.settings = replace(self.settings, source=status.choice.spec,
                                    source_options=dict(status.choice.options))
            self._persist()
        if status.state is CaptureState.RECONNECTING:
            self.frame_view.set_notice(f"{status.name}: reconnecting…")
        elif status.state is CaptureState.FAILED:
            self.frame_view.set_notice(f"{status.name}: {status.error or 'failed'}")
        else:
            self.frame_view.set_notice(None)

    def toggle_pause(self) -> None:
        capture = self.session.sources.capture
        if capture is not None and self.actions_.play_pause.isEnabled():
            self.session.sources.set_paused(not capture.paused)

    def _on_loop_toggled(self, loop: bool) -> None:
        self.session.sources.set_loop(loop)
        self.settings = replace(self.settings, loop=loop)
        self._persist()

    def _on_hud_toggled(self, shown: bool) -> None:
        self.session.pipeline.hud = shown  # read by the inference thread at the next frame
        self.settings = replace(self.settings, hud=shown)
        self._persist()

    # -- panes -----------------------------------------------------------------------------------------------

    def set_layout(self, layout: int) -> None:
        """Show 1, 2 or 4 panes."""
        self.actions_.layouts[layout].setChecked(True)
        self._show_layout(layout)
        self.session.set_layout(layout)
        self.settings = replace(self.settings, layout=layout)
        self._persist()

    def set_device(self, device: str) -> None:
        """Reload the models on `device` (auto, cpu, cuda, mps); a device this machine lacks says so per pane."""
        self.session.set_device(device)
        self.settings = replace(self.settings, device=device)
        self._persist()
        self.status.show_message(f"Reloading the models on {device}…")

    def _show_layout(self, layout: int) -> None:
        for panel in self.panels:
            panel.set_title(layout)
            panel.setVisible(panel.index < layout)

    def _on_spec_requested(self, index: int, spec: PaneSpec) -> None:
        self.session.set_pane(index, spec)
        self._remember_pane(index, spec)

    def _on_options_changed(self, index: int, options) -> None:
        self.session.set_options(index, options)
        self._remember_pane(index, replace(self.panels[index].spec, options=options))

    def _on_pane_spec_changed(self, index: int, spec: PaneSpec) -> None:
        self.panels[index].set_spec(spec)
        self._remember_pane(index, spec)

    def _on_pane_model(self, index: int, info: PaneModelInfo) -> None:
        panel = self.panels[index]
        panel.set_class_names(info.class_names)
        controls = ViewControls(info.runner, info.class_names) if info.runner is not None else None
        if controls is not None and controls.empty:
            controls.deleteLater()
            controls = None
        if controls is not None:
            controls.failed.connect(lambda why: self.status.show_message(why, Level.ERROR))
        panel.set_view_controls(controls)
        if info.untrained:
            panel.set_state(f"Running {info.label}: random weights, its output is not a prediction",
                            Level.WARNING)

    def _on_view_clicked(self, x: float, y: float) -> None:
        """A click on the picture goes to the pane under it, in that pane's own pixels (feature-map cells,
        filter tiles, the lesson's patch)."""
        item = self.frame_view.current_tag
        output = getattr(item, "output", None)
        if output is None or not output.panes:
            return
        composed_wh = (output.composed.shape[1], output.composed.shape[0])
        index = pane_at(len(output.panes), composed_wh, x, y)
        if index is None or self.session.pane_info[index] is None:
            return
        runner = self.session.pane_info[index].runner
        if not hasattr(runner, "select_at"):
            return
        pane_h, pane_w = output.panes[index].image.shape[:2]
        shown = letterbox_rect((pane_w, pane_h), pane_rects(len(output.panes), composed_wh)[index])
        if not shown.contains(x, y):
            return
        local = ((x - shown.x) * pane_w / shown.w, (y - shown.y) * pane_h / shown.h)
        try:
            runner.select_at(*local)
        except (CnnLensError, ValueError) as exc:
            self.status.show_message(str(exc), Level.ERROR)
        self.session.worker.request_reprocess()  # a paused picture shows the selection at once

    def _remember_pane(self, index: int, spec: PaneSpec) -> None:
        self.settings = self.settings.with_pane(index, spec)
        self._persist()

    def open_model_file(self, index: int, path: str | None = None) -> None:
        """Load a model file into pane `index` (asks for the file when `path` is None)."""
        path = path or dialogs.ask_model_file(self, Path.home())
        if not path:
            return
        self.choices.add_user_file(Path(path))
        self.session.load_file_into_pane(index, path)
        spec = self.session.specs[index]
        if spec is not None:
            self.panels[index].set_spec(spec)
            self._remember_pane(index, spec)

    # -- record and snapshot ---------------------------------------------------------------------------------

    def _output_folder(self) -> Path:
        folder = self.settings.output_dir
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _ask_output_folder(self) -> None:
        path = dialogs.ask_folder(self, self.settings.output_dir, "Choose where recordings and snapshots go")
        if path:
            self.set_output_dir(Path(path))

    def set_output_dir(self, folder: Path) -> None:
        self.settings = replace(self.settings, output_dir=Path(folder))
        self._persist()
        self.status.show_message(f"Recordings and snapshots go to {folder}")

    def start_recording(self, path: Path | None = None) -> Path | None:
        return self.captures.start_recording(path)

    def stop_recording(self) -> Path | None:
        return self.captures.stop_recording()

    def snapshot(self) -> Path | None:
        return self.captures.snapshot()

    # -- window ----------------------------------------------------------------------------------------------

    def set_fullscreen(self, on: bool) -> None:
        """Full screen shows only the picture; Esc or F11 brings the controls back."""
        self.actions_.leave_fullscreen.setEnabled(on)
        if on:
            self._fullscreen_hidden = [w for w in (self.toolbar, self.panes_dock, self.status, self.menuBar())
                                       if w.isVisible()]
            for widget in self._fullscreen_hidden:
                widget.hide()
            self.showFullScreen()
        else:
            for widget in self._fullscreen_hidden:
                widget.show()
            self._fullscreen_hidden = []
            self.showNormal()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt name)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt name)
        drops.handle_drop(self, event)

    def _persist(self) -> None:
        if self.store is not None:
            self.store.save(self.settings)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt name)
        if self.store is not None:
            self.store.save(self.settings)
            self.store.save_geometry(self.saveGeometry(), self.saveState())
        self.status.show_message("Closing…")
        for panel in self.panels:  # a Teach head still training uses its pane's model: let it finish first
            if isinstance(panel.view_controls, ViewControls):
                panel.view_controls.wait_finished()
        self.session.close()
        self.snapshots.wait_finished()
        for call in self.background_calls:
            call.wait()
        super().closeEvent(event)
        self.closed.emit()
