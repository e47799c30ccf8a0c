"""CUDA graph replay of the forward pass: the same predictions as eager runs, hooks honoured, shape changes
re-captured. The replay itself needs a CUDA GPU; the rules around it are checked on the CPU too."""

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from desktop_app.core.frames import Frame
from desktop_app.core.models import catalog
from desktop_app.core.models.base import PredictOptions
from desktop_app.core.models.cuda_graphs import (
    CUDA_GRAPHS_ENV, GraphedForward, cuda_graphs_enabled, graph_safe, hooks_on,
)
from desktop_app.core.models.ultralytics_adapter import UltralyticsAdapter

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="CUDA graphs need a CUDA GPU")


def test_hooks_on_any_module_or_globally_are_seen_and_only_marked_ones_are_graph_safe():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Sequential(nn.Conv2d(4, 4, 1)))
    modules = list(net.modules())
    assert hooks_on(modules) == (True, (), [])
    plain = net[2][0].register_forward_hook(lambda *a: None)
    assert hooks_on(modules)[0] is False
    plain.remove()
    replayed = []
    safe_post = graph_safe(lambda *a: None, lambda: replayed.append("post"))
    safe_pre = graph_safe(lambda *a: None, lambda: replayed.append("pre"))
    handles = [net[2][0].register_forward_hook(safe_post), net.register_forward_pre_hook(safe_pre)]
    safe, ids, replays = hooks_on(modules)
    assert safe and ids == (id(safe_pre), id(safe_post))
    for replay in replays:
        replay()
    assert replayed == ["pre", "post"]  # the root's pre-hook first, as in a real pass
    handle = nn.modules.module.register_module_forward_hook(safe_post)
    assert hooks_on(modules)[0] is False  # global hooks are never replayed
    handle.remove()
    for h in handles:
        h.remove()
    assert hooks_on(modules) == (True, (), [])


@pytest.mark.parametrize("value, enabled", [(None, True), ("1", True), ("0", False), ("off", False), ("no", False)])
def test_graphs_can_be_switched_off_by_environment(monkeypatch, value, enabled):
    if value is None:
        monkeypatch.delenv(CUDA_GRAPHS_ENV, raising=False)
    else:
        monkeypatch.setenv(CUDA_GRAPHS_ENV, value)
    assert cuda_graphs_enabled() is enabled


def test_cpu_tensors_run_eagerly():
    net = nn.Conv2d(3, 2, 3)
    graphed = GraphedForward(net, net)
    x = torch.randn(1, 3, 8, 8)
    assert torch.equal(graphed(x), net(x))
    assert not graphed.captured and graphed.captures == 0


def test_cpu_models_are_never_graphed(zidane_frame):
    weights = catalog.bundled_path(catalog.find("yolo11n-pose"))
    model = UltralyticsAdapter(weights, device="cpu", model_id="yolo11n-pose")
    try:
        model.predict(zidane_frame, PredictOptions())
        model.predict(zidane_frame, PredictOptions())
        assert model.graph_stats == {"captures": 0, "replays": 0}
        assert model.info.runtime == ""  # the HUD names no CUDA graph
    finally:
        model.close()


def test_the_graph_path_asked_for_on_the_cpu_runs_eagerly_and_predicts_the_same(zidane_frame):
    weights = catalog.bundled_path(catalog.find("yolo11n-pose"))
    plain = UltralyticsAdapter(weights, device="cpu", model_id="yolo11n-pose")
    forced = UltralyticsAdapter(weights, device="cpu", model_id="yolo11n-pose", cuda_graphs=True)
    try:
        for _ in range(3):
            _same(forced.predict(zidane_frame, PredictOptions()), plain.predict(zidane_frame, PredictOptions()))
        assert forced._stages._graphed is not None  # wired in, and declined the CPU tensors
        assert forced.graph_stats == {"captures": 0, "replays": 0}
    finally:
        plain.close()
        forced.close()


def _pose(graphs: bool):
    weights = catalog.bundled_path(catalog.find("yolo11n-pose"))
    return UltralyticsAdapter(weights, device="cuda", model_id="yolo11n-pose", cuda_graphs=graphs)


def _same(a, b):
    # fp16, and cuDNN may autotune each model to other kernels: equal to rounding, not bit for bit.
    assert len(a) == len(b) >= 1
    oa, ob = np.argsort(a.xyxy[:, 0]), np.argsort(b.xyxy[:, 0])
    np.testing.assert_allclose(a.xyxy[oa], b.xyxy[ob], atol=2.0)
    np.testing.assert_allclose(a.confidence[oa], b.confidence[ob], atol=0.01)
    visible = b.keypoints[ob][..., 2] > 0.5
    np.testing.assert_allclose(a.keypoints[oa][..., :2][visible], b.keypoints[ob][..., :2][visible], atol=4.0)


@needs_cuda
def test_replayed_predictions_match_eager_ones_across_frame_sizes(zidane_frame, bus_frame):
    eager, graphed = _pose(False), _pose(True)
    small = Frame(cv2.resize(zidane_frame.image, (640, 360)), 1, 0.1)
    try:
        # zidane (16:9) -> bus (3:4) -> zidane again: each size change is captured anew, and going back must
        # not replay a graph that reads buffers the eager passes in between replaced.
        for frame in (zidane_frame, zidane_frame, zidane_frame, bus_frame, bus_frame, zidane_frame, small,
                      zidane_frame, zidane_frame):
            _same(graphed.predict(frame, PredictOptions()), eager.predict(frame, PredictOptions()))
        stats = graphed.graph_stats
        assert stats["captures"] >= 3 and stats["replays"] >= 5
        assert graphed.info.runtime == "CUDA graph" and eager.info.runtime == ""
        assert eager.graph_stats == {"captures": 0, "replays": 0}
    finally:
        eager.close()
        graphed.close()


@needs_cuda
def test_hooks_run_on_every_frame_while_attached(zidane_frame):
    model = _pose(True)
    try:
        for _ in range(3):
            model.predict(zidane_frame, PredictOptions())
        replays = model.graph_stats["replays"]
        assert replays >= 1
        seen = []
        handle = model.torch_module.model[2].register_forward_hook(lambda m, a, out: seen.append(out.shape))
        for _ in range(3):
            model.predict(zidane_frame, PredictOptions())
        handle.remove()
        assert len(seen) == 3 and model.graph_stats["replays"] == replays
        model.predict(zidane_frame, PredictOptions())
        assert model.graph_stats["replays"] == replays + 1
    finally:
        model.close()


@needs_cuda
def test_changed_options_and_tracking_keep_results_right(zidane_frame, bus_frame):
    eager, graphed = _pose(False), _pose(True)
    try:
        for options in (PredictOptions(), PredictOptions(imgsz=320), PredictOptions(conf=0.5), PredictOptions()):
            for frame in (zidane_frame, bus_frame, zidane_frame):
                _same(graphed.predict(frame, options), eager.predict(frame, options))
        graphed.track = True
        graphed.predict(bus_frame, PredictOptions())
        graphed.track = False
        _same(graphed.predict(zidane_frame, PredictOptions()), eager.predict(zidane_frame, PredictOptions()))
        _same(graphed.predict(zidane_frame, PredictOptions()), eager.predict(zidane_frame, PredictOptions()))
    finally:
        eager.close()
        graphed.close()


@needs_cuda
def test_feature_maps_replayed_from_the_graph_are_those_of_each_new_frame(zidane_frame, bus_frame, monkeypatch):
    from desktop_app.core.panes import build_runner
    from desktop_app.core.pipeline import PaneSpec

    spec = PaneSpec("features", "yolo11n-pose", PredictOptions())
    graphed = build_runner(spec, "cuda")
    monkeypatch.setenv(CUDA_GRAPHS_ENV, "0")
    eager = build_runner(spec, "cuda")
    try:
        frames = [zidane_frame, zidane_frame, zidane_frame, bus_frame, bus_frame, zidane_frame, zidane_frame]
        for index, frame in enumerate(frames):  # past warm-up and capture, across a size change and back
            frame = Frame(frame.image, index, index / 30.0)
            got, expected = graphed.run(frame, 0), eager.run(frame, 0)
            assert got.error is None and got.result is not None and len(got.result) >= 2
            maps_got, maps_expected = got.extras["maps"], expected.extras["maps"]
            np.testing.assert_allclose(maps_got.channel_maps, maps_expected.channel_maps, atol=0.05)
        assert graphed.adapter.graph_stats["replays"] >= 3
        assert eager.adapter.graph_stats["replays"] == 0
    finally:
        graphed.close()
        eager.close()
