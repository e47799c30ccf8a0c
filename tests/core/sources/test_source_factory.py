"""`open_source`: which spec opens which source, and what the user reads when it cannot."""

from __future__ import annotations

import pytest
from source_media import level_frame, write_image

from desktop_app.core.errors import SourceError
from desktop_app.core.sources import (
    CameraSource,
    FolderSource,
    ImageSource,
    SampleSource,
    StreamSource,
    VideoFileSource,
    create_source,
    open_source,
)


@pytest.mark.parametrize(
    ("spec", "expected_type", "expected_index"),
    [("camera:0", CameraSource, 0), ("0", CameraSource, 0), ("2", CameraSource, 2), ("camera:11", CameraSource, 11),
     ("Camera", CameraSource, 0), ("cam:3", CameraSource, 3)],
)
def test_camera_specs(spec, expected_type, expected_index):
    source = create_source(spec)
    assert isinstance(source, expected_type) and source.index == expected_index


@pytest.mark.parametrize(
    ("spec", "expected_type"),
    [("sample", SampleSource), (" SAMPLE ", SampleSource), ("rtsp://cam.local:554/live", StreamSource),
     ("http://127.0.0.1:8080/video.mjpg", StreamSource), ("https://example.org/live.m3u8", StreamSource)],
)
def test_non_file_specs(spec, expected_type):
    assert isinstance(create_source(spec), expected_type)


def test_paths_pick_image_folder_or_video(tmp_path, clip_path):
    image = write_image(tmp_path / "still.png", level_frame(5))
    assert isinstance(create_source(str(image)), ImageSource)
    assert isinstance(create_source(str(tmp_path)), FolderSource)
    assert isinstance(create_source(str(clip_path)), VideoFileSource)
    assert isinstance(create_source(f"file://{clip_path}"), VideoFileSource)


def test_open_source_returns_an_open_source_usable_as_context_manager(clip_path):
    with open_source(str(clip_path)) as source:
        assert source.is_open
        assert source.read().frame_index == 0
    assert not source.is_open


def test_options_for_other_source_types_are_ignored(clip_path):
    # A front end passes the same options whatever the user chose; duration_s only means something to the sample.
    with open_source(str(clip_path), duration_s=3.0) as source:
        assert len(list(source)) == 10
    with open_source("sample", duration_s=0.2, repeat=True) as sample:
        assert sample.frame_count == 6


@pytest.mark.parametrize(
    ("make_spec", "reason", "names"),
    [
        (lambda tmp: str(tmp / "missing.mp4"), "no such file or folder", "missing.mp4"),
        (lambda tmp: _text_file(tmp / "fake.jpg"), "is not an image", "fake.jpg"),
        (lambda tmp: _text_file(tmp / "fake.mp4"), "is not a video", "fake.mp4"),
        (lambda tmp: _empty_folder(tmp / "empty"), "contains no images", "empty"),
        (lambda tmp: "ftp://example.org/video.mp4", "unknown URL scheme 'ftp'", "ftp://example.org/video.mp4"),
        (lambda tmp: "rtsp://", "has no host", "rtsp://"),
        (lambda tmp: "http://host:notaport/x", "not a valid URL", "http://host:notaport/x"),
        (lambda tmp: "camera:7", "does not exist", "camera at index 7"),
        (lambda tmp: "camera:front", "camera number must be a whole number", "camera:front"),
        (lambda tmp: "   ", "No source given", ""),
    ],
)
def test_bad_sources_raise_source_error_naming_source_and_reason(tmp_path, make_spec, reason, names):
    with pytest.raises(SourceError, match=reason) as caught:
        open_source(make_spec(tmp_path))
    assert names in str(caught.value)


def _text_file(path):
    path.write_text("just some text\n")
    return str(path)


def _empty_folder(path):
    path.mkdir()
    return str(path)
