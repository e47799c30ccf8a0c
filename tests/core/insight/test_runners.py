"""Insight views as pane kinds: each one builds through `build_runner`, draws a frame-sized pane, and the feature
views record from the prediction pass itself (one forward pass per frame, no hook left behind)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from insight_helpers import build_small_runner, all_hooks, bus_on_grey

from desktop_app.core.errors import InsightError
from desktop_app.core.frames import Frame
from desktop_app.core.insight.layers import pick_hierarchy_layers
from desktop_app.core.panes import pane_kinds
from desktop_app.core.pipeline import Pipeline

KINDS = ("features", "hierarchy", "filters", "lesson", "gradcam", "fgsm", "teach")
RF_COLOR = (0, 255, 255)


def small_frame(index: int = 0) -> Frame:
    image, _ = bus_on_grey((320, 240), scale=0.22, top_left=(70, 58))
    return Frame(image, index, index / 30)


@pytest.fixture(scope="module")
def features():
    runner = build_small_runner("features", "yolo11n-pose")
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def hierarchy():
    runner = build_small_runner("hierarchy", "yolo11n-pose")
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def filters():
    runner = build_small_runner("filters", "efficientnet-lite0")
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def lesson():
    runner = build_small_runner("lesson", "none")
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def teach():
    runner = build_small_runner("teach", "efficientnet-lite0")
    yield runner
    runner.close()


class RootCalls:
    """Counts forward passes of a module's root (what a second pass for the views would show up as)."""

    def __init__(self, module):
        self.count = 0
        self._handle = module.register_forward_hook(self._hook)

    def _hook(self, module, args, output):
        self.count += 1

    def remove(self):
        self._handle.remove()


def test_every_insight_view_is_a_pane_kind_with_a_description():
    kinds = pane_kinds()
    for kind in KINDS:
        assert kind in kinds and len(kinds[kind]) > 20


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_draws_a_frame_sized_pane_with_real_content(kind, request):
    runner = request.getfixturevalue(kind)
    frame = small_frame()
    out = runner.run(frame, 2)
    assert out.image.shape == frame.image.shape and out.image.dtype == np.uint8
    assert out.pane_index == 2 and out.error is None
    assert out.label == runner.label and len(out.label) > 5
    assert out.extras["view"] == kind
    changed = np.any(out.image != frame.image, axis=2).mean()
    colours = len(np.unique(out.image.reshape(-1, 3), axis=0))
    assert changed > 0.02  # the view drew something over or instead of the frame...
    assert colours > 200  # ...and it is a picture, not a blank or a flat banner


def test_views_run_inside_the_pipeline_with_its_hud(features, lesson):
    pipeline = Pipeline([features, lesson])
    from desktop_app.core.render import Layout

    pipeline.set_layout(Layout.TWO)
    out = pipeline.process(small_frame(4))
    assert [p.error for p in out.panes] == [None, None]
    assert out.panes[0].result is not None and out.panes[0].result.frame_index == 4


def test_features_records_in_the_prediction_pass_itself(features):
    module = features.adapter.torch_module
    calls = RootCalls(module)
    try:
        outputs = [features.run(small_frame(i), 0) for i in range(3)]
    finally:
        calls.remove()
    assert calls.count == 3  # one forward pass per frame: the prediction's
    assert all(out.result is not None and out.result.frame_index == i for i, out in enumerate(outputs))
    layer = outputs[-1].extras["layer_info"]
    assert outputs[-1].extras["map_shape_chw"][0] == layer.out_shape_chw[0]
    assert len(outputs[-1].extras["channels"]) == 16


def test_features_default_is_a_middle_layer_and_the_list_describes_every_layer(features):
    layers = features.layers
    assert features.layer.name == pick_hierarchy_layers(list(layers), 3)[1].name
    assert all(layer.out_shape_chw[0] > 0 and layer.cumulative_stride >= 1 and layer.receptive_field >= 1
               for layer in layers)
    assert features.layer.name in features.label


def test_switching_layers_moves_the_hooks_and_leaves_none_behind(features):
    module = features.adapter.torch_module
    modules = dict(module.named_modules())
    before = all_hooks(module)
    old = features.layer.name
    new = next(layer.name for layer in features.layers if layer.name != old and layer.cumulative_stride == 8)
    features.set_layer(new)
    assert features.label.endswith(new)
    out = features.run(small_frame(), 0)
    try:
        assert out.extras["layer"] == new and out.extras["layer_info"].cumulative_stride == 8
        assert len(modules[old]._forward_hooks) == 0 and len(modules[new]._forward_hooks) == 1
        assert all_hooks(module) == before
        assert features.hook_count == 2  # the root's pass marker and the layer's hook
    finally:
        features.set_layer(old)
    features.run(small_frame(), 0)
    assert len(modules[new]._forward_hooks) == 0 and len(modules[old]._forward_hooks) == 1


def test_unknown_layer_is_refused_and_the_shown_one_kept(features):
    shown = features.layer.name
    with pytest.raises(InsightError, match="not a convolution or pooling layer"):
        features.set_layer("model.99.nope")
    assert features.layer.name == shown


def test_layers_switched_from_another_thread_while_frames_run(features):
    module = features.adapter.torch_module
    before = all_hooks(module)
    names = [layer.name for layer in features.layers[:12]]
    original = features.layer.name
    stop = threading.Event()

    def flip():
        i = 0
        while not stop.is_set():
            features.set_layer(names[i % len(names)])
            i += 1

    thread = threading.Thread(target=flip)
    thread.start()
    try:
        for i in range(12):
            out = features.run(small_frame(i), 0)
            assert out.extras["layer"] in names or out.extras["layer"] == original
    finally:
        stop.set()
        thread.join()
        features.set_layer(original)
    features.run(small_frame(), 0)
    assert all_hooks(module) == before


def test_a_click_on_the_frame_view_maps_to_the_cell_whose_field_covers_it(features):
    out = features.run(small_frame(), 0)
    layer = out.extras["layer_info"]
    # the frame view sits in the left part of the pane; click a little left of its centre
    px, py = 80, 120
    hit = features.receptive_field_at(px, py)
    assert hit is not None and hit.layer_name == layer.name and hit.channel is None
    x0, y0, x1, y1 = hit.rect_xyxy
    view = features._layout.view
    fx, fy = view.to_source(px, py)
    assert x0 <= fx <= x1 and y0 <= fy <= y1  # the field of the clicked cell covers the clicked frame point
    assert features.receptive_field_at(-5, -5) is None


def test_a_click_on_a_channel_tile_gives_that_channel_and_a_cell(features):
    out = features.run(small_frame(), 0)
    layout = features._layout
    x, y = layout.grid.cell_origin(1)
    cw, ch = layout.grid.cell_wh
    hit = features.receptive_field_at(layout.grid_origin[0] + x + cw - 1, layout.grid_origin[1] + y + ch - 1)
    h, w = out.extras["map_shape_chw"][1:]
    assert hit.channel == out.extras["channels"][1]
    assert (hit.row, hit.col) == (h - 1, w - 1)  # bottom-right corner of the tile is the map's last cell


def test_selecting_a_cell_outlines_its_receptive_field_on_the_next_frames(features):
    plain = features.run(small_frame(), 0)
    hit = features.select_at(80, 120)
    try:
        out = features.run(small_frame(1), 0)
        assert out.extras["selected_cell"] == (hit.row, hit.col)
        assert out.extras["receptive_field_xyxy"] == pytest.approx(hit.rect_xyxy)
        outline = np.all(out.image == RF_COLOR, axis=2)
        assert outline.sum() > np.all(plain.image == RF_COLOR, axis=2).sum() + 50
    finally:
        features.clear_selection()
    assert features.run(small_frame(2), 0).extras["receptive_field_xyxy"] is None


def test_close_leaves_no_hook_on_the_model():
    runner = build_small_runner("features", "yolo11n-pose")
    module = runner.adapter.torch_module
    before_views = all_hooks(module) - runner.hook_count
    runner.run(small_frame(), 0)
    runner.set_layer(runner.layers[3].name)
    runner.run(small_frame(), 0)
    runner.close()
    assert all_hooks(module) == before_views


def test_hierarchy_shows_early_to_deep_layers_from_one_pass(hierarchy):
    module = hierarchy.adapter.torch_module
    calls = RootCalls(module)
    try:
        out = hierarchy.run(small_frame(), 0)
    finally:
        calls.remove()
    assert calls.count == 1
    by_name = {layer.name: layer for layer in hierarchy.layers}
    strides = [by_name[name].cumulative_stride for name in out.extras["shown_layers"]]
    assert len(strides) == 3 and strides == sorted(strides) and strides[0] < strides[-1]
    with pytest.raises(InsightError):
        hierarchy.set_layers([])


def test_filters_selects_a_kernel_by_index_or_by_click(filters):
    first = filters.run(small_frame(), 0)
    other = (first.extras["filter"] + 1) % filters.filter_count
    filters.set_filter(other)
    second = filters.run(small_frame(), 0)
    assert second.extras["filter"] == other and f"#{other}" in second.label
    assert not np.array_equal(first.image, second.image)
    layout = filters._layout
    x, y = layout.grid.cell_origin(3)
    assert filters.select_at(layout.origin[0] + x + 1, layout.origin[1] + y + 1) == 3
    assert filters.filter_index == 3
    with pytest.raises(InsightError, match="does not exist"):
        filters.set_filter(filters.filter_count)


def test_lesson_follows_the_chosen_point_and_kernel(lesson):
    lesson.set_kernel("blur")
    lesson.set_point(10, 20)
    out = lesson.run(small_frame(), 0)
    assert out.extras["kernel"] == "blur" and "blur" in out.label
    assert out.extras["patch_xyxy"] == (6, 16, 14, 24)
    stages = dict(out.extras["stages"])
    assert stages["Max pool 2x2"] == (4, 4) and stages["Conv, valid padding"] == (6, 6)
    thumb = lesson._thumb.box
    point = lesson.select_at(thumb.x + thumb.w / 2, thumb.y + thumb.h / 2)
    assert point == pytest.approx((160, 120), abs=2)
    with pytest.raises(InsightError, match="sobel_x"):
        lesson.set_kernel("gaussian")


def test_exported_backends_are_refused_with_what_to_do():
    with pytest.raises(InsightError, match="needs the PyTorch model"):
        build_small_runner("features", "yolo11n-pose@onnx")


def test_a_model_without_torch_module_is_refused_and_released(monkeypatch):
    from desktop_app.core.models import loader
    from desktop_app.core.models.base import ModelAdapter, ModelInfo
    from desktop_app.core.models.tasks import Task

    class Exported(ModelAdapter):
        closed = False
        info = ModelInfo("yolo11n-pose.onnx", Task.POSE, {0: "person"}, "cpu", backend="onnx")

        def predict(self, frame, options):
            raise AssertionError("never reached")

        def close(self):
            Exported.closed = True

    monkeypatch.setattr(loader, "load_model", lambda *a, **k: Exported())
    with pytest.raises(InsightError, match="needs the PyTorch model.*onnx"):
        build_small_runner("gradcam", "yolo11n-pose.onnx")
    assert Exported.closed


@pytest.mark.parametrize("kind, model", [("features", "yolo11n-pose"), ("hierarchy", "yolo11n-pose"),
                                         ("gradcam", "yolo11n-pose"), ("gradcam", "efficientnet-lite0"),
                                         ("fgsm", "efficientnet-lite0")])
def test_views_do_their_model_work_in_infer_and_only_draw_in_the_step(kind, model):
    # the pipeline runs the step on its draw thread while the next frame infers: it must not touch the model
    runner = build_small_runner(kind, model)
    passes = []
    counter = runner.adapter.torch_module.register_forward_pre_hook(lambda *_: passes.append(1))
    try:
        frame = small_frame(4)
        step = runner.infer(frame, 0)
        after_infer = len(passes)
        out = step()
        assert after_infer >= 1 and len(passes) == after_infer
        assert out.image.shape == frame.image.shape and out.extras["view"] == kind
        assert out.result is not None and out.result.frame_index == 4
    finally:
        counter.remove()
        runner.close()
