"""Image decoding: every depth and channel layout ends as (H, W, 3) BGR uint8; non-images are refused."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.core.errors import SourceError
from desktop_app.core.sources.images import read_image, to_bgr_uint8
from source_media import write_image


@pytest.mark.parametrize(
    ("name", "stored", "expected_pixel"),
    [
        ("gray.png", np.full((4, 6), 200, np.uint8), (200, 200, 200)),
        ("deep.png", np.full((4, 6), 65535, np.uint16), (255, 255, 255)),
        ("deep_mid.png", np.full((4, 6, 3), 257 * 100, np.uint16), (100, 100, 100)),
        ("opaque.png", np.dstack([np.full((4, 6, 3), (10, 20, 30), np.uint8), np.full((4, 6), 255, np.uint8)]),
         (10, 20, 30)),
        ("clear.png", np.dstack([np.full((4, 6, 3), (10, 20, 30), np.uint8), np.zeros((4, 6), np.uint8)]),
         (255, 255, 255)),
        ("tiny.png", np.array([[[1, 2, 3]]], np.uint8), (1, 2, 3)),
        ("tiny.bmp", np.array([[[7, 8, 9]]], np.uint8), (7, 8, 9)),
    ],
)
def test_read_image_converts_to_bgr_uint8(tmp_path, name, stored, expected_pixel):
    image = read_image(write_image(tmp_path / name, stored))
    assert image.dtype == np.uint8
    assert image.shape == (*stored.shape[:2], 3)
    assert image.flags.c_contiguous
    assert tuple(int(v) for v in image[0, 0]) == expected_pixel


def test_half_transparent_pixel_is_blended_over_white():
    rgba = np.array([[[0, 0, 0, 128]]], np.uint8)
    assert tuple(int(v) for v in to_bgr_uint8(rgba)[0, 0]) == (127, 127, 127)


def test_float_image_in_unit_range_is_scaled():
    assert int(to_bgr_uint8(np.full((2, 2), 0.5, np.float32))[0, 0, 0]) == 127


def test_read_image_handles_non_ascii_path(tmp_path):
    path = write_image(tmp_path / "photo-été-写真.png", np.full((3, 5, 3), 42, np.uint8))
    assert read_image(path).shape == (3, 5, 3)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.jpg", b"this is just text, not a picture\n", "is not an image"),
        ("empty.png", b"", "is not an image"),
        ("garbage.png", bytes(range(256)) * 4, "is not an image"),
    ],
)
def test_non_images_raise_source_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message) as caught:
        read_image(path)
    assert name in str(caught.value)


def test_missing_image_names_the_file(tmp_path):
    with pytest.raises(SourceError, match="does not exist") as caught:
        read_image(tmp_path / "gone.png")
    assert "gone.png" in str(caught.value)


def test_huge_image_is_scaled_down_to_the_side_limit(tmp_path):
    import cv2

    from desktop_app.core.sources.images import MAX_IMAGE_SIDE

    path = tmp_path / "huge.png"
    cv2.imwrite(str(path), np.zeros((MAX_IMAGE_SIDE * 2 + 10, 300, 3), np.uint8))
    image = read_image(path)
    assert image.shape[0] == MAX_IMAGE_SIDE and image.shape[1] == 150 and image.dtype == np.uint8
