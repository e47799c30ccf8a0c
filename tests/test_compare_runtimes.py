"""benchmarks/compare_runtimes.py: detections are matched one to one and the accuracy figures count right."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_SPEC = importlib.util.spec_from_file_location(
    "compare_runtimes", Path(__file__).resolve().parents[1] / "benchmarks" / "compare_runtimes.py")
compare_runtimes = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(compare_runtimes)


class _Found:
    def __init__(self, xyxy, confidence, keypoints=None):
        self.xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
        self.confidence = np.asarray(confidence, np.float32)
        self.keypoints = None if keypoints is None else np.asarray(keypoints, np.float32)

    def __len__(self):
        return len(self.xyxy)


def test_matching_is_one_to_one_best_iou_first():
    reference = _Found([[0, 0, 10, 10], [20, 0, 30, 10]], [0.9, 0.8])
    # two candidates for the first reference box: the exact one wins, the near one is left over as extra
    other = _Found([[1, 0, 11, 10], [0, 0, 10, 10], [50, 50, 60, 60]], [0.9, 0.85, 0.4])
    pairs = compare_runtimes.match(reference, other)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1)]
    assert pairs[0][2] == pytest.approx(1.0)


def test_compare_counts_found_missed_extra_and_keypoint_error():
    kpts = np.zeros((1, 2, 3), np.float32)
    kpts[0, :, 2] = 1.0
    moved = kpts.copy()
    moved[0, 0, :2] = (3.0, 4.0)  # 5 px away
    moved[0, 1, 2] = 0.1  # not seen by the other model: left out
    reference = [_Found([[0, 0, 10, 10], [40, 40, 50, 50]], [0.9, 0.7], np.concatenate([kpts, kpts])),
                 _Found(np.zeros((0, 4)), [])]
    results = [_Found([[0, 0, 10, 10]], [0.8], moved), _Found([[5, 5, 9, 9]], [0.3])]
    summary = compare_runtimes.compare(reference, results)
    assert (summary["found"], summary["missed"], summary["extra"]) == (1, 1, 1)
    assert summary["iou_mean"] == pytest.approx(1.0)
    assert summary["confidence_diff_max"] == pytest.approx(0.1)
    assert summary["keypoint_px_mean"] == pytest.approx(5.0) and summary["keypoint_px_max"] == pytest.approx(5.0)
