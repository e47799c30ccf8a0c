"""Images of the network's insides: channel grids, heat overlays, the hierarchy strip, filters, receptive fields."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from desktop_app.core.errors import InsightError
from desktop_app.core.insight.filters import filter_response, first_layer_conv, first_layer_kernels
from desktop_app.core.insight.layers import list_conv_layers, pick_hierarchy_layers
from desktop_app.core.insight.preprocess import Preprocess, ResizeMode, yolo_preprocess
from desktop_app.core.insight.recorder import ActivationRecorder, FeatureMaps
from desktop_app.core.insight.views import (
    GridLayout,
    channel_grid,
    draw_receptive_field,
    filter_tiles,
    filter_tiles_layout,
    grid_layout,
    hierarchy_strip,
    mean_activation_overlay,
)


def make_maps(n=6, h=8, w=12, name="layer") -> FeatureMaps:
    rng = np.random.default_rng(3)
    maps = rng.random((n, h, w)).astype(np.float32)
    return FeatureMaps(0, 0.0, name, (32, h, w), (h * 8, w * 8), np.arange(n, dtype=np.int64) * 3,
                       np.linspace(1, 0.1, n).astype(np.float32), maps, maps.mean(axis=0))


@pytest.mark.parametrize("count,columns", [(1, 1), (7, 3), (16, 4), (10, None)])
def test_grid_layout_maps_every_cell_centre_back_to_its_index(count, columns):
    layout = grid_layout(count, 40, columns, aspect_hw=0.5)
    for i in range(count):
        x, y = layout.cell_origin(i)
        assert layout.cell_at(x + 20, y + 10) == i
    assert layout.cell_at(0, 0) is None  # the gap
    width, height = layout.size_wh
    assert layout.cell_at(width - 1, height - 1) in (None, count - 1)


def test_channel_grid_has_one_tile_per_channel_strongest_first():
    maps = make_maps()
    image = channel_grid(maps, cell_px=48, show_index=False)
    layout = grid_layout(6, 48, None, 8 / 12)
    assert image.shape == (layout.size_wh[1], layout.size_wh[0], 3) and image.dtype == np.uint8
    # a hot cell in channel 0 shows at the same place in the first tile
    hot = make_maps()
    hot.channel_maps.setflags(write=True)
    hot.channel_maps[0] = 0.0
    hot.channel_maps[0, 0, 0] = 1.0
    tile = channel_grid(hot, cell_px=48, show_index=False)
    x, y = layout.cell_origin(0)
    assert tile[y + 1, x + 1].tolist() != tile[y + 30, x + 40].tolist()


def test_mean_activation_overlay_follows_the_letterbox(bus_image):
    maps = make_maps(h=20, w=20)
    maps.mean_map.setflags(write=True)
    maps.mean_map[:] = 0.0
    maps.mean_map[:, :10] = 1.0  # left half of the 640x640 input: frame x 0..~405 of the 810 wide bus photo
    geometry = yolo_preprocess(640).geometry((810, 1080))
    overlay = mean_activation_overlay(bus_image, maps, geometry, alpha=1.0)
    assert overlay.shape == bus_image.shape
    assert not np.array_equal(overlay[:, 50], overlay[:, 760])  # hot on the left, cold on the right
    assert overlay[:, 50].std(axis=0).max() < 1.0  # one flat colour: the whole column is equally hot


def test_hierarchy_strip_shows_early_middle_deep_side_by_side(yolo11n, bus_image):
    layers = list_conv_layers(yolo11n, (160, 160))
    chosen = pick_hierarchy_layers(layers)
    x, _ = yolo_preprocess(160)(bus_image)
    with ActivationRecorder(yolo11n, [layer.name for layer in chosen], top_n=4) as recorder:
        with torch.no_grad():
            yolo11n(x)
        maps = recorder.collect(0, 0.0)
    strip = hierarchy_strip([maps[layer.name] for layer in chosen], layers, panel_px=120)
    assert strip.shape == (120 + 36, 3 * 120 + 2 * 4, 3)


def test_filter_tiles_show_the_kernels_colour():
    kernels = np.zeros((3, 3, 3, 3), np.float32)
    kernels[0, :, :, 0] = 1.0  # wants red
    kernels[1, :, :, 2] = 1.0  # wants blue
    kernels[2, 0, 0, 1] = -1.0  # dislikes green in one corner
    image = filter_tiles(kernels, tile_px=10, columns=3)
    layout = filter_tiles_layout(3, tile_px=10, columns=3)
    assert image.shape == (layout.size_wh[1], layout.size_wh[0], 3)
    red = image[layout.cell_origin(0)[1] + 5, layout.cell_origin(0)[0] + 5]
    blue = image[layout.cell_origin(1)[1] + 5, layout.cell_origin(1)[0] + 5]
    assert red[2] > 200 and red[0] < 160  # BGR: red channel high
    assert blue[0] > 200 and blue[2] < 160
    assert layout.cell_at(*layout.cell_origin(2)) == 2


def test_first_layer_filters_of_a_real_model(yolo11n):
    name, conv = first_layer_conv(yolo11n, (160, 160))
    assert name == "model.0.conv"
    assert first_layer_kernels(conv).shape == (16, 3, 3, 3)


def test_filter_response_lights_up_where_the_kernel_matches():
    conv = nn.Conv2d(3, 2, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[1, :, :, 0] = -1.0  # vertical edge detector: dark left, bright right
        conv.weight[1, :, :, 2] = 1.0
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[:, 120:] = 255
    response = filter_response(conv, 1, Preprocess((64, 64), ResizeMode.STRETCH), frame)
    assert response.shape == (100, 200)
    column = int(np.argmax(response.mean(axis=0)))
    assert abs(column - 120) <= 6
    with pytest.raises(InsightError, match="filter 5 does not exist"):
        filter_response(conv, 5, Preprocess((64, 64)), frame)


def test_receptive_field_outline_dims_the_rest_and_keeps_the_input(bus_image):
    before = bus_image.copy()
    out = draw_receptive_field(bus_image, (100.0, 200.0, 300.0, 400.0), label="RF 63")
    assert np.array_equal(bus_image, before)
    assert np.array_equal(out[250:350, 150:250], bus_image[250:350, 150:250])
    assert out[800:900, 500:600].mean() < bus_image[800:900, 500:600].mean() * 0.7


def test_grid_layout_hit_testing_in_gaps_and_past_the_last_cell():
    layout = GridLayout(5, 2, (10, 10), gap=2)  # cells at x 2..11, 14..23; y 2..11, 14..23, 26..35
    assert layout.rows == 3 and layout.size_wh == (26, 38)
    assert layout.cell_at(5, 30) == 4
    assert layout.cell_at(15, 30) is None  # where a sixth cell would be
    assert layout.cell_at(12, 5) is None  # the gap between columns
