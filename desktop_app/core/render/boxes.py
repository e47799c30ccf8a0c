"""Bounding boxes with "class 0.87 #12" labels."""

from __future__ import annotations

import cv2
import numpy as np

from desktop_app.core.models.results import Detections
from desktop_app.core.render.canvas import new_canvas
from desktop_app.core.render.colors import BGR, detection_colors
from desktop_app.core.render.style import DEFAULT_STYLE, RenderStyle
from desktop_app.core.render.text import draw_label_into, measure_label, place_label


def box_label(detections: Detections, i: int, style: RenderStyle = DEFAULT_STYLE) -> str:
    """The label of object `i`: class name, confidence and track id as the style asks ('' for none)."""
    parts = []
    if style.show_labels:
        parts.append(detections.class_name[i])
    if style.show_confidence:
        parts.append(f"{float(detections.confidence[i]):.2f}")
    if style.show_track_id and detections.track_id is not None:
        parts.append(f"#{int(detections.track_id[i])}")
    return " ".join(parts)


def _valid_rows(xyxy: np.ndarray) -> np.ndarray:
    # A NaN or infinite coordinate cannot be drawn; such an object is skipped rather than failing the frame.
    return np.flatnonzero(np.isfinite(xyxy).all(axis=1))


def draw_box_outline_into(canvas: np.ndarray, xyxy: tuple[int, int, int, int], color: BGR, line_width: int) -> None:
    """A `line_width`-pixel frame lying just inside the half-open box `xyxy`, in place.

    Drawn as four filled strips rather than a thick cv2 rectangle, which would straddle the edge and come out
    one or two pixels wider than asked.
    """
    x0, y0, x1, y1 = xyxy
    if x1 <= x0 or y1 <= y0:
        return
    t = line_width
    if x1 - x0 <= 2 * t or y1 - y0 <= 2 * t:
        cv2.rectangle(canvas, (x0, y0), (x1 - 1, y1 - 1), color, cv2.FILLED)
        return
    for (ax, ay), (bx, by) in (((x0, y0), (x1 - 1, y0 + t - 1)), ((x0, y1 - t), (x1 - 1, y1 - 1)),
                               ((x0, y0 + t), (x0 + t - 1, y1 - t - 1)), ((x1 - t, y0 + t), (x1 - 1, y1 - t - 1))):
        cv2.rectangle(canvas, (ax, ay), (bx, by), color, cv2.FILLED)


def draw_boxes_into(
    canvas: np.ndarray, detections: Detections, colors: np.ndarray, style: RenderStyle = DEFAULT_STYLE
) -> None:
    """Draw boxes and labels on `canvas` in place; `colors` is (n, 3) BGR. The first object ends on top."""
    if len(detections) == 0:
        return
    height, width = canvas.shape[:2]
    line_width = style.line_width_px(canvas.shape)
    scale = style.text_scale_for(canvas.shape)
    rows = _valid_rows(detections.xyxy)
    # Clipped far outside any frame so that absurd coordinates cannot overflow cv2's int32; cv2 clips the rest.
    corners = np.clip(np.round(detections.xyxy[rows]), -1e6, 1e6).astype(np.int64)
    # Drawn last to first so that the most confident object (first) is drawn over the others.
    for row, (x0, y0, x1, y1) in zip(rows[::-1], corners[::-1]):
        color = tuple(int(c) for c in colors[row])
        if style.show_boxes:
            draw_box_outline_into(canvas, (int(x0), int(y0), int(x1), int(y1)), color, line_width)
        text = box_label(detections, int(row), style)
        if text:
            size = measure_label(text, scale)
            top_left = place_label(size, int(x0), int(y0), (width, height), style.keep_clear)
            draw_label_into(canvas, text, top_left, color, scale, size=size)


def draw_boxes(image: np.ndarray, detections: Detections, style: RenderStyle | None = None) -> np.ndarray:
    """A copy of `image` with the detections' boxes and labels drawn."""
    style = style or DEFAULT_STYLE
    canvas = new_canvas(image)
    draw_boxes_into(canvas, detections, detection_colors(detections, style.color_by), style)
    return canvas
