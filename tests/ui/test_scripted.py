"""Scripted mode: open with a given configuration, record and screenshot after N frames, quit with 0."""

from __future__ import annotations

import argparse

import av
import pytest
from PySide6.QtGui import QImage

from desktop_app.ui.app import run_gui

pytestmark = pytest.mark.slow


def _args(**overrides) -> argparse.Namespace:
    values = dict(source="sample", layout=None, pane=None, record=None, screenshot=None, frames=None, device=None)
    values.update(overrides)
    return argparse.Namespace(**values)


def test_scripted_run_records_screenshots_and_exits_zero(qapp, tmp_path):
    shot, clip = tmp_path / "shot.png", tmp_path / "run.mp4"
    code = run_gui(_args(layout=2, pane=["pose:yolo11n-pose", "detect:yolo11n.yaml"], screenshot=str(shot),
                         record=str(clip), frames=4))
    assert code == 0
    image = QImage(str(shot))
    assert not image.isNull() and image.width() >= 640
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert len(list(container.decode(stream))) >= 2


def test_scripted_run_with_a_model_that_cannot_load_exits_non_zero(qapp, tmp_path):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"junk")
    code = run_gui(_args(layout=1, pane=[f"pose:{broken}"], screenshot=str(tmp_path / "s.png"), frames=2))
    assert code != 0


@pytest.mark.parametrize("pane, hint", [("pose", "TASK:MODEL"), ("psoe:yolo11n-pose", "pose")])
def test_malformed_panes_are_rejected_with_a_hint(qapp, pane, hint):
    with pytest.raises(ValueError, match=hint):
        run_gui(_args(pane=[pane], frames=1, screenshot="unused.png"))
