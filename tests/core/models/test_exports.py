"""Exported backends: the task and names come from the metadata Ultralytics writes, never from the file name."""

import importlib.util
import json
import shutil

import numpy as np
import pytest

from desktop_app.core.errors import ModelError
from desktop_app.core.models import catalog
from desktop_app.core.models.base import PredictOptions
from desktop_app.core.models.exports import export_backend, export_for_cpu, read_export_metadata
from desktop_app.core.models.loader import load_model
from desktop_app.core.models.tasks import Task

needs_onnx = pytest.mark.skipif(importlib.util.find_spec("onnx") is None
                                or importlib.util.find_spec("onnxruntime") is None,
                                reason="onnx and onnxruntime are needed for ONNX export")
needs_openvino = pytest.mark.skipif(importlib.util.find_spec("openvino") is None, reason="openvino not installed")


@pytest.mark.parametrize("name, is_dir, backend", [
    ("m.onnx", False, "onnx"), ("m.engine", False, "tensorrt"), ("m_openvino_model", True, "openvino"),
    ("m.pt", False, None), ("m.torchscript", False, None),
])
def test_export_backend_from_the_path(tmp_path, name, is_dir, backend):
    path = tmp_path / name
    path.mkdir() if is_dir else path.write_bytes(b"x")
    assert export_backend(path) == backend


def test_tensorrt_metadata_header_is_read(tmp_path):
    meta = {"task": "segment", "names": {"0": "person"}, "imgsz": [480, 640], "description": "Ultralytics YOLO11n-seg "
            "model trained on coco.yaml"}
    raw = json.dumps(meta).encode()
    path = tmp_path / "model.engine"
    path.write_bytes(len(raw).to_bytes(4, "little") + raw + bytes(range(256)))
    assert read_export_metadata(path)["task"] == "segment"
    assert read_export_metadata(path)["imgsz"] == [480, 640]


@pytest.mark.slow
@needs_onnx
def test_onnx_export_of_an_untrained_detector_loads_with_its_task_from_metadata(private_models_dir, bus_frame):
    exported = export_for_cpu("yolo11n.yaml", "onnx", imgsz=320)
    assert exported.is_file() and exported.suffix == ".onnx"
    assert exported.is_relative_to(private_models_dir / "exports")
    assert export_for_cpu("yolo11n.yaml", "onnx", imgsz=320) == exported  # cached, not re-exported
    misleading = exported.parent / "yolo11n-pose.onnx"  # the file name lies; the metadata does not
    shutil.copyfile(exported, misleading)
    model = load_model(str(misleading))
    try:
        info = model.info
        assert (info.task, info.backend, info.untrained, info.precision) == (Task.DETECT, "onnx", True, "fp32")
        assert info.names[0] == "person" and model.torch_module is None
        result = model.predict(bus_frame, PredictOptions(conf=0.0))  # imgsz 640 asked, 320 used: static input
        assert len(result) > 0
        h, w = bus_frame.image.shape[:2]
        assert (result.xyxy >= 0).all() and (result.xyxy[:, [0, 2]] <= w).all() and (result.xyxy[:, [1, 3]] <= h).all()
    finally:
        model.close()


@pytest.mark.slow
@needs_onnx
def test_onnx_without_metadata_needs_an_explicit_task(private_models_dir, tmp_path):
    import onnx

    exported = export_for_cpu("yolo11n.yaml", "onnx", imgsz=320)
    proto = onnx.load(str(exported))
    del proto.metadata_props[:]
    bare = tmp_path / "third-party.onnx"
    onnx.save(proto, str(bare))
    with pytest.raises(ModelError, match="carries no Ultralytics metadata"):
        load_model(str(bare))
    model = load_model(str(bare), task=Task.DETECT)
    assert model.info.task == Task.DETECT
    model.close()


@pytest.mark.slow
@needs_openvino
def test_openvino_export_of_the_pose_model_still_finds_two_people(private_models_dir, zidane_frame):
    weights = catalog.bundled_path(catalog.find("yolo11n-pose"))
    exported = export_for_cpu(weights, "openvino", imgsz=640)
    assert exported.is_dir() and exported.name.endswith("_openvino_model")
    assert not (weights.parent / "yolo11n-pose_openvino_model").exists()  # nothing written into site-packages
    model = load_model(str(exported))
    try:
        assert (model.info.task, model.info.backend, model.info.untrained) == (Task.POSE, "openvino", False)
        result = model.predict(zidane_frame, PredictOptions())
        assert len(result) == 2 and result.keypoints.shape == (2, 17, 3)
        assert np.all(result.confidence > 0.5)
    finally:
        model.close()


def test_export_format_and_source_are_checked(tmp_path):
    with pytest.raises(ModelError, match="choose openvino, openvino-int8, onnx"):
        export_for_cpu("yolo11n.yaml", "tflite")
    with pytest.raises(ModelError, match="not an Ultralytics .pt file"):
        export_for_cpu(tmp_path / "absent.pt", "onnx")


@pytest.mark.slow
@needs_onnx
def test_a_catalog_model_can_run_through_a_cached_onnx_export(private_models_dir, zidane_frame):
    model = load_model("yolo11n-pose", backend="onnx", imgsz=320)
    try:
        assert (model.info.model_id, model.info.backend, model.info.task) == ("yolo11n-pose", "onnx", Task.POSE)
        result = model.predict(zidane_frame, PredictOptions())
        assert len(result) == 2 and result.keypoints.shape == (2, 17, 3)
    finally:
        model.close()
    assert len(list((private_models_dir / "exports").glob("yolo11n-pose-320-*/yolo11n-pose.onnx"))) == 1


@pytest.mark.parametrize("spec, backend, message", [
    ("efficientnet-lite0", "openvino", "runs on PyTorch only"),
    ("yolo11n-pose", "coreml", "unknown backend"),
])
def test_backend_choices_are_checked(spec, backend, message):
    with pytest.raises(ModelError, match=message):
        load_model(spec, backend=backend)
