import cv2
import numpy as np
import pytest

from desktop_app.core.frames import Frame
from desktop_app.core.models.postprocess import letterbox_geometry, masks_to_frame, top_k_classification

NAMES = {i: f"class{i}" for i in range(6)}
FRAME = Frame(np.zeros((4, 4, 3), np.uint8), 7, 0.25)


@pytest.mark.parametrize("top_k, classes, expected_ids", [
    (3, None, [4, 1, 2]),
    (10, None, [4, 1, 2, 0, 5, 3]),
    (2, (0, 2, 3), [2, 0]),
    (5, (3, 99, -1), [3]),
    (5, (), []),
])
def test_top_k_is_sorted_and_respects_the_class_filter(top_k, classes, expected_ids):
    probability = np.array([0.1, 0.25, 0.15, 0.02, 0.4, 0.08], np.float32)
    result = top_k_classification(probability, NAMES, FRAME, top_k, classes)
    assert result.class_id.tolist() == expected_ids
    assert result.probability.tolist() == pytest.approx(probability[expected_ids].tolist())
    assert result.class_name == tuple(f"class{i}" for i in expected_ids)
    assert (result.frame_index, result.timestamp_s) == (7, 0.25)


@pytest.mark.parametrize("input_hw, frame_hw, expected", [
    ((384, 640), (720, 1280), (0.5, 0.5, 0, 12)),     # zidane.jpg at imgsz 640, 12 px bands top and bottom
    ((640, 480), (1080, 810), (480 / 810, 640 / 1080, 0, 0)),  # bus.jpg: no padding
    ((640, 640), (720, 1280), (0.5, 0.5, 0, 140)),    # square letterbox of an exported model
])
def test_letterbox_geometry_matches_ultralytics(input_hw, frame_hw, expected):
    assert letterbox_geometry(input_hw, frame_hw) == pytest.approx(expected)


def test_mask_lands_on_the_same_frame_pixels_as_its_box():
    # Frame 90x200 -> input 160x320: scale 1.6, 8 px padding on top.
    small = np.zeros((1, 160, 320), np.uint8)
    small[0, 40:104, 80:160] = 255  # frame rectangle x 50..100, y 20..60
    out = masks_to_frame(small, np.array([[50, 20, 100, 60]], np.float32), (90, 200))
    expected = np.zeros((90, 200), bool)
    expected[20:60, 50:100] = True
    assert out.shape == (1, 90, 200) and out.dtype == bool
    assert np.array_equal(out[0], expected)


def test_mask_pixels_outside_the_box_are_not_drawn():
    small = np.full((1, 160, 320), 255, np.uint8)
    out = masks_to_frame(small, np.array([[10, 10, 30, 20]], np.float32), (90, 200))
    assert out[0].sum() == 20 * 10 and out[0, 10:20, 10:30].all()


def test_boxes_larger_than_the_frame_are_clipped():
    small = np.full((2, 160, 320), 255, np.uint8)
    out = masks_to_frame(small, np.array([[-50, -50, 500, 500], [300, 300, 400, 400]], np.float32), (90, 200))
    assert out[0].all() and not out[1].any()


def test_matches_a_full_frame_resize():
    rng = np.random.default_rng(0)
    blobs = cv2.GaussianBlur(rng.random((384, 640)).astype(np.float32), (0, 0), 12)
    small = ((blobs > np.median(blobs)) * 255).astype(np.uint8)
    small[:12] = small[-12:] = 0
    reference = cv2.resize(small[12:372], (1280, 720), interpolation=cv2.INTER_LINEAR) > 127
    out = masks_to_frame(small[None], np.array([[0, 0, 1280, 720]], np.float32), (720, 1280))[0]
    assert np.mean(out != reference) < 0.002


def test_no_masks():
    out = masks_to_frame(np.zeros((0, 160, 320), np.uint8), np.zeros((0, 4), np.float32), (90, 200))
    assert out.shape == (0, 90, 200)
