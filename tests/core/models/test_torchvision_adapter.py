"""ImageNet classifiers: EfficientNet-Lite0 with its real offline weights, and torchvision architectures."""

import pathlib

import numpy as np
import pytest
import torch
import torchvision

from desktop_app.core.errors import ModelError
from desktop_app.core.frames import Frame
from desktop_app.core.models import catalog
from desktop_app.core.models.base import PredictOptions
from desktop_app.core.models.loader import load_model
from desktop_app.core.models.results import Classification
from desktop_app.core.models.tasks import Task
from desktop_app.core.models.torchvision_adapter import IMAGENET_MEAN, load_state_dict

ROAD_VEHICLES = {"minibus", "school bus", "trolleybus", "passenger car", "police van", "streetcar", "moving van",
                 "trailer truck", "tow truck", "recreational vehicle", "limousine", "cab", "jeep", "minivan"}


@pytest.fixture(scope="module")
def lite0():
    model = load_model("efficientnet-lite0")
    yield model
    model.close()


def test_efficientnet_lite0_sees_a_bus(lite0, bus_frame):
    result = lite0.predict(bus_frame, PredictOptions())
    assert isinstance(result, Classification) and len(result) == 5
    assert lite0.info.task == Task.CLASSIFY and not lite0.info.untrained and len(lite0.info.names) == 1000
    assert result.class_name[0] in ROAD_VEHICLES and result.probability[0] > 0.3
    assert len(ROAD_VEHICLES & set(result.class_name)) >= 2
    assert result.probability.sum() <= 1.0 + 1e-5
    assert result.timings.inference_ms > 0 and result.timings.preprocess_ms > 0


def test_efficientnet_lite0_sees_suits_in_zidane(lite0, zidane_frame):
    assert {"suit", "bow tie", "Windsor tie"} & set(lite0.predict(zidane_frame, PredictOptions()).class_name)


def test_class_filter_restricts_the_ranking(lite0, bus_frame):
    result = lite0.predict(bus_frame, PredictOptions(classes=(779, 874, 1), top_k=5))
    assert result.class_id.tolist()[:2] == [874, 779] or result.class_id.tolist()[:2] == [779, 874]
    assert set(result.class_id.tolist()) == {779, 874, 1}


def test_preprocessing_centre_crops_and_normalises(lite0):
    mean_bgr = np.array(IMAGENET_MEAN[::-1]) * 255
    frame = np.empty((480, 640, 3), np.uint8)
    frame[:] = np.round(mean_bgr)
    tensor = lite0.preprocess(frame)
    assert tensor.shape == (1, 3, 224, 224)
    assert tensor.abs().max() < 0.02  # the ImageNet mean colour maps to ~0 in every channel


def test_torch_module_hooks_see_the_prediction(lite0, bus_frame):
    calls = []
    handle = lite0.torch_module._conv_stem.register_forward_hook(lambda *a: calls.append(a[2].shape))
    try:
        lite0.predict(bus_frame, PredictOptions())
    finally:
        handle.remove()
    assert calls == [torch.Size([1, 32, 112, 112])]


def test_a_state_dict_file_is_recognised_as_efficientnet_lite0(tmp_path, bus_frame):
    weights = catalog.bundled_path(catalog.find("efficientnet-lite0"))
    copy = tmp_path / "my-classifier.pth"
    torch.save(load_state_dict(weights), copy)
    model = load_model(str(copy))
    try:
        assert model.info.model_id == "my-classifier.pth"
        assert model.predict(bus_frame, PredictOptions()).class_name[0] in ROAD_VEHICLES
    finally:
        model.close()


def test_a_resnet18_state_dict_gets_torchvision_preprocessing(tmp_path, bus_frame):
    torch.manual_seed(0)
    path = tmp_path / "resnet.pt"  # .pt holding a state dict: not an Ultralytics checkpoint
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), path)
    model = load_model(str(path), task="classify")
    try:
        assert type(model.torch_module).__name__ == "ResNet"
        assert len(model.predict(bus_frame, PredictOptions(top_k=3))) == 3
    finally:
        model.close()


def test_catalog_torchvision_model_loads_from_the_models_folder(private_models_dir, bus_frame):
    torch.manual_seed(0)
    torch.save(torchvision.models.mobilenet_v3_small(weights=None).state_dict(),
               private_models_dir / "mobilenet_v3_small-047dcff4.pth")
    model = load_model("mobilenet-v3-small")
    try:
        assert model.info.model_id == "mobilenet-v3-small" and model.info.names[779] == "school bus"
        assert len(model.predict(bus_frame, PredictOptions())) == 5
    finally:
        model.close()


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (self.marker,)


def test_weights_with_pickled_code_are_refused_without_running_it(tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "evil.pth"
    torch.save({"weight": _Payload(marker)}, path)
    with pytest.raises(ModelError, match="evil.pth"):
        load_model(str(path))
    assert not marker.exists()


def test_a_state_dict_of_an_unknown_architecture_is_a_clear_error(tmp_path):
    path = tmp_path / "tiny.pth"
    torch.save(torch.nn.Linear(3, 2).state_dict(), path)
    with pytest.raises(ModelError, match="fits no known classifier"):
        load_model(str(path))


def test_frame_index_and_timestamp_travel_with_the_result(lite0, bus_frame):
    result = lite0.predict(Frame(bus_frame.image, 42, 1.5), PredictOptions(top_k=1))
    assert (result.frame_index, result.timestamp_s, len(result)) == (42, 1.5, 1)


def test_imagenet_class_names_are_torchvisions_without_importing_its_models():
    from torchvision.models import ResNet18_Weights

    from desktop_app.core.models.torchvision_adapter import imagenet_class_names

    names = imagenet_class_names()
    assert names == tuple(ResNet18_Weights.DEFAULT.meta["categories"])
    assert names[779] == "school bus" and len(names) == 1000
