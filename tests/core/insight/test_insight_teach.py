"""Teach mode: a new head on frozen EfficientNet-Lite0 features, trained in seconds on the CPU."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from insight_helpers import all_hooks

from desktop_app.core.errors import InsightError
from desktop_app.core.frames import Frame
from desktop_app.core.insight.preprocess import imagenet_preprocess
from desktop_app.core.insight.teach import PenultimateFeatures, TeachSession


def red_balls(rng: np.random.Generator) -> np.ndarray:
    frame = rng.integers(150, 230, (240, 320, 3), dtype=np.uint8)
    for _ in range(rng.integers(2, 5)):
        centre = (int(rng.integers(40, 280)), int(rng.integers(40, 200)))
        cv2.circle(frame, centre, int(rng.integers(15, 40)), (30, 30, int(rng.integers(180, 255))), -1)
    return frame


def blue_stripes(rng: np.random.Generator) -> np.ndarray:
    frame = np.full((240, 320, 3), 235, np.uint8)
    period, phase = int(rng.integers(16, 40)), int(rng.integers(0, 40))
    rows = (np.arange(240) + phase) % period < period // 2
    frame[rows] = (int(rng.integers(150, 255)), 60, 20)
    noise = rng.integers(-20, 20, frame.shape)
    return np.clip(frame.astype(int) + noise, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def backbone(efficientnet_lite0):
    return PenultimateFeatures(efficientnet_lite0)


@pytest.fixture(scope="module")
def trained(backbone):
    rng = np.random.default_rng(0)
    session = TeachSession(backbone, imagenet_preprocess(), ["red balls", "blue stripes"])
    for _ in range(6):
        session.capture("red balls", red_balls(rng))
        session.capture("blue stripes", blue_stripes(rng))
    progress = []
    report = session.train(progress=lambda epoch, loss, acc: progress.append((epoch, loss, acc)))
    return session, report, progress


@pytest.mark.slow
def test_two_visibly_different_classes_reach_95_percent_within_seconds(trained):
    session, report, _ = trained
    assert report.seconds < 5.0
    assert report.accuracy == 1.0 and report.samples == 24  # 6 frames + mirrors per class
    rng = np.random.default_rng(123)  # fresh frames the head never saw
    correct = 0
    for _ in range(20):
        correct += session.predict(red_balls(rng)).class_name[0] == "red balls"
        correct += session.predict(blue_stripes(rng)).class_name[0] == "blue stripes"
    assert correct / 40 >= 0.95


def test_progress_reports_every_epoch_and_the_loss_falls(trained):
    _, report, progress = trained
    assert [p[0] for p in progress] == list(range(1, report.epochs + 1))
    assert progress[-1][1] < progress[0][1] * 0.2


def test_prediction_is_a_classification_of_the_new_classes(trained):
    session, _, _ = trained
    result = session.predict(Frame(red_balls(np.random.default_rng(5)), 42, 1.5))
    assert result.class_name[0] == "red balls" and len(result) == 2
    assert (result.frame_index, result.timestamp_s) == (42, 1.5)
    assert result.probability.sum() == pytest.approx(1.0, abs=1e-5)


def test_save_and_load_give_the_same_predictions(trained, backbone, tmp_path):
    session, _, _ = trained
    path = session.save(tmp_path / "heads" / "demo.pt")
    fresh = TeachSession(backbone, imagenet_preprocess())
    fresh.load(path)
    assert fresh.class_names == ("red balls", "blue stripes") and fresh.trained
    frame = blue_stripes(np.random.default_rng(9))
    a, b = session.predict(frame), fresh.predict(frame)
    assert a.class_name == b.class_name and np.allclose(a.probability, b.probability, atol=1e-6)
    # the file holds only tensors and strings: it loads with weights_only=True
    assert set(torch.load(path, weights_only=True)) >= {"class_names", "head"}


def test_a_head_for_another_backbone_is_refused(trained, tmp_path):
    session, _, _ = trained
    path = session.save(tmp_path / "head.pt")
    small = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.AdaptiveAvgPool2d(1))
    other = TeachSession(small, imagenet_preprocess(64))
    with pytest.raises(InsightError, match="1280-d features but the current model gives 8-d"):
        other.load(path)


def test_not_a_head_file_is_refused(backbone, tmp_path):
    path = tmp_path / "junk.pt"
    path.write_bytes(b"not a torch file")
    with pytest.raises(InsightError, match="cannot read"):
        TeachSession(backbone, imagenet_preprocess()).load(path)


def test_class_rules(backbone):
    session = TeachSession(backbone, imagenet_preprocess(), ["a", "b"])
    with pytest.raises(InsightError, match="already"):
        session.add_class("a")
    with pytest.raises(InsightError, match="capture at least one frame of 'a'"):
        session.train()
    for name in "cde":
        session.add_class(name)
    with pytest.raises(InsightError, match="at most 5"):
        session.add_class("f")
    with pytest.raises(InsightError, match="no class called"):
        session.capture("zzz", np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(InsightError, match="train the new head"):
        session.predict(np.zeros((32, 32, 3), np.uint8))
    single = TeachSession(backbone, imagenet_preprocess(), ["only"])
    with pytest.raises(InsightError, match="at least 2 classes"):
        single.train()


def test_backbone_is_left_frozen_and_unhooked(trained, efficientnet_lite0):
    assert all(p.grad is None for p in efficientnet_lite0.parameters())
    assert all_hooks(efficientnet_lite0) == 0
    assert not efficientnet_lite0.training
