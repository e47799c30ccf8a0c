"""`annotate`: draw any task result on a copy of its frame."""

from __future__ import annotations

import numpy as np

from desktop_app.core.models.results import Classification, Detections, TaskResult
from desktop_app.core.render.boxes import draw_boxes_into
from desktop_app.core.render.canvas import new_canvas
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
    style = style or DEFAULT_STYLE
    canvas = new_canvas(image)
    if isinstance(result, Detections):
        draw_detections_into(canvas, result, style)
    elif isinstance(result, Classification):
        draw_classification_into(canvas, result, style)
    else:
        raise TypeError(f"annotate() draws Classification or Detections, got {type(result).__name__}")
    return canvas
