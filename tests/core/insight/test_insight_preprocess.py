"""Preprocessing and the frame <-> model-input geometry that heatmaps and receptive fields are drawn with."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from desktop_app.core.insight.preprocess import (
    Preprocess,
    ResizeMode,
    imagenet_preprocess,
    yolo_preprocess,
)


@pytest.mark.parametrize(
    ("mode", "frame_wh", "scale", "offset"),
    [
        (ResizeMode.STRETCH, (1280, 720), (0.175, 224 / 720), (0.0, 0.0)),
        (ResizeMode.LETTERBOX, (1280, 960), (0.5, 0.5), (0.0, 80.0)),
        (ResizeMode.LETTERBOX, (810, 1080), (480 / 810, 640 / 1080), (80.0, 0.0)),
        (ResizeMode.CENTER_CROP, (512, 256), (1.0, 1.0), (-144.0, -16.0)),
    ],
)
def test_geometry(mode, frame_wh, scale, offset):
    size = 640 if mode is ResizeMode.LETTERBOX else 224
    geometry = Preprocess((size, size), mode).geometry(frame_wh)
    assert geometry.scale_xy == pytest.approx(scale)
    assert geometry.offset_xy == pytest.approx(offset)


def test_letterbox_matches_ultralytics_pixel_for_pixel(bus_image):
    from desktop_app.core.env import import_ultralytics

    import_ultralytics()
    from ultralytics.data.augment import LetterBox

    expected = LetterBox(new_shape=(640, 640), auto=False)(image=bus_image)
    rgb, geometry = yolo_preprocess(640).to_unit_rgb(bus_image)
    ours = np.round(rgb[:, :, ::-1] * 255).astype(np.uint8)
    assert ours.shape == expected.shape == (640, 640, 3)
    assert np.array_equal(ours, expected)
    assert geometry.offset_xy == (80.0, 0.0)


def test_heat_to_frame_puts_a_hot_input_region_on_the_matching_frame_region():
    geometry = Preprocess((640, 640), ResizeMode.LETTERBOX).geometry((1280, 960))
    heat = np.zeros((80, 80), np.float32)  # a stride-8 map of the 640x640 input
    heat[30:40, 40:60] = 1.0  # input x 320..480, y 240..320 -> frame x 640..960, y 320..480
    frame_heat = geometry.heat_to_frame(heat)
    assert frame_heat.shape == (960, 1280)
    assert frame_heat[340:460, 660:940].min() > 0.99
    assert frame_heat[:300].max() < 0.01 and frame_heat[:, :600].max() < 0.01


def test_centre_crop_leaves_unseen_frame_pixels_cold():
    geometry = imagenet_preprocess(224).geometry((512, 256))
    frame_heat = geometry.heat_to_frame(np.ones((7, 7), np.float32))
    # the model saw frame x 144..368, y 16..240: all of it full strength, right up to its edges
    assert frame_heat[16:240, 144:368].min() == pytest.approx(1.0)
    assert frame_heat[:, :144].max() == 0.0 and frame_heat[:, 368:].max() == 0.0
    assert frame_heat[:16].max() == 0.0 and frame_heat[240:].max() == 0.0


def test_normalisation_is_differentiable_and_matches_the_convention():
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    unit = torch.tensor(mean).view(1, 3, 1, 1).repeat(1, 1, 4, 4).requires_grad_(True)
    out = imagenet_preprocess().normalize(unit)
    assert torch.allclose(out, torch.zeros_like(out), atol=1e-6)  # the ImageNet mean maps to 0
    out.sum().backward()
    assert torch.allclose(unit.grad[0, :, 0, 0], 1.0 / torch.tensor(std))


def test_imagenet_preprocess_is_the_classifier_adapters_own_input(efficientnet_lite0_adapter, bus_image):
    ours, _ = imagenet_preprocess(224)(bus_image)
    assert torch.allclose(ours, efficientnet_lite0_adapter.preprocess(bus_image), atol=1e-5)


def test_call_gives_the_model_input_and_never_touches_the_frame(bus_image):
    before = bus_image.copy()
    x, geometry = imagenet_preprocess(224)(bus_image)
    assert x.shape == (1, 3, 224, 224) and x.dtype == torch.float32
    assert geometry.frame_wh == (810, 1080)
    assert np.array_equal(bus_image, before)


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32)])
def test_rejects_non_bgr_images(bad):
    with pytest.raises(ValueError, match="image must be"):
        yolo_preprocess(64).to_unit_rgb(bad)


@pytest.mark.parametrize("resize_size, crop_size, interpolation", [(232, 224, "bilinear"), (256, 224, "bicubic"),
                                                                    (320, 300, "bicubic")])
@pytest.mark.parametrize("frame_wh", [(1280, 720), (300, 400), (150, 120)])
def test_a_torchvision_classifiers_view_input_is_the_adapters_own(resize_size, crop_size, interpolation, frame_wh):
    # weights differ (ResNet50 V2 resizes to 232, EfficientNet-B3 crops 300): the views must follow each one
    from torch import nn

    from desktop_app.core.insight.runner_base import model_preprocess
    from desktop_app.core.models.torchvision_adapter import TorchvisionClassifier

    adapter = TorchvisionClassifier(nn.Conv2d(3, 4, 3), model_id="tiny", class_names=["a", "b", "c", "d"],
                                    device="cpu", resize_size=resize_size, crop_size=crop_size,
                                    mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.3), interpolation=interpolation)
    image = np.random.default_rng(1).integers(0, 256, (frame_wh[1], frame_wh[0], 3), dtype=np.uint8)
    preprocess = model_preprocess(adapter, imgsz=640)
    ours, geometry = preprocess(image)
    assert preprocess.input_wh == (crop_size, crop_size)
    assert torch.allclose(ours, adapter.preprocess(image), atol=1e-4)
    assert round(min(frame_wh) * min(geometry.scale_xy)) == resize_size
