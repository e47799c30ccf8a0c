"""FGSM on a real pretrained classifier and a real photo."""

from __future__ import annotations

import numpy as np
import pytest
from insight_helpers import all_hooks

from desktop_app.core.frames import Frame
from desktop_app.core.insight.adversarial import fgsm
from desktop_app.core.insight.preprocess import imagenet_preprocess


@pytest.mark.parametrize("epsilon", [2 / 255, 0.02])
def test_small_epsilon_changes_the_top1_of_efficientnet_on_a_real_photo(
    efficientnet_lite0, imagenet_names, bus_image, epsilon
):
    result = fgsm(efficientnet_lite0, imagenet_preprocess(), bus_image, epsilon, names=imagenet_names)
    assert result.original.class_name[0] == "minibus"
    assert result.fooled
    assert result.perturbed.class_name[0] != "minibus"
    assert len(result.original) == len(result.perturbed) == 5
    # the attack stays within epsilon per pixel (8-bit rounding can add at most half a level)
    change = np.abs(result.adversarial_bgr.astype(int) - result.clean_bgr.astype(int))
    assert change.max() <= round(epsilon * 255) and change.max() >= 1


def test_zero_epsilon_changes_nothing(efficientnet_lite0, bus_image):
    result = fgsm(efficientnet_lite0, imagenet_preprocess(), bus_image, 0.0)
    assert not result.fooled
    assert np.array_equal(result.adversarial_bgr, result.clean_bgr)
    assert np.allclose(result.original.probability, result.perturbed.probability, atol=1e-6)
    assert np.all(result.perturbation_bgr == 127)


def test_perturbation_is_magnified_around_grey(efficientnet_lite0, bus_image):
    result = fgsm(efficientnet_lite0, imagenet_preprocess(), bus_image, 4 / 255)
    values = np.unique(result.perturbation_bgr)
    assert values.min() < 40 and values.max() > 215  # +-epsilon spans nearly the full range
    assert result.perturbation_bgr.shape == result.clean_bgr.shape == (224, 224, 3)


def test_targeted_attack_raises_the_target(efficientnet_lite0, bus_image):
    preprocess = imagenet_preprocess()
    untouched = fgsm(efficientnet_lite0, preprocess, bus_image, 0.0, target=779, top_k=1000)
    attacked = fgsm(efficientnet_lite0, preprocess, bus_image, 0.01, target=779, top_k=1000)  # school bus
    before = float(untouched.perturbed.probability[list(untouched.perturbed.class_id).index(779)])
    after = float(attacked.perturbed.probability[list(attacked.perturbed.class_id).index(779)])
    assert attacked.target_class_id == 779
    assert after > before


def test_frame_tags_and_model_state_are_kept(efficientnet_lite0, bus_image):
    before = bus_image.copy()
    result = fgsm(efficientnet_lite0, imagenet_preprocess(), Frame(bus_image, 12, 0.4), 0.01)
    assert (result.perturbed.frame_index, result.perturbed.timestamp_s) == (12, 0.4)
    assert np.array_equal(bus_image, before)
    assert all(p.requires_grad for p in efficientnet_lite0.parameters())
    assert all(p.grad is None for p in efficientnet_lite0.parameters())
    assert not efficientnet_lite0.training
    assert all_hooks(efficientnet_lite0) == 0


def test_epsilon_outside_the_pixel_scale_is_refused(efficientnet_lite0, bus_image):
    with pytest.raises(ValueError, match="epsilon"):
        fgsm(efficientnet_lite0, imagenet_preprocess(), bus_image, 8.0)
