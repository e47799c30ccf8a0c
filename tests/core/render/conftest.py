"""Factories for small synthetic frames and results used by the renderer tests."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.core.models.results import Classification, Detections
from desktop_app.core.models.tasks import Task


def _make_detections(xyxy, class_id=None, confidence=None, names=None, *, task=Task.DETECT, mask=None,
                     keypoints=None, track_id=None) -> Detections:
    xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
    n = len(xyxy)
    class_id = np.zeros(n, np.int64) if class_id is None else np.asarray(class_id)
    confidence = np.full(n, 0.9, np.float32) if confidence is None else np.asarray(confidence)
    names = tuple(f"class{int(c)}" for c in class_id) if names is None else tuple(names)
    return Detections(0, 0.0, xyxy, confidence, class_id, names, task=task, mask=mask, keypoints=keypoints,
                      track_id=None if track_id is None else np.asarray(track_id))


def _make_classification(probabilities, class_ids=None, names=None) -> Classification:
    probabilities = np.asarray(probabilities, np.float32)
    k = len(probabilities)
    class_ids = np.arange(k) if class_ids is None else np.asarray(class_ids)
    names = tuple(f"class{int(c)}" for c in class_ids) if names is None else tuple(names)
    return Classification(0, 0.0, class_ids, probabilities, names)


@pytest.fixture
def make_detections():
    """`make_detections(xyxy, class_id=None, confidence=None, names=None, *, task, mask, keypoints, track_id)`."""
    return _make_detections


@pytest.fixture
def make_classification():
    """`make_classification(probabilities, class_ids=None, names=None)`."""
    return _make_classification


@pytest.fixture
def gray_frame():
    """A 120 x 160 mid-grey BGR frame, read-only so that any in-place write by a renderer fails loudly."""
    frame = np.full((120, 160, 3), 128, np.uint8)
    frame.setflags(write=False)
    return frame


@pytest.fixture
def noise_frame():
    """A 120 x 160 random BGR frame (every pixel differs, so a stray write anywhere is visible)."""
    frame = np.random.default_rng(7).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    frame.setflags(write=False)
    return frame
