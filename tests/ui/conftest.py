"""Fixtures that open the real window offscreen on the sample source, with fast, offline models."""

from __future__ import annotations

from pathlib import Path

import pytest
from ui_helpers import FAST_PANES

@pytest.fixture
def make_window(qtbot, tmp_path: Path):
    """`make_window(layout=1, panes=FAST_PANES, source="sample", persist=True)` -> a shown, running MainWindow."""
    from desktop_app.ui.app import StartConfig, launch
    from desktop_app.ui.settings import SessionSettings, SettingsStore

    windows = []

    def make(layout: int = 1, panes=FAST_PANES, source: str = "sample", persist: bool = True,
             settings_path: Path | None = None):
        settings = SessionSettings(source=source, layout=layout, panes=tuple(panes), output_dir=tmp_path / "out")
        store = SettingsStore(settings_path or tmp_path / "settings.ini")
        window = launch(StartConfig(settings, persist=persist), store)
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()

