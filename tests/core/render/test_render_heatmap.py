import cv2
import numpy as np
import pytest

from desktop_app.core.render import Colormap, colorize, overlay_heatmap


@pytest.mark.parametrize("colormap", list(Colormap))
def test_colorize_maps_low_and_high_to_the_ends_of_the_colormap(colormap):
    heat = np.array([[0.0, 1.0], [0.5, 2.0]], np.float32)
    out = colorize(heat, colormap)
    ends = cv2.applyColorMap(np.array([[0, 255]], np.uint8), colormap.cv2_code)
    assert out.shape == (2, 2, 3) and out.dtype == np.uint8
    assert tuple(out[0, 0]) == tuple(ends[0, 0])
    assert tuple(out[1, 1]) == tuple(ends[0, 1])


def test_colorize_handles_flat_and_nan_heat():
    flat = colorize(np.full((3, 3), 7.0))
    assert (flat == flat[0, 0]).all()
    with_nan = colorize(np.array([[np.nan, 0.0], [1.0, 1.0]]))
    assert tuple(with_nan[0, 0]) == tuple(with_nan[0, 1])  # NaN shown as the low end


def test_value_range_fixes_the_scale():
    low = colorize(np.array([[0.0, 0.1]]), value_range=(0.0, 1.0))
    high = colorize(np.array([[0.0, 1.0]]), value_range=(0.0, 1.0))
    assert tuple(low[0, 1]) != tuple(high[0, 1])


@pytest.mark.parametrize("heat", [np.zeros((2, 2, 2)), np.zeros((0, 4)), np.zeros(5)])
def test_colorize_rejects_non_2d_heat(heat):
    with pytest.raises(ValueError, match=r"\(h, w\)"):
        colorize(heat)


def test_overlay_heatmap_resizes_to_the_frame_and_puts_heat_where_it_belongs(gray_frame):
    heat = np.zeros((4, 4), np.float32)
    heat[:2, :2] = 1.0  # hot top-left quadrant
    out = overlay_heatmap(gray_frame, heat, alpha=0.6, colormap=Colormap.JET)
    assert out.shape == gray_frame.shape
    b, g, r = (int(v) for v in out[10, 10])
    assert r > b  # JET: hot is red
    b, g, r = (int(v) for v in out[110, 150])
    assert b > r  # cold is blue
    assert (gray_frame == 128).all()  # input untouched


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_overlay_alpha_extremes(gray_frame, alpha):
    heat = np.random.default_rng(0).random((120, 160))
    out = overlay_heatmap(gray_frame, heat, alpha=alpha)
    expected = gray_frame if alpha == 0.0 else colorize(heat)
    assert np.abs(out.astype(int) - expected).max() <= 1


def test_overlay_rejects_bad_alpha(gray_frame):
    with pytest.raises(ValueError, match="alpha"):
        overlay_heatmap(gray_frame, np.ones((2, 2)), alpha=2.0)
