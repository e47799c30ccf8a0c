"""COCO-17 keypoints and skeleton; keypoints under the confidence threshold are hidden with their limbs."""

from __future__ import annotations

import cv2
import numpy as np

from desktop_app.core.models.results import Detections
from desktop_app.core.render.canvas import new_canvas
from desktop_app.core.render.colors import BGR
from desktop_app.core.render.style import DEFAULT_STYLE, RenderStyle

COCO_KEYPOINTS: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle",
)

# Body parts get their own colour, with the person's left and right told apart, so a flipped pose is visible.
_PART_COLORS: dict[str, BGR] = {
    "head": (255, 200, 60),       # light blue
    "torso": (60, 220, 255),      # yellow
    "left_arm": (80, 220, 80),    # green
    "right_arm": (40, 140, 255),  # orange
    "left_leg": (255, 120, 40),   # blue
    "right_leg": (200, 60, 220),  # pink
}

# (keypoint a, keypoint b, part), 0-based indices into COCO_KEYPOINTS.
COCO_SKELETON: tuple[tuple[int, int, str], ...] = (
    (0, 1, "head"), (0, 2, "head"), (1, 3, "head"), (2, 4, "head"), (3, 5, "head"), (4, 6, "head"),
    (5, 6, "torso"), (5, 11, "torso"), (6, 12, "torso"), (11, 12, "torso"),
    (5, 7, "left_arm"), (7, 9, "left_arm"), (6, 8, "right_arm"), (8, 10, "right_arm"),
    (11, 13, "left_leg"), (13, 15, "left_leg"), (12, 14, "right_leg"), (14, 16, "right_leg"),
)

_KEYPOINT_PARTS: tuple[str, ...] = (
    "head", "head", "head", "head", "head", "left_arm", "right_arm", "left_arm", "right_arm", "left_arm",
    "right_arm", "left_leg", "right_leg", "left_leg", "right_leg", "left_leg", "right_leg",
)
_OTHER_KEYPOINT_COLOR: BGR = (60, 220, 255)


def keypoint_color(k: int, num_keypoints: int = len(COCO_KEYPOINTS)) -> BGR:
    """The colour of keypoint `k`: its body part's colour for COCO-17, one colour for other layouts."""
    if num_keypoints == len(COCO_KEYPOINTS):
        return _PART_COLORS[_KEYPOINT_PARTS[k]]
    return _OTHER_KEYPOINT_COLOR


def visible_keypoints(keypoints: np.ndarray, threshold: float) -> np.ndarray:
    """(n, K) bool: finite coordinates with confidence >= threshold (all finite ones when there is no confidence)."""
    visible = np.isfinite(keypoints[..., :2]).all(axis=-1)
    if keypoints.shape[-1] >= 3:
        visible &= keypoints[..., 2] >= threshold
    return visible


def draw_pose_into(canvas: np.ndarray, keypoints: np.ndarray, style: RenderStyle = DEFAULT_STYLE) -> None:
    """Draw (n, K, 2|3) keypoints and, for K = 17, the COCO skeleton on `canvas` in place."""
    if keypoints.size == 0:
        return
    n, num_k = keypoints.shape[:2]
    visible = visible_keypoints(keypoints, style.keypoint_threshold)
    points = np.zeros((n, num_k, 2), np.int32)
    # Clipped far outside any frame so that absurd coordinates cannot overflow int32; cv2 clips the rest.
    points[visible] = np.clip(np.round(keypoints[..., :2][visible]), -1e6, 1e6).astype(np.int32)
    line_width = style.line_width_px(canvas.shape)

    if style.show_skeleton and num_k == len(COCO_KEYPOINTS):
        # One polylines call per body part for all people at once.
        for part, color in _PART_COLORS.items():
            segments = [
                points[p, [a, b]]
                for a, b, limb_part in COCO_SKELETON if limb_part == part
                for p in np.flatnonzero(visible[:, a] & visible[:, b])
            ]
            if segments:
                cv2.polylines(canvas, segments, False, color, line_width, cv2.LINE_AA)

    if style.show_keypoints:
        radius = max(2, line_width + 1)
        for p, k in zip(*np.nonzero(visible)):
            center = (int(points[p, k, 0]), int(points[p, k, 1]))
            # A dark ring keeps light keypoints visible on light backgrounds.
            cv2.circle(canvas, center, radius + 1, (0, 0, 0), cv2.FILLED, cv2.LINE_AA)
            cv2.circle(canvas, center, radius, keypoint_color(int(k), num_k), cv2.FILLED, cv2.LINE_AA)


def draw_pose(image: np.ndarray, detections: Detections, style: RenderStyle | None = None) -> np.ndarray:
    """A copy of `image` with the detections' keypoints and skeleton (if any) drawn."""
    style = style or DEFAULT_STYLE
    canvas = new_canvas(image)
    if detections.keypoints is not None:
        draw_pose_into(canvas, detections.keypoints, style)
    return canvas
