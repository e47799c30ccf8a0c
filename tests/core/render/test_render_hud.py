import numpy as np
import pytest

from desktop_app.core.render import UNTRAINED_TEXT, BannerLevel, Corner, ascii_safe, draw_banner, draw_hud
from desktop_app.core.render.hud import BANNER_COLORS

WHITE_FRAME = np.full((240, 320, 3), 255, np.uint8)
LINES = ["detect  yolo11n", "12.3 ms  81.3 FPS"]


@pytest.mark.parametrize("corner", ["top-left", "top-right", "bottom-left", "bottom-right"])
def test_hud_is_drawn_in_the_requested_corner(corner):
    out = draw_hud(WHITE_FRAME, LINES, corner)
    ys, xs = np.nonzero((out < 200).all(axis=2))
    assert len(ys) > 0
    cy, cx = ys.mean(), xs.mean()
    assert (cy < 120) == corner.startswith("top")
    assert (cx < 160) == corner.endswith("left")
    # A small box: the opposite half of the frame stays untouched.
    half = out[:, 200:] if corner.endswith("left") else out[:, :120]
    assert (half == 255).all()


def test_hud_text_is_light_on_a_darkened_box():
    out = draw_hud(WHITE_FRAME, LINES, Corner.TOP_LEFT, alpha=0.6)
    box = out[:40, :100].reshape(-1, 3).astype(int).sum(axis=1)
    assert (box < 3 * 120).any()  # the translucent dark box
    assert (box > 3 * 200).any()  # the white text on it


def test_empty_hud_returns_an_equal_frame():
    assert np.array_equal(draw_hud(WHITE_FRAME, []), WHITE_FRAME)


def test_unknown_corner_is_rejected():
    with pytest.raises(ValueError):
        draw_hud(WHITE_FRAME, LINES, "middle")


@pytest.mark.parametrize("level", list(BannerLevel))
def test_banner_spans_the_bottom_in_the_level_color(level):
    frame = np.zeros((240, 320, 3), np.uint8)
    out = draw_banner(frame, "careful", level, alpha=1.0)
    assert tuple(out[239, 2]) == BANNER_COLORS[level]
    assert tuple(out[239, 317]) == BANNER_COLORS[level]
    assert (out[:150] == 0).all()


def test_banner_on_top_and_text_shrunk_to_fit_a_narrow_frame():
    frame = np.zeros((60, 90, 3), np.uint8)
    out = draw_banner(frame, UNTRAINED_TEXT, "warning", edge="top", alpha=1.0)
    assert tuple(out[0, 0]) == BANNER_COLORS[BannerLevel.WARNING]
    assert (out[-5:] == 0).all()


def test_untrained_text_is_drawable():
    assert ascii_safe(UNTRAINED_TEXT) == "UNTRAINED - random weights, not a prediction"
