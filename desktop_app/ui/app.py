"""Start-up of the desktop app: read settings and command-line options, show the window at once, then open the
source and load models in the background (torch and Ultralytics are imported off the UI thread), so the first
frame is on screen within a couple of seconds."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from desktop_app.core.env import settle_opencv_threads

log = logging.getLogger(__name__)


def _keep_qt_plugins_of_pyside() -> None:
    """Undo what the GUI build of OpenCV does at import: it points Qt at its own (Qt 5) platform plugins and
    at a font folder that does not exist, which breaks or degrades PySide6 (Qt 6) on Linux."""
    import cv2

    cv2_dir = os.path.dirname(os.path.abspath(cv2.__file__))
    for name in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR"):
        value = os.environ.get(name)
        if value and os.path.abspath(value).startswith(cv2_dir):
            del os.environ[name]


_keep_qt_plugins_of_pyside()
settle_opencv_threads()  # before any thread runs OpenCV (see its docstring)

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402 - Qt must see the cleaned environment
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop_app.core.pipeline import PaneSpec  # noqa: E402
from desktop_app.ui.background import BackgroundCall  # noqa: E402
from desktop_app.ui.choices import ModelChoices  # noqa: E402
from desktop_app.ui.main_window import MainWindow  # noqa: E402
from desktop_app.ui.scripted import ScriptedRun  # noqa: E402
from desktop_app.ui.session import LiveSession  # noqa: E402
from desktop_app.ui.settings import (DEFAULT_PANES, MAX_PANES, SAMPLE_SOURCE, SessionSettings,  # noqa: E402
                                     SettingsStore, normalise_panes)
from desktop_app.ui.source_menu import SourceChoice  # noqa: E402


@dataclass(frozen=True, slots=True)
class StartConfig:
    """How the window starts: settings to apply, whether to persist changes, whether a camera found at start
    may replace the sample (only when the user asked for no particular source), and whether panes that fail
    to load fall back to the defaults (saved panes do; panes named on the command line do not)."""

    settings: SessionSettings
    persist: bool = True
    prefer_camera: bool = False
    fallback_panes: bool = True  # a saved pane that no longer loads falls back to its default


TASK_KINDS = {
    "classify": "top-5 classes with probability bars",
    "detect": "boxes with class and confidence",
    "segment": "translucent instance masks with outlines",
    "pose": "keypoints and skeleton",
}


def _all_pane_kinds() -> dict[str, str]:
    # Importing the insight views pulls in torch: done on a background thread, the panels grow afterwards.
    from desktop_app.core.panes import pane_kinds

    return pane_kinds()


def start_config(args: argparse.Namespace, store: SettingsStore) -> StartConfig:
    """Saved settings overridden by the command line (`--source`, `--layout`, `--pane`, `--device`).

    Raises ValueError for malformed `--pane` values, naming the closest valid task.
    """
    from desktop_app.core.panes import validate_kind

    saved = store.has_saved_session()
    settings = store.load() if saved else SessionSettings()
    source = getattr(args, "source", None)
    if source:
        settings = replace(settings, source=source, source_options={})
    panes_text = getattr(args, "pane", None) or []
    if len(panes_text) > MAX_PANES:
        raise ValueError(f"at most {MAX_PANES} panes, got {len(panes_text)}")
    if panes_text:
        specs = [PaneSpec.parse(text) for text in panes_text]
        for spec in specs:
            validate_kind(spec.task)
        settings = replace(settings, panes=normalise_panes(specs))
    layout = getattr(args, "layout", None)
    if layout is None and panes_text:
        layout = next(n for n in (1, 2, 4) if n >= len(panes_text))
    if layout is not None:
        settings = replace(settings, layout=int(layout))
    device = getattr(args, "device", None)
    if device:
        settings = replace(settings, device=device)
    scripted = getattr(args, "frames", None) is not None and bool(
        getattr(args, "screenshot", None) or getattr(args, "record", None))
    return StartConfig(settings, persist=not scripted, prefer_camera=not source and not saved,
                       fallback_panes=not panes_text)


def ensure_application() -> QApplication:
    """The QApplication (created on first use)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
    app.setApplicationName("CNN Lens")
    app.setOrganizationName("CNN Lens")
    app.setApplicationDisplayName("CNN Lens")
    return app


def launch(config: StartConfig, store: SettingsStore | None = None) -> MainWindow:
    """Build, show and start the window. Models and the source start right after the first paint."""
    ensure_application()
    store = store if store is not None else SettingsStore()
    settings = config.settings
    session = LiveSession(device=settings.device)
    choices = ModelChoices(online=False)
    window = MainWindow(session, store if config.persist else None, settings, choices, dict(TASK_KINDS))
    geometry, state = store.geometry()
    if geometry is None or not window.restoreGeometry(geometry):
        window.resize(1360, 820)
    if state is not None:
        window.restoreState(state)
    window.show()
    session.start()

    def begin() -> None:
        # Runs once the window is on screen: opening a camera or loading a model never delays that.
        session.sources.set_loop(settings.loop)
        session.layout = settings.layout
        session.set_layout(settings.layout)
        for index, spec in enumerate(settings.panes):
            fallback = DEFAULT_PANES[index] if config.fallback_panes and spec != DEFAULT_PANES[index] else None
            session.configure_pane(index, spec, fallback=fallback)
        if not session.sources.open(SourceChoice(settings.source, dict(settings.source_options))):
            window.status.show_message(f"Saved source {settings.source!r} is not available; showing the sample",
                                       "warning")
            window.open_source(SourceChoice(SAMPLE_SOURCE))
        _start_background_checks(window, prefer_camera=config.prefer_camera)

    QTimer.singleShot(0, begin)
    return window


def _start_background_checks(window: MainWindow, prefer_camera: bool) -> None:
    """Look for cameras (and switch to the first one if the user asked for nothing else) and find out whether
    model downloads can work, without blocking the UI."""
    from desktop_app.core.models import catalog
    from desktop_app.core.sources import list_cameras

    def on_cameras(cameras) -> None:
        window.source_menu.set_cameras(cameras)
        if prefer_camera and cameras and window.session.sources.choice == SourceChoice(SAMPLE_SOURCE):
            window.status.show_message(f"Found {cameras[0].name}; showing it (the sample stays in the Source menu)")
            window.open_source(SourceChoice(cameras[0].spec))

    def on_online(online) -> None:
        if window.choices.set_online(bool(online)):
            for panel in window.panels:
                panel.refresh_models()

    def on_kinds(kinds) -> None:
        for panel in window.panels:
            panel.add_kinds(kinds)

    scan = BackgroundCall("camera-scan", list_cameras, window)
    scan.done.connect(on_cameras)
    scan.failed.connect(lambda why: window.source_menu.set_cameras([]))
    probe = BackgroundCall("online-probe", catalog.is_online, window)
    probe.done.connect(on_online)
    views = BackgroundCall("pane-kinds", _all_pane_kinds, window)
    views.done.connect(on_kinds)
    window.background_calls = [scan.start(), probe.start(), views.start()]
    window.actions_.refresh_cameras.triggered.connect(lambda: _rescan(window))


def _rescan(window: MainWindow) -> None:
    from desktop_app.core.sources import list_cameras

    window.source_menu.set_searching()
    scan = BackgroundCall("camera-scan", list_cameras, window)
    scan.done.connect(window.source_menu.set_cameras)
    window.background_calls.append(scan.start())


def run_gui(args: argparse.Namespace) -> int:
    """`cnnlens` with no command: open the window (scripted when `--frames` comes with `--screenshot` or
    `--record`) and return the exit code."""
    started = time.perf_counter()
    owns_app = QApplication.instance() is None
    app = ensure_application()
    store = SettingsStore()
    config = start_config(args, store)
    window = launch(config, store)
    window.frame_view.painted.connect(lambda *_: _log_first_paint(window, started))
    # A local loop when embedded (tests, a host application): quitting the application's own loop from
    # inside would leave the host's event processing stopped.
    loop = None if owns_app else QEventLoop()
    finish = app.exit if loop is None else loop.exit
    frames = getattr(args, "frames", None)
    if frames is not None and (args.screenshot or args.record):
        # Documentation screenshots and recordings: as large as the screen allows, up to Full HD.
        screen = window.screen().availableGeometry()
        window.resize(min(1920, screen.width()), min(1080, screen.height()))
        ScriptedRun(window, frames, Path(args.screenshot) if args.screenshot else None,
                    Path(args.record) if args.record else None, quit=finish)
    else:
        window.closed.connect(lambda: finish(0))
    return int(app.exec() if loop is None else loop.exec())


def _log_first_paint(window: MainWindow, started: float) -> None:
    if window.first_paint_s is None:
        window.first_paint_s = time.perf_counter() - started
        log.info("first frame on screen %.2f s after start", window.first_paint_s)
