"""Result types validate their shapes and cannot be changed once built."""

import numpy as np
import pytest

from desktop_app.core.frames import Frame
from desktop_app.core.models.results import Classification, Detections
from desktop_app.core.models.tasks import Task


def make_detections(n=2, h=8, w=10, **overrides):
    fields = dict(frame_index=3, timestamp_s=0.1, xyxy=np.tile([[1, 2, 5, 6]], (n, 1)), confidence=np.full(n, 0.5),
                  class_id=np.arange(n), class_name=tuple(f"c{i}" for i in range(n)))
    fields.update(overrides)
    return Detections(**fields)


def test_detections_store_documented_dtypes():
    det = make_detections(mask=np.ones((2, 8, 10), bool), keypoints=np.zeros((2, 17, 3)), track_id=[4, 5])
    assert det.xyxy.dtype == np.float32 and det.confidence.dtype == np.float32
    assert det.class_id.dtype == np.int64 and det.track_id.dtype == np.int64
    assert det.mask.dtype == np.bool_ and det.keypoints.shape == (2, 17, 3)
    assert len(det) == 2


@pytest.mark.parametrize("overrides, message", [
    (dict(xyxy=np.zeros((2, 3))), r"xyxy must be \(n, 4\)"),
    (dict(confidence=np.zeros(3)), r"confidence must be \(2,\)"),
    (dict(class_id=np.zeros(1)), r"class_id must be \(2,\)"),
    (dict(class_name=("a",)), "class_name must have 2 names"),
    (dict(mask=np.zeros((3, 8, 10), bool)), r"mask must be \(2, H, W\)"),
    (dict(keypoints=np.zeros((2, 17))), r"keypoints must be \(2, K, 3\)"),
    (dict(track_id=[1]), r"track_id must be \(2,\)"),
    (dict(task=Task.CLASSIFY), "cannot carry task"),
])
def test_detections_reject_bad_shapes(overrides, message):
    with pytest.raises(ValueError, match=message):
        make_detections(**overrides)


def test_results_are_read_only_and_do_not_alias_caller_arrays():
    xyxy = np.array([[1, 2, 3, 4]], np.float32)
    det = make_detections(n=1, xyxy=xyxy)
    xyxy[0, 0] = 99
    assert det.xyxy[0, 0] == 1
    with pytest.raises(ValueError):
        det.xyxy[0, 0] = 5
    with pytest.raises(AttributeError):
        det.frame_index = 1


def test_empty_detections_have_zero_rows_of_four():
    det = Detections.empty(0, 0.0, Task.SEGMENT)
    assert det.xyxy.shape == (0, 4) and len(det) == 0 and det.task is Task.SEGMENT
    assert det.to_dict()["objects"] == []


def test_classification_must_be_sorted_and_consistent():
    cls = Classification(0, 0.0, [5, 1], [0.7, 0.2], ("bus", "car"))
    assert cls.to_dict()["top"][0] == {"class_id": 5, "class_name": "bus", "probability": pytest.approx(0.7)}
    with pytest.raises(ValueError, match="descending"):
        Classification(0, 0.0, [5, 1], [0.2, 0.7], ("bus", "car"))
    with pytest.raises(ValueError, match="class_name must have 2"):
        Classification(0, 0.0, [5, 1], [0.7, 0.2], ("bus",))


def test_detections_to_dict_has_boxes_classes_and_mask_areas():
    mask = np.zeros((1, 8, 10), bool)
    mask[0, :2, :3] = True
    data = make_detections(n=1, mask=mask, track_id=[7]).to_dict()
    obj = data["objects"][0]
    assert obj["xyxy"] == [1.0, 2.0, 5.0, 6.0] and obj["mask_area_px"] == 6 and obj["track_id"] == 7


@pytest.mark.parametrize("image, message", [
    (np.zeros((4, 4), np.uint8), r"\(H, W, 3\)"),
    (np.zeros((4, 4, 4), np.uint8), r"\(H, W, 3\)"),
    (np.zeros((4, 4, 3), np.float32), "uint8"),
])
def test_frame_validates_image(image, message):
    with pytest.raises(ValueError, match=message):
        Frame(image, 0, 0.0)


def test_task_parse_lists_valid_names():
    assert Task.parse(" Pose ") is Task.POSE
    with pytest.raises(ValueError, match="classify, detect, segment, pose"):
        Task.parse("posse")
