"""`annotate`: draw any task result on a copy of its frame; `annotate_at`: on the frame drawn at another size."""

from __future__ import annotations

import dataclasses

import numpy as np

from desktop_app.core.models.results import Classification, Detections, TaskResult
from desktop_app.core.render.boxes import draw_boxes_into
from desktop_app.core.render.canvas import canvas_at, check_image, new_canvas
from desktop_app.core.render.classify import draw_classification_into
from desktop_app.core.render.colors import detection_colors
from desktop_app.core.render.masks import draw_masks_into
from desktop_app.core.render.pose import draw_pose_into
from desktop_app.core.render.style import DEFAULT_STYLE, RenderStyle


def draw_detections_into(canvas: np.ndarray, detections: Detections, style: RenderStyle = DEFAULT_STYLE) -> None:
    """Masks, then boxes and labels, then keypoints, on `canvas` in place (labels stay readable over masks)."""
    if len(detections) == 0:
        return
    colors = detection_colors(detections, style.color_by)
    if detections.mask is not None and style.show_masks:
        draw_masks_into(canvas, detections.mask, colors, style.mask_alpha, xyxy=detections.xyxy,
                        within_boxes=style.masks_within_boxes,
                        outline_px=style.line_width_px(canvas.shape) if style.show_outlines else 0)
    draw_boxes_into(canvas, detections, colors, style)
    if detections.keypoints is not None:
        draw_pose_into(canvas, detections.keypoints, style)


def annotate(image: np.ndarray, result: TaskResult, style: RenderStyle | None = None) -> np.ndarray:
    """A new BGR frame: `image` with `result` drawn on it (the input frame is never modified)."""
    canvas = new_canvas(image)
    annotate_into(canvas, result, style)
    return canvas


def annotate_into(canvas: np.ndarray, result: TaskResult, style: RenderStyle | None = None) -> None:
    """Draw `result` on `canvas` in place (its coordinates must be the canvas's pixels)."""
    style = style or DEFAULT_STYLE
    if isinstance(result, Detections):
        draw_detections_into(canvas, result, style)
    elif isinstance(result, Classification):
        draw_classification_into(canvas, result, style)
    else:
        raise TypeError(f"annotate() draws Classification or Detections, got {type(result).__name__}")


def scaled_result(result: TaskResult, scale_xy: tuple[float, float]) -> TaskResult:
    """`result` for its frame drawn `scale_xy` times as large: boxes and keypoints scaled. Masks keep their own
    resolution; `draw_masks_into` scales each over its own region, far cheaper than resizing whole masks."""
    if not isinstance(result, Detections) or len(result) == 0 or tuple(scale_xy) == (1.0, 1.0):
        return result
    factors = np.array(scale_xy, np.float32)
    keypoints = None
    if result.keypoints is not None:
        keypoints = result.keypoints.copy()
        keypoints[..., :2] *= factors
    return dataclasses.replace(result, xyxy=result.xyxy * np.tile(factors, 2), keypoints=keypoints)


def annotate_at(image: np.ndarray, result: TaskResult, size_wh: tuple[int, int],
                style: RenderStyle | None = None) -> np.ndarray:
    """A new BGR frame of `size_wh`: `image` resized to it, with `result` (in `image` pixels) drawn at that size.

    For a pane shown smaller than its frame (2 or 4 panes): drawing on the small picture costs less than
    drawing on the whole frame and shrinking it afterwards, and lines and text come out just as crisp."""
    check_image(image)
    height, width = image.shape[:2]
    if tuple(size_wh) == (width, height):
        return annotate(image, result, style)
    canvas = canvas_at(image, size_wh)  # the frame resized once for every pane that shows it at this size
    scale_xy = (canvas.shape[1] / width, canvas.shape[0] / height)
    annotate_into(canvas, scaled_result(result, scale_xy), style)
    return canvas
