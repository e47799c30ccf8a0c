"""OpenVINO models compiled per input shape: the dynamic model runs until a static copy is ready, copies are
bounded, a failed compile leaves the dynamic model running, and real predictions do not change."""

import importlib.util
import threading

import numpy as np
import pytest
import torch
from torchvision.ops import box_iou

from desktop_app.core.models.base import PredictOptions
from desktop_app.core.models.loader import load_model
from desktop_app.core.models.openvino_shapes import StaticShapes, inference_precision


class _Compiled:
    def __init__(self, tag):
        self.tag = tag

    def __call__(self, x):
        return {"out": self.tag}


class _Source:
    def __init__(self):
        self.shape = None

    def clone(self):
        return _Source()

    def reshape(self, shape):
        self.shape = tuple(shape)


def _compiler(log, gate=None, fail=()):
    def compile_model(model):
        if gate is not None:
            gate.wait(5)
        if model.shape in fail:
            raise RuntimeError("unsupported shape")
        log.append(model.shape)
        return _Compiled(model.shape)
    return compile_model


def _tag(shapes, shape):
    return shapes(np.zeros(shape, np.float32))[0]


def test_each_shape_gets_its_own_static_model_and_the_cache_is_bounded():
    log = []
    shapes = StaticShapes(_Compiled("dynamic"), _Source, _compiler(log), cache_size=2, background=False)
    a, b, c = (1, 3, 384, 640), (1, 3, 640, 640), (1, 3, 480, 640)
    assert _tag(shapes, a) == a and _tag(shapes, a) == a
    assert log == [a]  # compiled once, then reused
    assert _tag(shapes, b) == b and _tag(shapes, c) == c
    assert shapes.shapes == (b, c)  # the least recently used copy (a) was dropped
    assert _tag(shapes, a) == a and log == [a, b, c, a]
    assert (shapes.static_runs, shapes.dynamic_runs) == (5, 0)


def test_the_dynamic_model_runs_until_the_background_compile_is_done():
    log, gate = [], threading.Event()
    shapes = StaticShapes(_Compiled("dynamic"), _Source, _compiler(log, gate), background=True)
    shape = (1, 3, 384, 640)
    assert _tag(shapes, shape) == "dynamic"
    assert _tag(shapes, shape) == "dynamic"  # still compiling: no second compile is started
    gate.set()
    shapes.wait()
    assert _tag(shapes, shape) == shape
    assert log == [shape] and (shapes.dynamic_runs, shapes.static_runs) == (2, 1)


def test_a_shape_that_fails_to_compile_stays_dynamic_and_is_not_retried(caplog):
    log = []
    bad = (1, 3, 100, 100)
    shapes = StaticShapes(_Compiled("dynamic"), _Source, _compiler(log, fail=(bad,)), background=False)
    assert _tag(shapes, bad) == "dynamic" and _tag(shapes, bad) == "dynamic"
    assert "staying dynamic" in caplog.text and caplog.text.count("staying dynamic") == 1
    assert _tag(shapes, (1, 3, 64, 64)) == (1, 3, 64, 64)  # other shapes are unaffected


def test_the_precision_openvino_computes_in_is_named_as_the_hud_writes_it():
    class Hint:
        def __init__(self, name):
            self.name = name

        def to_string(self):
            return self.name

    class Compiled:
        def __init__(self, hint):
            self.hint = hint

        def get_property(self, key):
            assert key == "INFERENCE_PRECISION_HINT"
            if self.hint is None:
                raise RuntimeError("not supported")
            return Hint(self.hint)

    assert [inference_precision(Compiled(h)) for h in ("f32", "bf16", "f16", None)] == ["fp32", "bf16", "fp16",
                                                                                         "fp32"]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("openvino") is None, reason="openvino not installed")
def test_the_pose_model_on_openvino_switches_to_a_static_copy_and_finds_the_same_people(private_models_dir,
                                                                                        zidane_frame):
    model = load_model("yolo11n-pose", device="cpu", backend="openvino")
    try:
        shapes = model.static_shapes
        assert shapes is not None
        dynamic = model.predict(zidane_frame, PredictOptions())  # 1280x720 -> a 384x640 letterbox
        shapes.wait()
        assert (1, 3, 384, 640) in shapes.shapes
        static = model.predict(zidane_frame, PredictOptions())
        assert shapes.static_runs >= 1
        assert len(static) == len(dynamic) == 2
        best = box_iou(torch.tensor(static.xyxy), torch.tensor(dynamic.xyxy)).max(dim=1).values
        assert (best > 0.95).all()
        assert np.abs(static.keypoints[..., :2] - dynamic.keypoints[..., :2]).max() < 12
        backend = model._yolo.predictor.model.backend
        assert model.info.precision == inference_precision(backend.ov_compiled_model)
        assert model.info.precision in ("fp32", "bf16", "fp16")
    finally:
        model.close()
