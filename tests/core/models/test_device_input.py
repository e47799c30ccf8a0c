"""The GPU input path: the device-side letterbox must reproduce Ultralytics' own preprocessing (geometry exactly,
pixels to within rounding), and a model fed through it must find the same things. Runs on the CPU everywhere;
the pinned-buffer copies run where a CUDA GPU is present."""

import numpy as np
import pytest
import torch

from desktop_app.core.models import catalog
from desktop_app.core.models.base import PredictOptions
from desktop_app.core.models.device_input import DevicePreprocessor, Letterbox, PinnedUploader, letterbox_on_device
from desktop_app.core.models.ultralytics_adapter import UltralyticsAdapter

CUDA = torch.cuda.is_available()
SHAPES = [(720, 1280), (1080, 1920), (480, 640), (640, 480), (1000, 333), (37, 901), (640, 640), (300, 300)]


def _ultralytics_letterbox(image, size, auto):
    from desktop_app.core.env import import_ultralytics

    import_ultralytics()
    from ultralytics.data.augment import LetterBox

    return LetterBox((size, size), auto=auto, stride=32)(image=image)


@pytest.mark.parametrize("auto", [True, False], ids=["rect", "square"])
@pytest.mark.parametrize("shape", SHAPES, ids=[f"{h}x{w}" for h, w in SHAPES])
def test_device_letterbox_matches_ultralytics(shape, auto):
    rng = np.random.default_rng(sum(shape))
    # Smooth content (as in photos) plus noise: resampling differences stay at rounding level.
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    base = (127 + 100 * np.sin(xx / 23.0)[..., None] * np.cos(yy / 17.0)[..., None] * np.array([1, -0.5, 0.7]))
    image = np.clip(base + rng.normal(0, 3, (*shape, 3)), 0, 255).astype(np.uint8)
    expected = _ultralytics_letterbox(image, 640, auto)[..., ::-1].astype(np.float32) / 255.0  # RGB in [0, 1]

    box = Letterbox.fit(shape, expected.shape[:2])
    got = letterbox_on_device(torch.from_numpy(image), box, torch.float32)[0].permute(1, 2, 0).numpy()

    assert got.shape == expected.shape
    # The padding is exactly where Ultralytics puts it, with its grey.
    pad = np.ones(expected.shape[:2], bool)
    pad[box.top:box.top + box.resized_hw[0], box.left:box.left + box.resized_hw[1]] = False
    assert np.array_equal(got[pad], expected[pad]) and (pad.sum() == 0 or np.allclose(got[pad], 114 / 255))
    diff = np.abs(got - expected) * 255
    assert diff.mean() < 0.6 and np.percentile(diff, 99.9) <= 2.0, (diff.mean(), diff.max())


def test_fit_inverts_like_scale_boxes():
    from desktop_app.core.env import import_ultralytics

    import_ultralytics()
    from ultralytics.utils.ops import scale_boxes

    for shape in SHAPES:
        box = Letterbox.fit(shape, (384, 640))
        corner = torch.tensor([[box.left, box.top, box.left + box.resized_hw[1], box.top + box.resized_hw[0]]],
                              dtype=torch.float32)
        back = scale_boxes((384, 640), corner.clone(), shape)[0].tolist()
        assert back == pytest.approx([0, 0, shape[1], shape[0]], abs=1.5), shape


def test_bad_frames_are_refused():
    pre = DevicePreprocessor("cpu", half=False, padded_shape=lambda image: (384, 640))
    with pytest.raises(ValueError, match="uint8"):
        pre(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        pre(np.zeros((10, 10, 3), np.float32))


def test_geometry_is_asked_once_per_frame_size_and_key():
    calls = []
    pre = DevicePreprocessor("cpu", half=False, padded_shape=lambda image: calls.append(image.shape) or (384, 640))
    frame = np.zeros((720, 1280, 3), np.uint8)
    for _ in range(3):
        assert pre(frame, key=640).shape == (1, 3, 384, 640)
    pre(np.zeros((360, 640, 3), np.uint8), key=640)
    pre(frame, key=320)
    assert calls == [(720, 1280, 3), (360, 640, 3), (720, 1280, 3)]


def _pose(device_preprocess, device="cpu"):
    weights = catalog.bundled_path(catalog.find("yolo11n-pose"))
    return UltralyticsAdapter(weights, device=device, model_id="yolo11n-pose", device_preprocess=device_preprocess)


@pytest.mark.parametrize("device", ["cpu"] + (["cuda"] if CUDA else []))
def test_a_model_fed_on_the_device_finds_the_same_people(device, zidane_frame, bus_frame):
    reference, on_device = _pose(False, device), _pose(True, device)
    try:
        for frame in (zidane_frame, bus_frame):
            for _ in range(2):  # the second call takes the predictor fast path, where device input is used
                expected = reference.predict(frame, PredictOptions())
                got = on_device.predict(frame, PredictOptions())
            assert on_device._stages.uses_device_input and not reference._stages.uses_device_input
            assert len(got) == len(expected) >= 2
            order_e, order_g = np.argsort(expected.xyxy[:, 0]), np.argsort(got.xyxy[:, 0])
            np.testing.assert_allclose(got.xyxy[order_g], expected.xyxy[order_e], atol=3.0)
            np.testing.assert_allclose(got.confidence[order_g], expected.confidence[order_e], atol=0.03)
            visible = expected.keypoints[order_e][..., 2] > 0.5
            np.testing.assert_allclose(got.keypoints[order_g][..., :2][visible],
                                       expected.keypoints[order_e][..., :2][visible], atol=4.0)
    finally:
        reference.close()
        on_device.close()


@pytest.mark.skipif(not CUDA, reason="pinned uploads need a CUDA GPU")
def test_cuda_models_use_the_device_input_by_default(zidane_frame):
    model = _pose(None, "cuda")
    try:
        model.predict(zidane_frame, PredictOptions())
        model.predict(zidane_frame, PredictOptions())
        assert model._stages.uses_device_input and model._stages._device_input._upload is not None
    finally:
        model.close()
    assert not model._stages.uses_device_input


@pytest.mark.skipif(not CUDA, reason="pinned uploads need a CUDA GPU")
def test_pinned_buffers_are_not_overwritten_while_a_copy_is_in_flight():
    upload = PinnedUploader("cuda", slots=2)
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (1080, 1920, 3), np.uint8) for _ in range(6)]
    on_device = [upload(f) for f in frames]  # slots are reused twice over, with no synchronisation in between
    torch.cuda.synchronize()
    for frame, tensor in zip(frames, on_device):
        assert tensor.is_cuda and np.array_equal(tensor.cpu().numpy(), frame)
    assert all(b.is_pinned() for b in upload._buffers)
    upload(np.zeros((10, 10, 3), np.uint8))  # a new size gets new buffers
    assert tuple(upload._buffers[0].shape) == (10, 10, 3)
    upload.close()


def test_pinned_uploads_are_for_cuda_only():
    with pytest.raises(ValueError, match="CUDA"):
        PinnedUploader("cpu")
