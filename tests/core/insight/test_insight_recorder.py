"""Feature maps captured by hooks in the prediction pass: shapes, one pass per frame, no hook left behind."""

from __future__ import annotations

import gc
import os

import numpy as np
import psutil
import pytest
import torch
from insight_helpers import all_hooks

from desktop_app.core.errors import InsightError
from desktop_app.core.insight.layers import list_conv_layers, pick_hierarchy_layers
from desktop_app.core.insight.preprocess import imagenet_preprocess, yolo_preprocess
from desktop_app.core.insight.recorder import ActivationRecorder


def _predict(module, x):
    with torch.no_grad():
        return module(x)


@pytest.mark.parametrize(
    ("model_fixture", "input_hw", "layer_names"),
    [
        ("yolo11n", (160, 160), ["model.0.conv", "model.6.cv2.conv", "model.9.m", "model.16.cv2.conv"]),
        ("efficientnet_lite0", (224, 224), ["_conv_stem", "_blocks.5._depthwise_conv", "_conv_head"]),
    ],
)
def test_hook_outputs_have_the_shapes_the_layer_list_reports(request, model_fixture, input_hw, layer_names):
    module = request.getfixturevalue(model_fixture)
    layers = {layer.name: layer for layer in list_conv_layers(module, input_hw)}
    x = torch.rand(1, 3, *input_hw)
    with ActivationRecorder(module, layer_names, top_n=8, max_map_side=1000) as recorder:
        _predict(module, x)
        maps = recorder.collect(frame_index=7, timestamp_s=0.25)
    assert set(maps) == set(layer_names)
    for name, fm in maps.items():
        assert fm.shape_chw == layers[name].out_shape_chw
        c, h, w = fm.shape_chw
        assert fm.channel_maps.shape == (min(8, c), h, w)  # no downsampling below 1000 px
        assert fm.mean_map.shape == (h, w)
        assert fm.input_hw == input_hw
        assert (fm.frame_index, fm.timestamp_s) == (7, 0.25)


def test_channels_are_the_strongest_first_and_normalised_per_channel():
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, padding=1))
    x = torch.rand(1, 3, 32, 32)
    with ActivationRecorder(net, ["0"], top_n=3, max_map_side=16) as recorder:
        out = _predict(net, x)[0]
        fm = recorder.collect(0, 0.0)["0"]
    expected = out.clamp(min=0).mean(dim=(1, 2)).topk(3)
    assert fm.channel_index.tolist() == expected.indices.tolist()
    assert np.allclose(fm.channel_strength, expected.values.numpy(), atol=1e-6)
    assert fm.channel_maps.shape == (3, 16, 16) and fm.channel_maps.dtype == np.float32
    for channel in fm.channel_maps:
        assert channel.min() == pytest.approx(0.0) and channel.max() == pytest.approx(1.0)
    assert not fm.channel_maps.flags.writeable


def test_exactly_one_forward_pass_per_frame_with_recording_on(yolo11n):
    layers = [layer.name for layer in pick_hierarchy_layers(list_conv_layers(yolo11n, (160, 160)))]
    root_calls = []
    counter = yolo11n.register_forward_hook(lambda *args: root_calls.append(1))
    preprocess = yolo_preprocess(160)
    rng = np.random.default_rng(0)
    try:
        with ActivationRecorder(yolo11n, layers) as recorder:
            for frame_index in range(5):
                frame = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
                x, _ = preprocess(frame)
                prediction = _predict(yolo11n, x)
                maps = recorder.collect(frame_index, frame_index / 30)
                assert prediction is not None and set(maps) == set(layers)
                assert all(fm.frame_index == frame_index for fm in maps.values())
                assert len(root_calls) == frame_index + 1
            assert recorder.forward_calls == 5
    finally:
        counter.remove()
    assert all_hooks(yolo11n) == 0


def test_each_pass_resets_the_buffers(yolo11n):
    with ActivationRecorder(yolo11n, ["model.0.conv"]) as recorder:
        _predict(yolo11n, torch.zeros(1, 3, 64, 64))
        assert recorder.collect(0, 0.0)["model.0.conv"].input_hw == (64, 64)
        assert recorder.collect(1, 0.0) == {}  # collected once, then empty until the next pass
        _predict(yolo11n, torch.zeros(1, 3, 96, 96))
        assert recorder.collect(2, 0.0)["model.0.conv"].shape_chw == (16, 48, 48)


def test_no_hook_left_after_detach_or_switching_layers(efficientnet_lite0):
    recorder = ActivationRecorder(efficientnet_lite0, ["_conv_stem"]).attach()
    assert len(recorder.handles) == 2  # root pre-hook + one layer
    assert len(efficientnet_lite0._conv_stem._forward_hooks) == 1
    recorder.set_layers(["_conv_head", "_blocks.3._project_conv"])
    assert len(efficientnet_lite0._conv_stem._forward_hooks) == 0
    assert len(efficientnet_lite0._conv_head._forward_hooks) == 1
    assert all_hooks(efficientnet_lite0) == 3
    recorder.detach()
    assert recorder.handles == ()
    assert all_hooks(efficientnet_lite0) == 0
    recorder.detach()  # idempotent
    assert all_hooks(efficientnet_lite0) == 0


def test_hooks_are_removed_when_the_pass_raises(efficientnet_lite0):
    with pytest.raises(RuntimeError):
        with ActivationRecorder(efficientnet_lite0, ["_conv_stem"]):
            efficientnet_lite0(torch.zeros(1, 5, 64, 64))  # wrong channel count
    assert all_hooks(efficientnet_lite0) == 0


def test_unknown_layer_is_an_insight_error(efficientnet_lite0):
    with pytest.raises(InsightError, match="not part of this model"):
        ActivationRecorder(efficientnet_lite0, ["_conv_stem", "nope"])
    assert all_hooks(efficientnet_lite0) == 0


def test_recording_does_not_change_the_prediction(efficientnet_lite0, bus_image):
    x, _ = imagenet_preprocess()(bus_image)
    plain = _predict(efficientnet_lite0, x)
    with ActivationRecorder(efficientnet_lite0, ["_conv_stem", "_conv_head"]) as recorder:
        recorded = _predict(efficientnet_lite0, x)
        recorder.collect(0, 0.0)
    assert torch.equal(plain, recorded)


def _live_tensors() -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if issubclass(type(obj), torch.Tensor))


@pytest.mark.slow
def test_memory_stays_flat_over_200_frames(yolo11n):
    layers = [layer.name for layer in pick_hierarchy_layers(list_conv_layers(yolo11n, (160, 160)))]
    process = psutil.Process(os.getpid())
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 255, (120, 160, 3), dtype=np.uint8) for _ in range(4)]
    preprocess = yolo_preprocess(160)
    newest = []
    with ActivationRecorder(yolo11n, layers) as recorder:

        def run(first, last):
            for i in range(first, last):
                x, _ = preprocess(frames[i % len(frames)])
                _predict(yolo11n, x)
                newest[:] = [recorder.collect(i, i / 30)]  # a consumer keeps only the newest result

        run(0, 20)  # warm-up: allocator pools, lazy initialisation
        tensors_before, rss_before = _live_tensors(), process.memory_info().rss
        run(20, 220)
        tensors_after, rss_after = _live_tensors(), process.memory_info().rss
    assert tensors_after <= tensors_before, "tensors pile up with the frame count"
    assert rss_after - rss_before < 30 * 1024 * 1024, "process memory grew with the frame count"
    assert all_hooks(yolo11n) == 0


@pytest.mark.slow
def test_maps_come_from_the_adapters_own_prediction_pass(bus_image):
    """The real Ultralytics adapter: one forward per predict, and the maps of that very pass."""
    from desktop_app.core.frames import Frame
    from desktop_app.core.insight.preprocess import letterbox_geometry
    from desktop_app.core.models.base import PredictOptions
    from desktop_app.core.models.loader import load_model

    adapter = load_model("yolo11n-pose", device="cpu")
    module = adapter.torch_module
    root_calls = []
    counter = module.register_forward_hook(lambda *args: root_calls.append(1))
    try:
        with ActivationRecorder(module, ["model.0.conv", "model.10.cv2.conv"]) as recorder:
            for frame_index in range(3):
                people = adapter.predict(Frame(bus_image, frame_index, frame_index / 30), PredictOptions())
                maps = recorder.collect(frame_index, frame_index / 30)
                assert len(root_calls) == frame_index + 1 and len(people) >= 3
                # Ultralytics pads the 810x1080 photo only to a multiple of 32: a 480x640 input
                assert maps["model.0.conv"].input_hw == (640, 480)
                assert maps["model.0.conv"].shape_chw == (16, 320, 240)
                assert maps["model.10.cv2.conv"].shape_chw == (256, 20, 15)
        counter.remove()
        assert all_hooks(module) == 0
        geometry = letterbox_geometry((810, 1080), (480, 640))
        assert geometry.offset_xy == (0.0, 0.0) and geometry.scale_xy == pytest.approx((480 / 810, 640 / 1080))
    finally:
        adapter.close()
