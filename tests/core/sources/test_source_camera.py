"""Cameras: enumeration is quick and quiet when there are none; a missing index is a clear error."""

from __future__ import annotations

import time

import pytest

from desktop_app.core.errors import SourceError
from desktop_app.core.sources import CameraInfo, CameraSource, list_cameras
from desktop_app.core.sources.camera import _camera_name


def test_list_cameras_is_fast_and_silent(capfd):
    started = time.monotonic()
    cameras = list_cameras(max_index=8)
    elapsed = time.monotonic() - started
    assert all(isinstance(c, CameraInfo) for c in cameras)
    assert elapsed < 2.0
    captured = capfd.readouterr()
    assert "WARN" not in captured.err and "can't open camera" not in captured.err


@pytest.mark.parametrize("index", [5, 63])
def test_missing_camera_index_is_a_source_error(index, capfd):
    with pytest.raises(SourceError, match=f"No camera at index {index}"):
        CameraSource(index).open()
    assert "WARN" not in capfd.readouterr().err


def test_negative_index_is_refused():
    with pytest.raises(ValueError, match="index must be >= 0"):
        CameraSource(-1)


def test_camera_info_spec_opens_the_same_camera():
    info = CameraInfo(index=3, name="USB Cam (3)", resolution_wh=(1280, 720), fps=30.0, backend="V4L2")
    assert info.spec == "camera:3"


def test_camera_name_falls_back_to_index():
    assert _camera_name(97) == "Camera 97"
