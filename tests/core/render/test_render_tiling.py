import numpy as np
import pytest

from desktop_app.core.render import Layout, Rect, letterbox_rect, pane_at, pane_rects, tile
from desktop_app.core.render.tiling import EMPTY_CELL_COLOR, GAP_COLOR, LETTERBOX_COLOR


@pytest.mark.parametrize("layout, out_wh, gap, expected", [
    (Layout.ONE, (1280, 720), 2, [Rect(0, 0, 1280, 720)]),
    (Layout.TWO, (1280, 720), 2, [Rect(0, 0, 639, 720), Rect(641, 0, 639, 720)]),
    (Layout.TWO, (1281, 720), 0, [Rect(0, 0, 640, 720), Rect(640, 0, 641, 720)]),
    (Layout.FOUR, (1280, 720), 2, [Rect(0, 0, 639, 359), Rect(641, 0, 639, 359),
                                   Rect(0, 361, 639, 359), Rect(641, 361, 639, 359)]),
    (4, (100, 50), 0, [Rect(0, 0, 50, 25), Rect(50, 0, 50, 25), Rect(0, 25, 50, 25), Rect(50, 25, 50, 25)]),
])
def test_pane_rects(layout, out_wh, gap, expected):
    assert list(pane_rects(layout, out_wh, gap)) == expected


@pytest.mark.parametrize("xy, expected", [((10, 10), 0), ((700, 10), 1), ((10, 400), 2), ((1279, 719), 3),
                                          ((639, 10), None), ((640, 360), None), ((1280, 10), None)])
def test_pane_at_maps_clicks_to_panes(xy, expected):
    assert pane_at(Layout.FOUR, (1280, 720), *xy) == expected


def test_too_small_output_is_rejected():
    with pytest.raises(ValueError, match="too small"):
        pane_rects(Layout.FOUR, (3, 3), gap_px=2)


@pytest.mark.parametrize("image_wh, cell, expected", [
    ((640, 480), Rect(0, 0, 639, 359), Rect(80, 0, 479, 359)),   # 4:3 into 16:9: bars left and right
    ((1280, 360), Rect(10, 20, 640, 360), Rect(10, 110, 640, 180)),  # wide: bars top and bottom
    ((320, 180), Rect(0, 0, 640, 360), Rect(0, 0, 640, 360)),   # upscaled to fill
])
def test_letterbox_rect_keeps_aspect(image_wh, cell, expected):
    rect = letterbox_rect(image_wh, cell)
    assert rect == expected
    assert rect.w / rect.h == pytest.approx(image_wh[0] / image_wh[1], rel=0.01)


def solid(w, h, value):
    return np.full((h, w, 3), value, np.uint8)


def test_one_pane_full_size_is_returned_without_a_copy():
    image = np.random.default_rng(0).integers(0, 256, (90, 160, 3), dtype=np.uint8)
    out = tile([image], Layout.ONE)
    assert out is image  # returned as is: a single pane at its own size costs no copy


def test_two_panes_side_by_side_default_size():
    out = tile([solid(160, 90, 50), solid(160, 90, 200)], Layout.TWO, gap_px=2)
    assert out.shape == (90, 322, 3)
    assert (out[:, :160] == 50).all() and (out[:, 162:] == 200).all()
    assert (out[:, 160:162] == GAP_COLOR).all()


def test_four_panes_letterboxed_with_missing_ones_dark():
    four_three = solid(400, 300, 200)
    out = tile([four_three, None, solid(320, 180, 90)], Layout.FOUR, out_wh=(1280, 720), gap_px=2)
    assert out.shape == (720, 1280, 3)
    cells = pane_rects(Layout.FOUR, (1280, 720), 2)
    content = letterbox_rect((400, 300), cells[0])
    assert (out[content.y:content.y + content.h, content.x:content.x + content.w] == 200).all()
    assert (out[0:359, 0:content.x] == LETTERBOX_COLOR).all()  # bars beside the 4:3 pane
    assert (out[361:720, 641:1280] == EMPTY_CELL_COLOR).all(axis=2).mean() > 0.9  # absent 4th pane
    empty = out[0:359, 641:1280]
    assert (empty == EMPTY_CELL_COLOR).all(axis=2).mean() > 0.9
    assert (empty != EMPTY_CELL_COLOR).any()  # the "no pane" hint


def test_titles_drawn_in_each_pane():
    images = [solid(160, 90, 200), solid(160, 90, 200)]
    plain = tile(images, Layout.TWO)
    titled = tile(images, Layout.TWO, titles=["detect", "segment"])
    assert not np.array_equal(titled[:20, :60], plain[:20, :60])
    assert not np.array_equal(titled[:20, 162:222], plain[:20, 162:222])
    assert np.array_equal(titled[60:], plain[60:])


def test_tile_rejects_too_many_images_and_no_size():
    with pytest.raises(ValueError, match="holds 2 panes"):
        tile([solid(8, 8, 0)] * 3, Layout.TWO)
    with pytest.raises(ValueError, match="out_wh"):
        tile([None, None], Layout.TWO)


def test_tile_does_not_modify_its_inputs():
    image = solid(160, 90, 77)
    image.setflags(write=False)
    out = tile([image, image, image, image], Layout.FOUR, out_wh=(640, 360), titles=["a", "b", "c", "d"])
    assert out.shape == (360, 640, 3) and (image == 77).all()
