"""Layer inventory and receptive fields: hand-computed values for small stacks and for real models."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from desktop_app.core.errors import InsightError
from desktop_app.core.insight.layers import (
    LayerKind,
    backbone_layers,
    find_layer,
    list_conv_layers,
    pick_hierarchy_layers,
)
from desktop_app.core.insight.preprocess import Preprocess, ResizeMode
from desktop_app.core.insight.receptive_field import RFState, receptive_field_rect
from insight_helpers import all_hooks


def _known_stack() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, 1, 1), nn.ReLU(),
        nn.Conv2d(4, 4, 3, 1, 1), nn.ReLU(),
        nn.MaxPool2d(2, 2),
        nn.Conv2d(4, 8, 3, 1, 1),
    )


@pytest.mark.parametrize(
    ("name", "kind", "rf", "jump", "shape"),
    [
        ("0", LayerKind.CONV, 3, 1, (4, 32, 32)),
        ("2", LayerKind.CONV, 5, 1, (4, 32, 32)),
        ("4", LayerKind.POOL, 6, 2, (4, 16, 16)),
        ("5", LayerKind.CONV, 10, 2, (8, 16, 16)),
    ],
)
def test_known_stack_matches_hand_computed_receptive_fields(name, kind, rf, jump, shape):
    layer = find_layer(list_conv_layers(_known_stack(), (32, 32)), name)
    assert layer.kind is kind
    assert layer.rf_hw == (rf, rf)
    assert layer.jump_hw == (jump, jump)
    assert layer.out_shape_chw == shape
    assert not layer.approximate


def test_pool_shifts_the_centre_of_the_first_cell_by_half_a_pixel():
    layers = list_conv_layers(_known_stack(), (32, 32))
    # 2x2 pool over cells 0 and 1: its first cell is centred between input pixels 0 and 1
    assert find_layer(layers, "4").start_hw == (0.5, 0.5)
    assert find_layer(layers, "0").start_hw == (0.0, 0.0)


@pytest.mark.parametrize(
    ("layer", "rf", "jump", "start"),
    [
        (nn.Conv2d(3, 4, 3, stride=1, padding=2, dilation=2), 5, 1, 0.0),  # dilated: k_eff = 5
        (nn.Conv2d(3, 4, 7, stride=2, padding=3), 7, 2, 0.0),
        (nn.Conv2d(3, 4, 3, stride=1, padding=0), 3, 1, 1.0),  # valid: first cell centred on pixel 1
        (nn.Conv2d(3, 4, 5, stride=1, padding="same"), 5, 1, 0.0),
        (nn.AvgPool2d(3, stride=3), 3, 3, 1.0),
    ],
)
def test_single_layer_arithmetic(layer, rf, jump, start):
    (info,) = list_conv_layers(nn.Sequential(layer), (24, 24))
    assert info.rf_hw == (rf, rf)
    assert info.jump_hw == (jump, jump)
    assert info.start_hw == (start, start)


def test_explicit_padding_module_moves_the_first_cell():
    net = nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(3, 4, 3, 2))  # TF 'same': odd pixel bottom/right
    (info,) = list_conv_layers(net, (224, 224))
    assert info.out_shape_chw == (4, 112, 112)
    assert info.start_hw == (1.0, 1.0)
    assert info.rf_hw == (3, 3)


def test_residual_block_takes_the_longest_path_without_flagging_it():
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, 1, 1)

        def forward(self, x):
            return x + self.conv(x)

    net = nn.Sequential(nn.Conv2d(3, 4, 3, 1, 1), Residual(), nn.Conv2d(4, 4, 3, 1, 1))
    layers = list_conv_layers(net, (16, 16))
    assert [layer.receptive_field for layer in layers] == [3, 5, 7]
    assert not any(layer.approximate for layer in layers)


def test_first_conv_of_yolo11n_is_k3_s2_with_rf_3(yolo11n):
    layers = list_conv_layers(yolo11n, (160, 160))
    first = layers[0]
    assert first.name == "model.0.conv"
    assert (first.kernel_hw, first.stride_hw, first.padding_hw) == ((3, 3), (2, 2), (1, 1))
    assert first.rf_hw == (3, 3) and first.jump_hw == (2, 2)
    assert first.out_shape_chw == (16, 80, 80)
    second = find_layer(layers, "model.1.conv")
    assert second.rf_hw == (7, 7) and second.jump_hw == (4, 4)  # 3 + (3 - 1) * 2


def test_yolo11n_sppf_pool_called_three_times_and_neck_flagged_approximate(yolo11n):
    layers = list_conv_layers(yolo11n, (160, 160))
    pool = find_layer(layers, "model.9.m")
    assert pool.calls == 3
    assert pool.rf_hw[0] == find_layer(layers, "model.9.cv1.conv").rf_hw[0] + 3 * 4 * 32
    neck = find_layer(layers, "model.13.cv1.conv")  # after upsample + concat
    assert neck.approximate and neck.jump_hw == (16, 16)
    assert not find_layer(layers, "model.8.cv2.conv").approximate
    assert "model.23.dfl.conv" not in {layer.name for layer in layers}  # not an image-plane map


def test_efficientnet_tf_same_padding_is_seen_through(efficientnet_lite0):
    layers = list_conv_layers(efficientnet_lite0, (224, 224))
    stem = layers[0]
    assert stem.name == "_conv_stem"
    assert stem.out_shape_chw == (32, 112, 112)
    # TF 'same' pads 224 -> 225 at the bottom/right only: cell 0 is centred on pixel 1, no top/left padding
    assert stem.start_hw == (1.0, 1.0) and stem.padding_hw == (0, 0)
    head = find_layer(layers, "_conv_head")
    assert head.out_shape_chw == (1280, 7, 7) and head.jump_hw == (32, 32)
    assert not any(layer.approximate for layer in layers)


def test_probe_restores_training_flags_and_leaves_batchnorm_statistics_alone(yolo11n):
    bn = next(m for m in yolo11n.modules() if isinstance(m, nn.BatchNorm2d))
    before = bn.running_mean.clone()
    assert yolo11n.training
    list_conv_layers(yolo11n, (96, 96))
    assert yolo11n.training and all(m.training for m in yolo11n.modules())
    assert torch.equal(bn.running_mean, before)
    assert all_hooks(yolo11n) == 0


def test_inventory_is_cached_per_model_and_size():
    net = _known_stack()
    calls = []
    net.register_forward_hook(lambda *args: calls.append(1))
    first = list_conv_layers(net, (32, 32))
    assert list_conv_layers(net, (32, 32)) == first
    assert len(calls) == 1
    list_conv_layers(net, (64, 64))
    assert len(calls) == 2


def test_hierarchy_picks_early_middle_and_deep_backbone_layers(yolo11n, efficientnet_lite0):
    yolo = pick_hierarchy_layers(list_conv_layers(yolo11n, (160, 160)))
    assert [layer.name for layer in yolo][0] == "model.0.conv"
    strides = [layer.cumulative_stride for layer in yolo]
    assert strides == sorted(strides) and strides[-1] == 32 and len(set(strides)) == 3
    # the deep layer is the end of the backbone, before the neck upsamples again
    assert int(yolo[-1].name.split(".")[1]) <= 10
    eff = pick_hierarchy_layers(list_conv_layers(efficientnet_lite0, (224, 224)))
    assert [layer.name for layer in eff][::2] == ["_conv_stem", "_conv_head"]


def test_backbone_stops_at_the_first_upsample(yolo11n):
    names = [layer.name for layer in backbone_layers(list_conv_layers(yolo11n, (160, 160)))]
    assert names[-1] == "model.10.cv2.conv"
    decoder = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.Conv2d(4, 4, 3, 2, 1), nn.Upsample(scale_factor=2),
                            nn.Conv2d(4, 4, 3, 1, 1))
    layers = list_conv_layers(decoder, (32, 32))
    assert [layer.name for layer in backbone_layers(layers)] == ["0", "1"]
    assert layers[-1].after_upsample and layers[-1].approximate and layers[-1].jump_hw == (2, 2)


def test_squeeze_excitation_does_not_end_the_backbone():
    from torchvision.models import mobilenet_v3_small

    # its SE gates pool to 1x1 (a global receptive field at a "stride" of the whole map) mid-network
    chosen = pick_hierarchy_layers(list_conv_layers(mobilenet_v3_small(weights=None), (224, 224)))
    assert chosen[-1].cumulative_stride == 32 and chosen[-1].out_shape_chw[1:] == (7, 7)


def test_unknown_layer_name_is_an_insight_error():
    with pytest.raises(InsightError, match="not a convolution"):
        find_layer(list_conv_layers(_known_stack(), (32, 32)), "nope")


def test_receptive_field_rect_maps_through_the_letterbox():
    # layer: RF 63, stride 8, cell (0,0) centred on input pixel 0 (like YOLO11n model.4.m.0.cv2)
    layer = find_layer(list_conv_layers(_known_stack(), (32, 32)), "5")
    layer = dataclasses.replace(layer, rf_hw=(63.0, 63.0), jump_hw=(8.0, 8.0), start_hw=(0.0, 0.0))
    geometry = Preprocess((640, 640), ResizeMode.LETTERBOX).geometry((1280, 960))  # scale 0.5, pad 80 top
    assert geometry.scale_xy == (0.5, 0.5) and geometry.offset_xy == (0.0, 80.0)
    x0, y0, x1, y1 = receptive_field_rect(layer, 40, 30, geometry)
    # input box: x 240-31..240+32, y 320-31..320+32 -> frame: (x/0.5, (y-80)/0.5)
    assert (x0, y0, x1, y1) == (418.0, 418.0, 544.0, 544.0)
    # a corner cell is clipped to the picture (the letterbox bars are not part of the frame)
    assert receptive_field_rect(layer, 0, 0, geometry)[:2] == (0.0, 0.0)


def test_cell_box_is_centred_on_the_cell():
    state = RFState((5.0, 5.0), (2.0, 2.0), (0.5, 0.5))
    x0, y0, x1, y1 = state.cell_box(3, 1)
    assert ((x0 + x1) / 2, (y0 + y1) / 2) == (2.5 + 0.5, 6.5 + 0.5)
    assert (x1 - x0, y1 - y0) == (5.0, 5.0)
