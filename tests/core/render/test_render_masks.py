import tracemalloc

import numpy as np
import pytest

from desktop_app.core.models.tasks import Task
from desktop_app.core.render import RenderStyle, annotate, class_color, draw_masks, draw_masks_into

MASKS_ONLY = RenderStyle(show_outlines=False, mask_alpha=0.4)


def blended(pixel, color, alpha):
    return np.round(np.asarray(pixel, float) * (1 - alpha) + np.asarray(color, float) * alpha)


def square_mask(shape, x0, y0, x1, y1):
    mask = np.zeros(shape, bool)
    mask[y0:y1, x0:x1] = True
    return mask


def test_mask_interior_is_blended_at_alpha_and_outside_is_untouched(make_detections, noise_frame):
    mask = square_mask(noise_frame.shape[:2], 30, 40, 70, 90)[None]
    det = make_detections([[25, 35, 75, 95]], class_id=[4], task=Task.SEGMENT, mask=mask)
    out = draw_masks(noise_frame, det, MASKS_ONLY)
    inside = out[40:90, 30:70].astype(float)
    expected = blended(noise_frame[40:90, 30:70], class_color(4), 0.4)
    assert np.abs(inside - expected).max() <= 1
    outside = ~mask[0]
    assert np.array_equal(out[outside], noise_frame[outside])  # includes the box area around the mask


def test_outline_drawn_on_the_mask_edge(make_detections, gray_frame):
    mask = square_mask(gray_frame.shape[:2], 30, 40, 70, 90)[None]
    det = make_detections([[30, 40, 70, 90]], class_id=[4], task=Task.SEGMENT, mask=mask)
    out = draw_masks(gray_frame, det, RenderStyle(line_width=1, mask_alpha=0.4))
    color = class_color(4)
    for x, y in [(30, 60), (69, 60), (50, 40), (50, 89)]:
        assert tuple(out[y, x]) == color, (x, y)
    assert tuple(out[60, 50]) != color  # the interior is translucent, not painted


def test_overlapping_masks_show_the_more_confident_one_blended_once(make_detections, gray_frame):
    shape = gray_frame.shape[:2]
    masks = np.stack([square_mask(shape, 20, 20, 80, 80), square_mask(shape, 50, 50, 120, 110)])
    det = make_detections([[20, 20, 80, 80], [50, 50, 120, 110]], class_id=[1, 2], confidence=[0.9, 0.6],
                          task=Task.SEGMENT, mask=masks)
    out = draw_masks(gray_frame, det, MASKS_ONLY)
    assert np.abs(out[60, 60] - blended((128,) * 3, class_color(1), 0.4)).max() <= 1
    assert np.abs(out[100, 100] - blended((128,) * 3, class_color(2), 0.4)).max() <= 1


def test_masks_past_their_box_need_within_boxes_off(make_detections, gray_frame):
    # The mask reaches far right of its (wrong) box: only the exact-bounds mode sees that part.
    mask = square_mask(gray_frame.shape[:2], 10, 10, 150, 30)[None]
    det = make_detections([[10, 10, 40, 30]], class_id=[0], task=Task.SEGMENT, mask=mask)
    fast = draw_masks(gray_frame, det, MASKS_ONLY)
    exact = draw_masks(gray_frame, det, RenderStyle(show_outlines=False, mask_alpha=0.4, masks_within_boxes=False))
    assert (fast[20, 140] == 128).all()
    assert not (exact[20, 140] == 128).all()
    assert np.array_equal(fast[10:30, 10:40], exact[10:30, 10:40])


def test_masks_of_a_larger_frame_land_where_they_cover_on_a_smaller_canvas(gray_frame):
    # Frame masks drawn on a canvas half the frame's size (a pane shown in a 4-pane view): each mask lands on the
    # canvas pixels it covers, and its box (in canvas pixels) still bounds it.
    height, width = gray_frame.shape[:2]
    masks = np.stack([square_mask((height * 2, width * 2), 60, 80, 140, 180),
                      square_mask((height * 2, width * 2), 200, 20, 260, 60)])
    colors = np.array([class_color(4), class_color(7)], np.uint8)
    canvas = gray_frame.copy()
    draw_masks_into(canvas, masks, colors, 0.4, xyxy=np.array([[30, 40, 70, 90], [100, 10, 130, 30]], np.float32))
    changed = (canvas != 128).any(axis=2)
    assert np.array_equal(changed, square_mask((height, width), 30, 40, 70, 90)
                          | square_mask((height, width), 100, 10, 130, 30))
    assert np.abs(canvas[60, 50] - blended((128,) * 3, class_color(4), 0.4)).max() <= 1


def test_a_mask_too_small_to_cover_a_canvas_pixel_draws_nothing(gray_frame):
    height, width = gray_frame.shape[:2]
    masks = square_mask((height * 8, width * 8), 0, 0, 160 * 8, 1)[None]  # one row of the frame: 1/8 pixel here
    canvas = gray_frame.copy()
    draw_masks_into(canvas, masks, np.array([class_color(1)], np.uint8), 0.4, within_boxes=False)
    assert (canvas[1:] == 128).all()


def test_masks_must_be_a_stack_of_2d_maps(gray_frame):
    with pytest.raises(ValueError, match=r"\(n, H, W\)"):
        draw_masks_into(gray_frame.copy(), np.ones((60, 80), bool), np.zeros((1, 3), np.uint8), 0.4)


def test_empty_masks_leave_the_frame_equal(make_detections, gray_frame):
    det = make_detections([[10, 10, 50, 50]], task=Task.SEGMENT, mask=np.zeros((1, 120, 160), bool))
    out = draw_masks(gray_frame, det, MASKS_ONLY)
    assert np.array_equal(out, gray_frame)


def test_thirty_masks_peak_memory_stays_a_few_frames(make_detections):
    # Holding a full-frame array per object (as a stacked (n, H, W, 3) overlay does) would cost 30+ frames.
    height, width, n = 360, 640, 30
    frame = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    rng = np.random.default_rng(1)
    x0 = rng.integers(0, width - 120, n)
    y0 = rng.integers(0, height - 120, n)
    xyxy = np.stack([x0, y0, x0 + 120, y0 + 120], axis=1)
    masks = np.zeros((n, height, width), bool)
    for i, (a, b, c, d) in enumerate(xyxy):
        masks[i, b + 10:d - 10, a + 10:c - 10] = True
    det = make_detections(xyxy, class_id=np.arange(n), task=Task.SEGMENT, mask=masks)
    annotate(frame, det)  # warm-up: first-call caches are not per-frame costs
    tracemalloc.start()
    try:
        out = annotate(frame, det)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * frame.nbytes, f"peak {peak / frame.nbytes:.1f} frames"
    assert not np.array_equal(out, frame)


@pytest.mark.parametrize("line_width", [1, 2, 3])
def test_outline_is_exactly_line_width_pixels_inside_the_mask(make_detections, gray_frame, line_width):
    mask = square_mask(gray_frame.shape[:2], 30, 40, 70, 90)[None]
    det = make_detections([[30, 40, 70, 90]], class_id=[4], task=Task.SEGMENT, mask=mask)
    out = draw_masks(gray_frame, det, RenderStyle(line_width=line_width, mask_alpha=0.4))
    row = [tuple(int(v) for v in out[65, x]) for x in range(28, 40)]
    color = class_color(4)
    assert row[:2] == [(128, 128, 128)] * 2  # outside the mask: untouched
    assert row[2:2 + line_width] == [color] * line_width
    assert row[2 + line_width] != color  # then the translucent fill


def test_object_with_an_undrawable_box_is_skipped_and_the_others_drawn(make_detections, gray_frame):
    shape = gray_frame.shape[:2]
    masks = np.stack([square_mask(shape, 10, 10, 40, 40), square_mask(shape, 60, 60, 100, 100)])
    det = make_detections([[np.nan, 10, 40, 40], [60, 60, 100, 100]], class_id=[1, 2], task=Task.SEGMENT,
                          mask=masks)
    out = draw_masks(gray_frame, det, MASKS_ONLY)
    assert (out[25, 25] == 128).all()
    assert not (out[80, 80] == 128).all()


def test_mask_cut_by_the_frame_edge_has_no_outline_along_that_edge(make_detections, gray_frame):
    mask = square_mask(gray_frame.shape[:2], 0, 40, 50, 90)[None]
    det = make_detections([[0, 40, 50, 90]], class_id=[4], task=Task.SEGMENT, mask=mask)
    out = draw_masks(gray_frame, det, RenderStyle(line_width=2, mask_alpha=0.4))
    assert tuple(out[65, 49]) == class_color(4)  # the real edge is outlined
    assert np.abs(out[65, 0] - blended((128,) * 3, class_color(4), 0.4)).max() <= 1  # the frame edge is fill
