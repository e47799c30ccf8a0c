"""INT8 OpenVINO exports: calibrated offline on the built-in sample photographs, labelled int8, and finding what the
float model finds."""

import importlib.util

import numpy as np
import pytest
import torch
import yaml
from torchvision.ops import box_iou

from desktop_app.core.errors import ModelError
from desktop_app.core.models import catalog
from desktop_app.core.models.base import PredictOptions
from desktop_app.core.models.calibration import CALIBRATION_IMAGES, calibration_dataset
from desktop_app.core.models.loader import load_model
from desktop_app.core.models.tasks import Task

pytestmark = pytest.mark.skipif(importlib.util.find_spec("nncf") is None or importlib.util.find_spec("openvino")
                                is None, reason="INT8 export needs nncf and openvino")


def test_calibration_uses_real_sample_photos_and_the_models_own_labels(private_models_dir):
    path = calibration_dataset("pose", {0: "person"}, (17, 3))
    data = yaml.safe_load(path.read_text())
    images = sorted((path.parent / data["val"]).glob("*.jpg"))
    assert data["names"] == {0: "person"} and data["kpt_shape"] == [17, 3]
    assert len(images) == CALIBRATION_IMAGES and path.is_relative_to(private_models_dir / "exports")
    import cv2

    first, last = cv2.imread(str(images[0])), cv2.imread(str(images[-1]))
    assert first.std() > 20 and not np.array_equal(first, last)  # photographs, and different views of them
    with pytest.raises(ValueError, match="not classify"):
        calibration_dataset("classify", {0: "a"})


def test_calibration_views_cover_every_photo_and_camera_move_and_none_the_benchmark_holds_out():
    from desktop_app.core.models.calibration import calibration_frame_indices
    from desktop_app.core.sources.sample import SampleSource

    indices = calibration_frame_indices()
    source = SampleSource(duration_s=40.0)
    slots = {int(i / source.fps // source.seconds_per_photo) for i in indices}
    assert {s % 2 for s in slots} == {0, 1}  # bus and zidane (the sample alternates its two photos)
    assert {s % 3 for s in slots} == {0, 1, 2}  # each of its three camera moves
    # odd frames only: compare_runtimes holds out every tenth frame
    assert len(indices) == CALIBRATION_IMAGES and all(i % 2 == 1 for i in indices)


@pytest.mark.slow
def test_int8_pose_model_finds_the_same_people_as_the_float_one(private_models_dir, zidane_frame, bus_frame):
    float_model = load_model("yolo11n-pose", device="cpu", backend="openvino")
    int8_model = load_model("yolo11n-pose", device="cpu", backend="openvino-int8")
    try:
        assert (int8_model.info.precision, int8_model.info.backend, int8_model.info.task) == ("int8", "openvino",
                                                                                               Task.POSE)
        assert float_model.info.precision in ("fp32", "bf16")  # OpenVINO computes in bf16 where the CPU has it
        for frame in (zidane_frame, bus_frame):
            # Each confident person of one model is found by the other, with a margin for scores near the line.
            for a, b in ((float_model, int8_model), (int8_model, float_model)):
                sure = a.predict(frame, PredictOptions(conf=0.5))
                loose = b.predict(frame, PredictOptions(conf=0.35))
                assert len(sure) >= 2
                best = box_iou(torch.tensor(sure.xyxy), torch.tensor(loose.xyxy)).max(dim=1).values
                assert (best > 0.85).all()
    finally:
        float_model.close()
        int8_model.close()
    exports = list((private_models_dir / "exports").glob("yolo11n-pose-640-dynamic-int8-*/*_openvino_model"))
    assert len(exports) == 1
    again = load_model("yolo11n-pose", device="cpu", backend="openvino-int8")  # cached: no second export
    again.close()
    assert list((private_models_dir / "exports").glob("yolo11n-pose-640-dynamic-int8-*")) == [exports[0].parent]


def test_int8_is_refused_for_classifiers_with_a_way_out(private_models_dir):
    with pytest.raises(ModelError, match="INT8 export is for detect, segment, pose models.*@openvino"):
        load_model("yolo11n-cls.yaml", device="cpu", backend="openvino-int8")
