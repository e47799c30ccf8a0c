"""Start-up as a user meets it: the first frame is on screen fast, and full screen comes and goes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow

FIRST_FRAME_BUDGET_S = 3.0


def test_first_frame_is_on_screen_within_three_seconds_of_launch(tmp_path):
    env = dict(os.environ, CNNLENS_HOME=str(tmp_path / "home"), QT_QPA_PLATFORM="offscreen")
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "desktop_app.cli", "-v", "--source", "sample", "--pane", "pose:yolo11n-pose",
         "--screenshot", str(tmp_path / "shot.png"), "--frames", "1"],
        stderr=subprocess.PIPE, text=True, env=env)
    first_frame_s = None
    lines = []
    for line in process.stderr:
        lines.append(line)
        if first_frame_s is None and "first frame on screen" in line:
            first_frame_s = time.monotonic() - started
    assert process.wait(timeout=300) == 0, "".join(lines[-20:])
    assert first_frame_s is not None, "".join(lines[-20:])
    # From process start (interpreter, imports, window) to a painted frame; models load afterwards.
    assert first_frame_s <= FIRST_FRAME_BUDGET_S
    assert (tmp_path / "shot.png").stat().st_size > 0


def test_full_screen_hides_the_controls_and_escape_brings_them_back(qtbot, make_window):
    window = make_window(layout=1)
    window.actions_.fullscreen.trigger()
    assert window.actions_.fullscreen.isChecked()
    assert not window.toolbar.isVisible() and not window.panes_dock.isVisible()
    assert window.actions_.leave_fullscreen.isEnabled()
    window.actions_.leave_fullscreen.trigger()
    assert not window.actions_.fullscreen.isChecked()
    assert window.toolbar.isVisible() and window.panes_dock.isVisible()
    assert not window.isFullScreen()
