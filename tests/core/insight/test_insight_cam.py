"""Grad-CAM and EigenCAM on real models and real photos."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from insight_helpers import all_hooks, bus_on_grey

from desktop_app.core.errors import InsightError
from desktop_app.core.insight.cam import (
    CamMethod,
    default_eigencam_layers,
    default_gradcam_layer,
    eigen_cam,
    first_component_projection,
    grad_cam,
)
from desktop_app.core.insight.preprocess import imagenet_preprocess, yolo_preprocess
from desktop_app.core.insight.torch_utils import eval_mode

MINIBUS = 654
# the two people in zidane.jpg (as YOLO11n-pose finds them), x0, y0, x1, y1
ZIDANE_PEOPLE = [(140, 204, 1042, 714), (744, 37, 1142, 710)]


def _box_mask(shape_hw, boxes):
    mask = np.zeros(shape_hw, bool)
    for x0, y0, x1, y1 in boxes:
        mask[y0:y1, x0:x1] = True
    return mask


@pytest.mark.slow
def test_gradcam_puts_most_of_its_mass_on_the_pasted_bus(efficientnet_lite0, imagenet_names):
    frame, box = bus_on_grey()
    result = grad_cam(efficientnet_lite0, imagenet_preprocess(), frame, names=imagenet_names)
    assert result.method is CamMethod.GRAD_CAM
    assert result.class_id == MINIBUS and result.class_name == "minibus"
    assert result.heat.shape == frame.shape[:2] and result.heat.dtype == np.float32
    assert result.heat.min() >= 0.0 and result.heat.max() == pytest.approx(1.0)
    inside = _box_mask(frame.shape[:2], [box])
    mass_inside = result.heat[inside].sum() / result.heat.sum()
    assert inside.mean() < 0.3  # the bus covers under a third of the frame...
    assert mass_inside > 0.5  # ...but gets most of the heat
    assert result.heat[inside].mean() > 2.5 * result.heat[~inside].mean()


@pytest.mark.parametrize("class_id", [None, 1])
def test_gradcam_on_the_models_device_equals_the_packages(efficientnet_lite0, class_id):
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    from desktop_app.core.insight.torch_utils import input_gradients_only

    frame, _ = bus_on_grey()
    ours = grad_cam(efficientnet_lite0, imagenet_preprocess(), frame, class_id=class_id)
    x, geometry = imagenet_preprocess()(frame)
    with input_gradients_only(efficientnet_lite0):
        cam = GradCAM(model=efficientnet_lite0, target_layers=[efficientnet_lite0._conv_head])
        try:
            targets = None if class_id is None else [ClassifierOutputTarget(class_id)]
            heat = cam(input_tensor=x.requires_grad_(True), targets=targets)[0]
            top = int(cam.outputs.argmax(dim=1)[0])
        finally:
            cam.activations_and_grads.release()
    reference = geometry.heat_to_frame(heat)
    reference = (reference - reference.min()) / (reference.max() - reference.min())
    assert ours.class_id == (top if class_id is None else class_id)
    assert np.abs(ours.heat - reference).max() < 0.02
    assert np.corrcoef(ours.heat.ravel(), reference.ravel())[0, 1] > 0.999


def test_gradcam_for_a_chosen_class_differs_from_the_top_class(efficientnet_lite0):
    frame, _ = bus_on_grey()
    top = grad_cam(efficientnet_lite0, imagenet_preprocess(), frame)
    other = grad_cam(efficientnet_lite0, imagenet_preprocess(), frame, class_id=1)
    assert other.class_id == 1 and top.class_id != 1
    assert not np.allclose(top.heat, other.heat, atol=0.05)


def test_gradcam_leaves_the_model_as_it_found_it(efficientnet_lite0, bus_image):
    flags = [p.requires_grad for p in efficientnet_lite0.parameters()]
    efficientnet_lite0.train()
    try:
        grad_cam(efficientnet_lite0, imagenet_preprocess(), bus_image)
        assert efficientnet_lite0.training and all(m.training for m in efficientnet_lite0.modules())
    finally:
        efficientnet_lite0.eval()
    assert [p.requires_grad for p in efficientnet_lite0.parameters()] == flags
    assert all(p.grad is None for p in efficientnet_lite0.parameters())
    assert all_hooks(efficientnet_lite0) == 0


def test_default_gradcam_layer_is_the_last_spatial_conv(efficientnet_lite0):
    assert default_gradcam_layer(efficientnet_lite0, (224, 224)) == "_conv_head"


@pytest.mark.slow
def test_eigencam_on_a_pretrained_yolo_highlights_the_people(yolo11n_pose, zidane_image):
    result = eigen_cam(yolo11n_pose, yolo_preprocess(640), zidane_image)
    assert result.method is CamMethod.EIGEN_CAM and result.class_id is None
    assert result.layer_names == ("model.16", "model.19", "model.22")  # the maps feeding the pose head
    assert result.heat.shape == zidane_image.shape[:2]
    people = _box_mask(zidane_image.shape[:2], ZIDANE_PEOPLE)
    assert result.heat[people].mean() > 1.4 * result.heat[~people].mean()
    assert all_hooks(yolo11n_pose) == 0


def test_eigencam_on_an_untrained_yaml_detector_runs_and_cleans_up(yolo11n, bus_image):
    assert yolo11n.training
    result = eigen_cam(yolo11n, yolo_preprocess(160), bus_image)
    assert result.heat.shape == bus_image.shape[:2]
    assert default_eigencam_layers(yolo11n, (160, 160)) == ["model.16", "model.19", "model.22"]
    assert yolo11n.training and all(m.training for m in yolo11n.modules())
    assert all_hooks(yolo11n) == 0


def test_first_component_projection_is_sign_corrected():
    activations = torch.zeros((4, 6, 6))
    activations[:, 2:4, 2:4] = 5.0  # a strong blob in every channel
    for flip in (1.0, -1.0):
        projection = first_component_projection(flip * activations)
        assert projection.dtype == torch.float32 and projection.shape == (6, 6)
        assert projection[2:4, 2:4].min() > projection.max() * 0.99  # the blob is the positive peak


def _package_eigencam(module, preprocess, image):
    """EigenCAM as pytorch_grad_cam computes it (activations copied to the CPU, per-layer scaling with OpenCV),
    with the same first component: the reference the on-device map must reproduce."""
    from pytorch_grad_cam import EigenCAM

    class Reference(EigenCAM):
        def get_cam_image(self, input_tensor, target_layer, targets, activations, grads, eigen_smooth):
            out = []
            for a in activations:
                c, h, w = a.shape
                flat = a.reshape(c, h * w).T.astype(np.float64)
                flat = flat - flat.mean(axis=0)
                projection = (flat @ np.linalg.eigh(flat.T @ flat)[1][:, -1]).reshape(h, w)
                out.append(-projection if abs(projection.min()) > abs(projection.max()) else projection)
            return np.stack(out).astype(np.float32)

    class FirstOutput(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, x):
            out = self.model(x)
            while isinstance(out, (tuple, list)):
                out = out[0]
            return out

    names = default_eigencam_layers(module, (preprocess.input_wh[1], preprocess.input_wh[0]))
    layers = [dict(module.named_modules())[n] for n in names]
    x, geometry = preprocess(image)
    with torch.no_grad():
        cam = Reference(model=FirstOutput(module), target_layers=layers)
        try:
            heat = cam(input_tensor=x, targets=[])[0]
        finally:
            cam.activations_and_grads.release()
    heat = geometry.heat_to_frame(heat)
    return (heat - heat.min()) / (heat.max() - heat.min())


@pytest.mark.slow
def test_eigencam_on_the_models_device_equals_the_packages(yolo11n_pose, zidane_image):
    ours = eigen_cam(yolo11n_pose, yolo_preprocess(640), zidane_image).heat
    with eval_mode(yolo11n_pose):
        reference = _package_eigencam(yolo11n_pose, yolo_preprocess(640), zidane_image)
    assert ours.shape == reference.shape
    assert np.abs(ours - reference).max() < 0.02
    assert np.corrcoef(ours.ravel(), reference.ravel())[0, 1] > 0.999


def test_unknown_layer_is_an_insight_error(efficientnet_lite0, bus_image):
    with pytest.raises(InsightError, match="not part of this model"):
        grad_cam(efficientnet_lite0, imagenet_preprocess(), bus_image, layer_name="nope")
    assert all_hooks(efficientnet_lite0) == 0


def test_cam_heat_is_read_only(efficientnet_lite0, bus_image):
    result = grad_cam(efficientnet_lite0, imagenet_preprocess(), bus_image)
    with pytest.raises(ValueError):
        result.heat[0, 0] = 1.0
    assert torch.is_grad_enabled()


def test_normalised_heat_scales_to_unit_range_and_clears_nans():
    from desktop_app.core.insight.cam import normalised_heat

    heat = normalised_heat(np.array([[2.0, 4.0], [np.nan, 6.0]], np.float32))
    assert heat.dtype == np.float32
    assert heat == pytest.approx(np.array([[1 / 3, 2 / 3], [0.0, 1.0]], np.float32))  # NaN counted as 0
    assert not normalised_heat(np.full((3, 3), 5.0, np.float32)).any()
