import numpy as np
import pytest

from desktop_app.core.models.tasks import Task
from desktop_app.core.render import COCO_KEYPOINTS, COCO_SKELETON, RenderStyle, draw_pose
from desktop_app.core.render.pose import _PART_COLORS, keypoint_color, visible_keypoints

STYLE = RenderStyle(line_width=2, keypoint_threshold=0.5)


def person(points_xyc):
    """A (1, 17, 3) pose with every keypoint hidden except those given as {index: (x, y, conf)}."""
    keypoints = np.zeros((1, 17, 3), np.float32)
    for k, xyc in points_xyc.items():
        keypoints[0, k] = xyc
    return keypoints


def pose_detections(make_detections, keypoints):
    n = len(keypoints)
    return make_detections(np.tile([[0, 0, 1, 1]], (n, 1)), task=Task.POSE, keypoints=keypoints)


def test_keypoints_drawn_at_their_coordinates_in_their_part_color(make_detections, gray_frame):
    keypoints = person({0: (40, 30, 0.9), 9: (100, 80, 0.8)})  # nose, left wrist
    out = draw_pose(gray_frame, pose_detections(make_detections, keypoints), STYLE)
    assert tuple(out[30, 40]) == keypoint_color(0)
    assert tuple(out[80, 100]) == keypoint_color(9)
    assert (out[10, 150] == 128).all()


def test_low_confidence_keypoints_and_their_limbs_are_hidden(make_detections, gray_frame):
    # Left shoulder (5) visible, left elbow (7) below the threshold: neither the elbow nor the limb is drawn.
    keypoints = person({5: (30, 60, 0.9), 7: (130, 60, 0.3)})
    out = draw_pose(gray_frame, pose_detections(make_detections, keypoints), STYLE)
    assert tuple(out[60, 30]) == keypoint_color(5)
    assert (out[55:66, 125:136] == 128).all()
    assert (out[60, 80] == 128).all()  # the middle of the would-be upper arm


def test_limb_drawn_between_two_visible_keypoints(make_detections, gray_frame):
    keypoints = person({5: (30, 60, 0.9), 7: (130, 60, 0.9)})
    out = draw_pose(gray_frame, pose_detections(make_detections, keypoints), STYLE)
    assert tuple(out[60, 80]) == _PART_COLORS["left_arm"]


def test_non_coco_layouts_draw_points_without_a_skeleton(make_detections, gray_frame):
    keypoints = np.array([[[20, 20, 1.0], [100, 20, 1.0], [60, 100, 1.0]]], np.float32)
    out = draw_pose(gray_frame, pose_detections(make_detections, keypoints), STYLE)
    for x, y in [(20, 20), (100, 20), (60, 100)]:
        assert tuple(out[y, x]) == keypoint_color(0, 3)
    assert (out[20, 60] == 128).all()  # no line between the first two


@pytest.mark.parametrize("keypoints, expected", [
    (np.array([[[1, 2], [3, 4]]], np.float32), [[True, True]]),  # no confidence column: all shown
    (np.array([[[1, 2, 0.49], [3, 4, 0.5]]], np.float32), [[False, True]]),
    (np.array([[[np.nan, 2, 0.9], [3, np.inf, 0.9]]], np.float32), [[False, False]]),
])
def test_visible_keypoints(keypoints, expected):
    assert visible_keypoints(keypoints, 0.5).tolist() == expected


def test_coco_skeleton_indices_are_valid():
    assert len(COCO_KEYPOINTS) == 17
    assert all(0 <= a < 17 and 0 <= b < 17 and part in _PART_COLORS for a, b, part in COCO_SKELETON)


def test_many_people_and_offscreen_points_draw_without_error(make_detections, gray_frame):
    keypoints = np.random.default_rng(0).uniform([-200, -200, 0], [400, 400, 1], (30, 17, 3)).astype(np.float32)
    out = draw_pose(gray_frame, pose_detections(make_detections, keypoints), STYLE)
    assert out.shape == gray_frame.shape and not np.array_equal(out, gray_frame)
