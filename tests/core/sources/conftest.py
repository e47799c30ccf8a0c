"""Fixtures for the source tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from source_media import write_mjpeg_clip


@pytest.fixture
def clip_path(tmp_path: Path) -> Path:
    """A 10-frame, 25 fps MJPEG clip whose frame i has grey level 20*i."""
    return write_mjpeg_clip(tmp_path / "clip.avi", 10)
