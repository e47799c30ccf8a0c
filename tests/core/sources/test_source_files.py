"""Single images and folders of images."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from source_media import level_frame, write_image

from desktop_app.core.errors import SourceError
from desktop_app.core.sources import FolderSource, ImageSource


def test_image_source_gives_one_frame_then_ends(tmp_path):
    path = write_image(tmp_path / "one.png", level_frame(77))
    with ImageSource(path) as source:
        frames = list(source)
    assert [f.frame_index for f in frames] == [0]
    assert source.frame_count == 1 and source.fps is None
    assert frames[0].image.shape == (48, 64, 3) and int(frames[0].image[0, 0, 0]) == 77


def test_repeating_image_source_keeps_delivering_at_its_rate(tmp_path):
    path = write_image(tmp_path / "one.png", level_frame(77))
    with ImageSource(path, repeat=True, fps=10.0) as source:
        frames = [source.read() for _ in range(5)]
    assert [f.frame_index for f in frames] == [0, 1, 2, 3, 4]
    assert [f.timestamp_s for f in frames] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert source.frame_count is None


def test_image_source_frames_do_not_share_pixels(tmp_path):
    path = write_image(tmp_path / "one.png", level_frame(77))
    with ImageSource(path, repeat=True) as source:
        first = source.read()
        first.image[:] = 0  # a consumer that draws in place
        assert int(source.read().image[0, 0, 0]) == 77


def test_folder_plays_images_in_natural_order(tmp_path):
    for number, level in [(10, 100), (2, 20), (1, 10)]:
        write_image(tmp_path / f"frame{number}.png", level_frame(level))
    (tmp_path / "readme.txt").write_text("not an image, ignored")
    with FolderSource(tmp_path, fps=2.0) as source:
        frames = list(source)
    assert [int(f.image[0, 0, 0]) for f in frames] == [10, 20, 100]
    assert [f.timestamp_s for f in frames] == pytest.approx([0.0, 0.5, 1.0])
    assert source.frame_count == 3


def test_folder_skips_unreadable_images_with_a_warning(tmp_path, caplog):
    write_image(tmp_path / "a.png", level_frame(10))
    (tmp_path / "b.jpg").write_text("a text file renamed to .jpg")
    write_image(tmp_path / "c.png", level_frame(30))
    with caplog.at_level(logging.WARNING), FolderSource(tmp_path) as source:
        frames = list(source)
    assert [int(f.image[0, 0, 0]) for f in frames] == [10, 30]
    assert [f.frame_index for f in frames] == [0, 2]  # the position in the folder, gap included
    assert any("b.jpg" in record.getMessage() for record in caplog.records)


def test_folder_of_only_broken_images_is_an_error(tmp_path):
    (tmp_path / "x.png").write_text("nope")
    with FolderSource(tmp_path) as source, pytest.raises(SourceError, match="None of the 1 images"):
        source.read()


def test_empty_folder_is_refused_with_its_name(tmp_path):
    folder = tmp_path / "holiday"
    folder.mkdir()
    (folder / "notes.txt").write_text("no pictures here")
    with pytest.raises(SourceError, match="contains no images") as caught:
        FolderSource(folder).open()
    assert "holiday" in str(caught.value)


def test_folder_seek_and_rewind(tmp_path):
    for index in range(4):
        write_image(tmp_path / f"{index}.png", level_frame(10 * index))
    with FolderSource(tmp_path) as source:
        source.seek(2)
        assert source.read().frame_index == 2
        source.rewind()
        assert source.read().frame_index == 0
        source.seek(99)
        assert source.read().frame_index == 3
        assert source.read() is None


def test_mixed_sizes_and_depths_all_come_out_bgr_uint8(tmp_path):
    write_image(tmp_path / "1.png", np.zeros((1, 1), np.uint8))
    write_image(tmp_path / "2.png", np.full((5, 7, 4), 255, np.uint8))
    write_image(tmp_path / "3.png", np.full((3, 3, 3), 1000, np.uint16))
    with FolderSource(tmp_path) as source:
        shapes = [(f.image.shape, f.image.dtype) for f in source]
    assert shapes == [((1, 1, 3), np.uint8), ((5, 7, 3), np.uint8), ((3, 3, 3), np.uint8)]
