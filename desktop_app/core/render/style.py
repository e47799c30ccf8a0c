"""How overlays look: one frozen `RenderStyle` shared by every renderer, and the option enums it uses."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum


class ColorBy(str, Enum):
    """What picks an object's colour."""

    AUTO = "auto"  # the track id when the detections carry one, else the class
    CLASS = "class"
    TRACK = "track"


class Corner(str, Enum):
    """A corner of the frame for panels and the HUD."""

    TOP_LEFT = "top-left"
    TOP_RIGHT = "top-right"
    BOTTOM_LEFT = "bottom-left"
    BOTTOM_RIGHT = "bottom-right"


def _mean_side(shape: tuple[int, ...]) -> float:
    return (shape[0] + shape[1]) / 2.0


@dataclass(frozen=True, slots=True)
class RenderStyle:
    """Overlay options. `None` sizes (line width, text scale) are derived from the frame size at draw time."""

    line_width: int | None = None
    text_scale: float | None = None
    mask_alpha: float = 0.45
    panel_alpha: float = 0.65
    show_boxes: bool = True
    show_labels: bool = True
    show_confidence: bool = True
    show_track_id: bool = True
    show_masks: bool = True
    show_outlines: bool = True
    show_keypoints: bool = True
    show_skeleton: bool = True
    keypoint_threshold: float = 0.5
    color_by: ColorBy = ColorBy.AUTO
    # YOLO masks are cropped to their boxes, so only the box area needs scanning; set False for masks that may
    # extend past their box (costs one full-frame scan per mask).
    masks_within_boxes: bool = True
    panel_corner: Corner = Corner.TOP_LEFT
    top_k: int = 5
    #: (x0, y0, x1, y1) in frame pixels that box labels move out of: the pane's HUD, so it never hides them.
    keep_clear: tuple[int, int, int, int] | None = None

    def __post_init__(self) -> None:
        for name in ("mask_alpha", "panel_alpha", "keypoint_threshold"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        if self.line_width is not None and self.line_width < 1:
            raise ValueError(f"line_width must be >= 1 pixel, got {self.line_width}")
        if self.text_scale is not None and self.text_scale <= 0:
            raise ValueError(f"text_scale must be > 0, got {self.text_scale}")
        if self.top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {self.top_k}")
        object.__setattr__(self, "color_by", ColorBy(self.color_by))
        object.__setattr__(self, "panel_corner", Corner(self.panel_corner))

    def line_width_px(self, shape: tuple[int, ...]) -> int:
        """Line width for a frame of this (H, W, ...) shape: about 0.3 % of its mean side, at least 1 px."""
        if self.line_width is not None:
            return self.line_width
        return max(1, round(_mean_side(shape) * 0.003))

    def text_scale_for(self, shape: tuple[int, ...]) -> float:
        """cv2 font scale for a frame of this shape: 0.6 at 720p, never below 0.35 so labels stay legible."""
        if self.text_scale is not None:
            return self.text_scale
        return min(2.0, max(0.35, min(shape[0], shape[1]) / 1200.0))


DEFAULT_STYLE = RenderStyle()


def clear_of(style: RenderStyle | None, area: tuple[int, int, int, int] | None) -> RenderStyle:
    """`style` (the default when None) with box labels kept out of `area` (a pane's HUD), when there is one."""
    style = style or DEFAULT_STYLE
    return replace(style, keep_clear=area) if area is not None else style
