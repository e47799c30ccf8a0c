"""Output names that never overwrite, and PNG snapshots."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from desktop_app.core.errors import RecordingError
from desktop_app.core.outputs import unique_output_path, write_png


def test_names_are_timestamped_and_never_reused(tmp_path):
    paths = [unique_output_path(tmp_path, "recording", ".mp4") for _ in range(3)]
    assert len(set(paths)) == 3
    assert all(p.exists() and p.parent == tmp_path for p in paths)
    assert re.fullmatch(r"recording-\d{8}-\d{6}\.mp4", paths[0].name)
    assert re.fullmatch(r"recording-\d{8}-\d{6}-2\.mp4", paths[1].name)


def test_an_existing_file_is_never_overwritten(tmp_path):
    first = unique_output_path(tmp_path, "snap", "png")
    first.write_bytes(b"precious")
    second = unique_output_path(tmp_path, "snap", "png")
    assert second != first and second.suffix == ".png"
    assert first.read_bytes() == b"precious"


@pytest.mark.parametrize(("make_folder", "reason"), [
    (lambda tmp: tmp / "missing", "does not exist"),
    (lambda tmp: _file(tmp / "file.txt"), "not a folder"),
])
def test_bad_folder_is_a_recording_error(tmp_path, make_folder, reason):
    with pytest.raises(RecordingError, match=reason):
        unique_output_path(make_folder(tmp_path), "recording", ".mp4")


def test_snapshot_round_trip_with_unicode_name(tmp_path):
    image = np.zeros((6, 8, 3), np.uint8)
    image[2, 3] = (10, 20, 250)
    path = write_png(tmp_path / "vue-été.png", image)
    decoded = cv2.imdecode(np.fromfile(str(path), np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(decoded, image)
    assert [p.name for p in tmp_path.iterdir()] == ["vue-été.png"], "no temporary file is left behind"


def test_snapshot_into_a_reserved_name_replaces_the_empty_placeholder(tmp_path):
    path = unique_output_path(tmp_path, "snapshot", ".png")
    write_png(path, np.full((2, 2, 3), 9, np.uint8))
    assert cv2.imdecode(np.fromfile(str(path), np.uint8), cv2.IMREAD_COLOR)[0, 0, 0] == 9


def test_snapshot_to_missing_folder_is_a_recording_error(tmp_path):
    with pytest.raises(RecordingError, match="does not exist"):
        write_png(tmp_path / "nope" / "x.png", np.zeros((2, 2, 3), np.uint8))


def _file(path):
    path.write_text("x")
    return path
