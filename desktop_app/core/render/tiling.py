"""Side-by-side composition of 1, 2 or 4 panes into one frame, each letterboxed into its cell."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import NamedTuple

import numpy as np

from desktop_app.core.render.canvas import check_image, fill_into, resize_for_display
from desktop_app.core.render.colors import BGR, WHITE
from desktop_app.core.render.text import draw_label_into, draw_text_into, fit_text_scale, measure_label

GAP_COLOR: BGR = (40, 40, 40)
LETTERBOX_COLOR: BGR = (0, 0, 0)
EMPTY_CELL_COLOR: BGR = (28, 28, 28)
EMPTY_HINT_COLOR: BGR = (140, 140, 140)
TITLE_COLOR: BGR = (32, 32, 32)
NO_PANE_TEXT = "no pane"


class Layout(int, Enum):
    """How many panes the composed frame shows: 1 full size, 2 side by side, 4 in a 2x2 grid."""

    ONE = 1
    TWO = 2
    FOUR = 4

    @property
    def grid(self) -> tuple[int, int]:
        """(columns, rows)."""
        return {Layout.ONE: (1, 1), Layout.TWO: (2, 1), Layout.FOUR: (2, 2)}[self]


class Rect(NamedTuple):
    """A pixel rectangle: top-left `x`, `y` and size `w`, `h`."""

    x: int
    y: int
    w: int
    h: int

    def contains(self, x: float, y: float) -> bool:
        """Whether the point (x, y) lies inside."""
        return self.x <= x < self.x + self.w and self.y <= y < self.y + self.h


def _split(total: int, parts: int, gap_px: int) -> list[tuple[int, int]]:
    # (offset, length) of each part; the first parts absorb no remainder, the last takes what is left.
    usable = total - gap_px * (parts - 1)
    base = usable // parts
    spans, offset = [], 0
    for i in range(parts):
        length = base if i < parts - 1 else usable - base * (parts - 1)
        spans.append((offset, length))
        offset += length + gap_px
    return spans


def pane_rects(layout: Layout | int, out_wh: tuple[int, int], gap_px: int = 2) -> tuple[Rect, ...]:
    """The cell of each pane in an output of `out_wh`, row by row (left to right, then top to bottom)."""
    layout = Layout(layout)
    cols, rows = layout.grid
    width, height = int(out_wh[0]), int(out_wh[1])
    if gap_px < 0:
        raise ValueError(f"gap_px must be >= 0, got {gap_px}")
    if width - gap_px * (cols - 1) < cols or height - gap_px * (rows - 1) < rows:
        raise ValueError(f"output {width}x{height} is too small for {layout.value} panes with a {gap_px} px gap")
    return tuple(Rect(x, y, w, h) for y, h in _split(height, rows, gap_px) for x, w in _split(width, cols, gap_px))


def pane_at(layout: Layout | int, out_wh: tuple[int, int], x: float, y: float, gap_px: int = 2) -> int | None:
    """Index of the pane whose cell contains the point (x, y) of the output, or None (gap or outside)."""
    for index, rect in enumerate(pane_rects(layout, out_wh, gap_px)):
        if rect.contains(x, y):
            return index
    return None


def letterbox_rect(image_wh: tuple[int, int], cell: Rect) -> Rect:
    """Where an image of `image_wh` lands inside `cell`: scaled to fit with its aspect kept, centred."""
    iw, ih = image_wh
    if iw <= 0 or ih <= 0:
        raise ValueError(f"image size must be positive, got {iw}x{ih}")
    scale = min(cell.w / iw, cell.h / ih)
    w = min(cell.w, max(1, round(iw * scale)))
    h = min(cell.h, max(1, round(ih * scale)))
    return Rect(cell.x + (cell.w - w) // 2, cell.y + (cell.h - h) // 2, w, h)


def _default_out_wh(images: Sequence[np.ndarray | None], layout: Layout, gap_px: int) -> tuple[int, int]:
    first = next((img for img in images if img is not None), None)
    if first is None:
        raise ValueError("tile() needs out_wh when no pane has an image")
    cols, rows = layout.grid
    h, w = first.shape[:2]
    return cols * w + gap_px * (cols - 1), rows * h + gap_px * (rows - 1)


def _draw_empty_cell(canvas: np.ndarray, cell: Rect) -> None:
    fill_into(canvas[cell.y:cell.y + cell.h, cell.x:cell.x + cell.w], EMPTY_CELL_COLOR)
    scale = fit_text_scale(NO_PANE_TEXT, int(cell.w * 0.8), max(0.35, min(cell.w, cell.h) / 600.0), min_scale=0.25)
    size = measure_label(NO_PANE_TEXT, scale)
    origin = (cell.x + (cell.w - size.width) // 2 + size.padding,
              cell.y + (cell.h + size.height) // 2 - size.padding - size.baseline)
    draw_text_into(canvas, NO_PANE_TEXT, origin, EMPTY_HINT_COLOR, scale)


def composed_canvas(layout: Layout | int, out_wh: tuple[int, int],
                    gap_px: int = 2) -> tuple[np.ndarray, tuple[Rect, ...]]:
    """A new composed frame of `out_wh` filled with the gap colour, and the cell of each pane in it."""
    cells = pane_rects(layout, out_wh, gap_px)
    out = np.empty((int(out_wh[1]), int(out_wh[0]), 3), np.uint8)
    fill_into(out, GAP_COLOR)
    return out, cells


def paste_into(out: np.ndarray, cell: Rect, image: np.ndarray | None) -> None:
    """Letterbox `image` into `cell` of `out` in place (aspect kept, black bars); None draws an empty cell.

    Touches only that cell, so the panes of one frame can be pasted from several threads at once."""
    if image is None:
        _draw_empty_cell(canvas=out, cell=cell)
        return
    check_image(image)
    ih, iw = image.shape[:2]
    target = letterbox_rect((iw, ih), cell)
    if (target.w, target.h) != (cell.w, cell.h):
        fill_into(out[cell.y:cell.y + cell.h, cell.x:cell.x + cell.w], LETTERBOX_COLOR)
    dst = out[target.y:target.y + target.h, target.x:target.x + target.w]
    if (target.w, target.h) == (iw, ih):
        dst[:] = image
        return
    resized = resize_for_display(image, (target.w, target.h), dst=dst)
    if resized is not dst:  # cv2 wrote elsewhere; resizing straight into the cell is only a saving
        dst[:] = resized


def tile(
    images: Sequence[np.ndarray | None],
    layout: Layout | int,
    out_wh: tuple[int, int] | None = None,
    gap_px: int = 2,
    titles: Sequence[str | None] | None = None,
) -> np.ndarray:
    """Compose up to `layout` panes into one BGR frame; missing (None or absent) panes show as dark cells.

    Each pane is letterboxed into its cell (aspect kept). `out_wh` defaults to the first pane's size per cell;
    a single pane at its own size is returned as is, not copied. `titles` label the panes in their top-left
    corners.
    """
    layout = Layout(layout)
    if len(images) > layout.value:
        raise ValueError(f"layout {layout.name} holds {layout.value} panes, got {len(images)} images")
    for index, img in enumerate(images):
        if img is not None:
            check_image(img, f"images[{index}]")
    if out_wh is None:
        if layout is Layout.ONE and images and images[0] is not None and not titles:
            return images[0]  # one pane at its own size: composing would only copy it
        out_wh = _default_out_wh(images, layout, gap_px)
    out, cells = composed_canvas(layout, out_wh, gap_px)
    title_scale = max(0.35, min(cells[0].w, cells[0].h) / 1200.0)
    for index, cell in enumerate(cells):
        paste_into(out, cell, images[index] if index < len(images) else None)
        title = titles[index] if titles is not None and index < len(titles) else None
        if title:
            cell_view = out[cell.y:cell.y + cell.h, cell.x:cell.x + cell.w]
            draw_label_into(cell_view, title, (0, 0), TITLE_COLOR, title_scale, text_color=WHITE)
    return out
