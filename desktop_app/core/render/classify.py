"""Top-k classification panel: class names, percentages and probability bars on a translucent corner panel."""

from __future__ import annotations

import cv2
import numpy as np

from desktop_app.core.models.results import Classification
from desktop_app.core.render.canvas import blend_rect_into, corner_origin, new_canvas
from desktop_app.core.render.colors import WHITE, class_color
from desktop_app.core.render.style import DEFAULT_STYLE, RenderStyle
from desktop_app.core.render.text import draw_text_into, measure_label, text_thickness, truncate_to_width

PANEL_COLOR = (24, 24, 24)
BAR_TRACK_COLOR = (70, 70, 70)


def draw_classification_into(canvas: np.ndarray, result: Classification, style: RenderStyle = DEFAULT_STYLE) -> None:
    """Draw the top-k panel on `canvas` in place: one row per class, text above a bar as long as its probability."""
    k = min(len(result), style.top_k)
    if k == 0:
        return
    height, width = canvas.shape[:2]
    scale = style.text_scale_for(canvas.shape)
    thickness = text_thickness(scale)
    line = measure_label("Ag", scale, thickness)
    pad = line.padding * 2
    margin = max(4, round(min(width, height) * 0.02))
    bar_h = max(3, line.height // 3)
    row_h = line.height + bar_h + line.padding

    # Wide enough for the longest row, but never more than 60 % of the frame (long names are shortened).
    max_panel_w = max(40, int(width * 0.6))
    percents = [f"{100.0 * float(p):.1f}%" for p in result.probability[:k]]
    pct_w = max(measure_label(p, scale, thickness).width for p in percents)
    name_w = max(measure_label(n, scale, thickness).width for n in result.class_name[:k])
    panel_w = min(max_panel_w, name_w + pct_w + 2 * pad)
    panel_h = k * row_h + 2 * pad - line.padding
    x0, y0 = corner_origin(style.panel_corner, (panel_w, panel_h), (width, height), margin)
    blend_rect_into(canvas, x0, y0, x0 + panel_w, y0 + panel_h, PANEL_COLOR, style.panel_alpha)

    inner_w = panel_w - 2 * pad
    for row in range(k):
        top = y0 + pad + row * row_h
        baseline_y = top + line.height - line.padding - line.baseline
        name = truncate_to_width(result.class_name[row], max(1, inner_w - pct_w), scale)
        draw_text_into(canvas, name, (x0 + pad, baseline_y), WHITE, scale, thickness)
        pct_label = measure_label(percents[row], scale, thickness)
        draw_text_into(canvas, percents[row], (x0 + pad + inner_w - pct_label.width + 2 * pct_label.padding,
                                               baseline_y), WHITE, scale, thickness)
        bar_top = top + line.height
        cv2.rectangle(canvas, (x0 + pad, bar_top), (x0 + pad + inner_w - 1, bar_top + bar_h - 1),
                      BAR_TRACK_COLOR, cv2.FILLED)
        fill_w = round(inner_w * float(np.clip(result.probability[row], 0.0, 1.0)))
        if fill_w > 0:
            cv2.rectangle(canvas, (x0 + pad, bar_top), (x0 + pad + fill_w - 1, bar_top + bar_h - 1),
                          class_color(int(result.class_id[row])), cv2.FILLED)


def draw_classification(image: np.ndarray, result: Classification, style: RenderStyle | None = None) -> np.ndarray:
    """A copy of `image` with the top-k classification panel drawn in the style's corner."""
    canvas = new_canvas(image)
    draw_classification_into(canvas, result, style or DEFAULT_STYLE)
    return canvas
