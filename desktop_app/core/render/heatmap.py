"""Heatmaps (Grad-CAM, mean activations) turned into colour and laid over a frame."""

from __future__ import annotations

from enum import Enum

import cv2
import numpy as np

from desktop_app.core.render.canvas import check_image


class Colormap(str, Enum):
    """Colour maps for heatmaps (OpenCV's built-in tables)."""

    JET = "jet"
    TURBO = "turbo"
    VIRIDIS = "viridis"
    INFERNO = "inferno"
    MAGMA = "magma"
    PLASMA = "plasma"
    HOT = "hot"
    BONE = "bone"

    @property
    def cv2_code(self) -> int:
        """The `cv2.COLORMAP_*` constant."""
        return getattr(cv2, f"COLORMAP_{self.name}")


def normalize_heat(heat: np.ndarray, value_range: tuple[float, float] | None = None) -> np.ndarray:
    """(h, w) uint8 from 0 (low / NaN) to 255 (high), over `value_range` or the heat's own min..max."""
    heat = np.asarray(heat, dtype=np.float32)
    if heat.ndim != 2 or heat.size == 0:
        raise ValueError(f"heat must be a non-empty (h, w) array, got shape {heat.shape}")
    finite = np.isfinite(heat)
    if value_range is not None:
        low, high = float(value_range[0]), float(value_range[1])
    elif finite.any():
        low, high = float(heat[finite].min()), float(heat[finite].max())
    else:
        low = high = 0.0
    if not high > low:
        # A flat map carries no "where": show it all as the low end rather than dividing by zero.
        return np.zeros(heat.shape, np.uint8)
    scaled = (np.where(finite, heat, low) - low) * (255.0 / (high - low))
    return np.clip(scaled, 0, 255).astype(np.uint8)


def colorize(
    heat: np.ndarray, colormap: Colormap | str = Colormap.JET, value_range: tuple[float, float] | None = None
) -> np.ndarray:
    """(h, w, 3) uint8 BGR image of a (h, w) float heatmap, scaled over `value_range` or its own min..max."""
    return cv2.applyColorMap(normalize_heat(heat, value_range), Colormap(colormap).cv2_code)


def overlay_heatmap(
    image: np.ndarray,
    heat: np.ndarray,
    alpha: float = 0.5,
    colormap: Colormap | str = Colormap.JET,
    value_range: tuple[float, float] | None = None,
) -> np.ndarray:
    """A new frame: `heat` (any (h, w) resolution) resized to the frame, colourised, blended at opacity `alpha`."""
    check_image(image)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    height, width = image.shape[:2]
    # Normalised at the heat's own resolution (cheap), then smoothly upsampled before the colour lookup.
    levels = normalize_heat(heat, value_range)
    if levels.shape != (height, width):
        levels = cv2.resize(levels, (width, height), interpolation=cv2.INTER_LINEAR)
    colored = cv2.applyColorMap(levels, Colormap(colormap).cv2_code)
    return cv2.addWeighted(image, 1.0 - alpha, colored, alpha, 0.0)
