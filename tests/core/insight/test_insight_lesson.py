"""The convolution / padding / pooling / stride panel: numbers a student can check by hand."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.core.insight.lesson import (
    LessonKernel,
    Padding,
    conv_lesson,
    correlate2d,
    max_pool2d,
    render_lesson,
)

RAMP = np.arange(16, dtype=np.float32).reshape(4, 4)  # rows 0-3, 4-7, 8-11, 12-15


@pytest.mark.parametrize(
    ("kernel", "padding", "stride", "expected"),
    [
        # sobel x on a ramp that grows by 1 to the right: every valid window sees (1+2+1) * 2 = 8
        (LessonKernel.SOBEL_X, Padding.VALID, 1, [[8, 8], [8, 8]]),
        # sobel y: the ramp grows by 4 per row -> (1+2+1) * 8 = 32
        (LessonKernel.SOBEL_Y, Padding.VALID, 1, [[32, 32], [32, 32]]),
        # blur of a linear ramp is the ramp's value at the window centre
        (LessonKernel.BLUR, Padding.VALID, 1, [[5, 6], [9, 10]]),
        # same padding (zero border), stride 2: windows start at padded (0,0), (0,2), (2,0), (2,2), e.g.
        # [[0,0,0],[0,0,1],[0,4,5]] -> 1*2 + 5*1 = 7;  [[0,4,5],[0,8,9],[0,12,13]] -> 5 + 2*9 + 13 = 36
        (LessonKernel.SOBEL_X, Padding.SAME, 2, [[7, 6], [36, 8]]),
    ],
)
def test_correlate2d_by_hand(kernel, padding, stride, expected):
    out = correlate2d(RAMP, kernel.weights, padding, stride)
    assert np.allclose(out, expected, atol=1e-4)


def test_max_pool_on_the_articles_example():
    feature_map = np.array([[1, 3, 2, 8], [4, 2, 1, 5], [6, 1, 9, 3], [2, 5, 7, 2]], np.float32)
    assert max_pool2d(feature_map).tolist() == [[4, 8], [6, 9]]


@pytest.mark.parametrize(
    ("title", "shape"),
    [
        ("Input", (8, 8)),
        ("Kernel", (3, 3)),
        ("Conv, same", (8, 8)),
        ("Conv, valid", (6, 6)),
        ("Max pool", (4, 4)),
        ("Conv, stride 2", (4, 4)),
    ],
)
def test_lesson_shapes(bus_image, title, shape):
    lesson = conv_lesson(bus_image, (400, 600), LessonKernel.SHARPEN)
    assert lesson.stage(title).shape == shape


def test_lesson_patch_is_the_grey_frame_around_the_point():
    frame = np.zeros((40, 60, 3), np.uint8)
    frame[:, 30:] = (0, 0, 200)  # red on the right half: grey 0.299 * 200 = 60
    lesson = conv_lesson(frame, (30, 20), LessonKernel.SOBEL_X)
    assert lesson.patch_xyxy == (26, 16, 34, 24)
    patch = lesson.stage("Input").values
    assert patch[:, :4].max() == 0 and patch[:, 4:].min() == 60
    valid = lesson.stage("Conv, valid").values
    # the vertical edge sits between patch columns 3 and 4: valid columns 2 and 3 see it, the rest is flat
    assert np.all(valid[:, [2, 3]] == 240) and np.all(valid[:, [0, 1, 4, 5]] == 0)
    same = lesson.stage("Conv, same").values
    assert same[0, 0] == 0 and same[0, 7] < 0  # zero padding makes a fake edge at the right border
    assert lesson.stage("Max pool").values.max() == 240


def test_patch_near_the_border_moves_inside_the_frame():
    frame = np.zeros((20, 20, 3), np.uint8)
    assert conv_lesson(frame, (0, 19)).patch_xyxy == (0, 12, 8, 20)


def test_render_lesson_draws_every_stage(bus_image):
    lesson = conv_lesson(bus_image, (400, 600), LessonKernel.EDGE)
    panel = render_lesson(lesson, cell_px=30)
    assert panel.dtype == np.uint8 and panel.ndim == 3
    # two rows: input 8x8 grid (241 px) and the pool/stride grids (121 px) plus titles
    assert panel.shape[0] > 241 + 121 and panel.shape[1] > 2 * 241


@pytest.mark.parametrize("size", [3, 7])
def test_patch_size_must_be_even(bus_image, size):
    with pytest.raises(ValueError, match="patch_size"):
        conv_lesson(bus_image, (10, 10), patch_size=size)
