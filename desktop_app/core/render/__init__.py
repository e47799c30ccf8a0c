"""Pure overlays over BGR uint8 frames: boxes, masks, keypoints, top-k bars, HUD, banners, heatmaps and tiling.

Every public function returns a new frame and never modifies its input; the `*_into` variants draw in place on
a canvas the caller owns (that is how `annotate` makes a single copy per frame).
"""

from desktop_app.core.render.annotate import (annotate, annotate_at, annotate_into, draw_detections_into,
                                             scaled_result)
from desktop_app.core.render.boxes import box_label, draw_boxes, draw_boxes_into
from desktop_app.core.render.classify import draw_classification, draw_classification_into
from desktop_app.core.render.canvas import resize_for_display
from desktop_app.core.render.colors import (
    PALETTE,
    class_color,
    detection_colors,
    readable_text_color,
    track_color,
)
from desktop_app.core.render.heatmap import Colormap, colorize, overlay_heatmap
from desktop_app.core.render.hud import (UNTRAINED_TEXT, BannerLevel, Edge, draw_banner, draw_banner_into, draw_hud,
                                        hud_rect)
from desktop_app.core.render.masks import draw_masks, draw_masks_into
from desktop_app.core.render.pose import COCO_KEYPOINTS, COCO_SKELETON, draw_pose, draw_pose_into
from desktop_app.core.render.style import DEFAULT_STYLE, ColorBy, Corner, RenderStyle, clear_of
from desktop_app.core.render.text import ascii_safe, draw_label
from desktop_app.core.render.tiling import (Layout, Rect, composed_canvas, letterbox_rect, pane_at, pane_rects,
                                           paste_into, tile)

__all__ = [
    "COCO_KEYPOINTS", "COCO_SKELETON", "DEFAULT_STYLE", "PALETTE", "UNTRAINED_TEXT",
    "BannerLevel", "ColorBy", "Colormap", "Corner", "Edge", "Layout", "Rect", "RenderStyle",
    "annotate", "annotate_at", "annotate_into", "ascii_safe", "box_label", "class_color", "clear_of", "colorize",
    "composed_canvas", "detection_colors", "draw_banner", "draw_banner_into", "draw_boxes", "draw_boxes_into",
    "draw_classification", "draw_classification_into", "draw_detections_into", "draw_hud", "hud_rect", "draw_label",
    "draw_masks", "draw_masks_into", "draw_pose", "draw_pose_into", "letterbox_rect", "overlay_heatmap", "pane_at",
    "pane_rects", "paste_into", "readable_text_color", "resize_for_display", "scaled_result", "tile",
    "track_color",
]
