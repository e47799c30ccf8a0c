"""The explaining and teaching panes through their runner API: Grad-CAM/EigenCAM, FGSM and Teach mode, on real
pretrained models and real photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from insight_helpers import build_small_runner, bus_on_grey, read_asset

from desktop_app.core.errors import InsightError, ModelTaskError
from desktop_app.core.frames import Frame



@pytest.mark.slow
def test_gradcam_pane_puts_the_heat_on_the_bus_and_names_it(gradcam):
    image, (x0, y0, x1, y1) = bus_on_grey()
    out = gradcam.run(Frame(image, 7, 0.2), 0)
    heat = out.extras["heat"]
    assert out.extras["method"] == "gradcam" and out.extras["class_name"] == "minibus"
    assert out.result.class_name[0] == "minibus" and out.result.frame_index == 7
    inside = np.zeros(heat.shape, bool)
    inside[y0:y1, x0:x1] = True
    assert heat[inside].mean() > 2.5 * heat[~inside].mean()
    # the overlay shows it: the bus region is pushed towards the hot end (red) of the colour map
    red_gain = out.image[..., 2].astype(int) - image[..., 2].astype(int)
    assert red_gain[inside].mean() > red_gain[~inside].mean() + 10


def test_gradcam_pane_explains_a_chosen_class_until_reset(gradcam):
    image, _ = bus_on_grey((320, 240), scale=0.22, top_left=(70, 58))
    gradcam.set_class(1)
    try:
        out = gradcam.run(Frame(image, 0, 0.0), 0)
        assert out.extras["class_id"] == 1 and gradcam.class_id == 1
    finally:
        gradcam.set_class(None)
    assert gradcam.run(Frame(image, 1, 0.0), 0).extras["class_id"] != 1
    with pytest.raises(InsightError, match="1000 classes"):
        gradcam.set_class(1000)


def test_gradcam_pane_answers_from_the_cams_own_pass(gradcam):
    # one forward pass per frame gives both the answer and the map, and the answer is the adapter's own
    image, _ = bus_on_grey((320, 240), scale=0.22, top_left=(70, 58))
    frame = Frame(image, 3, 0.1)
    passes = []
    counter = gradcam.adapter.torch_module.register_forward_pre_hook(lambda *_: passes.append(1))
    try:
        out = gradcam.run(frame, 0)
        assert len(passes) == 1
        alone = gradcam.adapter.predict(frame, gradcam.options)
    finally:
        counter.remove()
    assert np.array_equal(out.result.class_id, alone.class_id)
    assert np.allclose(out.result.probability, alone.probability, atol=1e-5)
    assert out.extras["class_id"] == int(alone.class_id[0]) and out.result.frame_index == 3
    assert out.timings.inference_ms > 0 and out.result.timings.inference_ms == out.timings.inference_ms


def test_gradcam_on_a_yolo_classifier_answers_from_the_cams_own_pass_at_any_image_size():
    # Ultralytics classifiers prepare frames in their own predictor: the pane feeds the CAM pass that very input,
    # so one pass gives the map and the answer, equal to the adapter's own predict (an untrained model: this
    # checks the mechanics, not the answer)
    from desktop_app.core.models.base import PredictOptions

    runner = build_small_runner("gradcam", "yolo11n-cls.yaml")
    image, _ = bus_on_grey((320, 240), scale=0.22, top_left=(70, 58))
    passes = []
    try:
        for index, imgsz in enumerate((224, 160)):
            runner.options = PredictOptions(imgsz=imgsz, top_k=5)
            frame = Frame(image, index, index / 30)
            runner.run(frame, 0)  # the first frame at a new size sets the predictor up for it
            counter = runner.adapter.torch_module.register_forward_pre_hook(lambda *_: passes.append(1))
            try:
                out = runner.run(frame, 0)
            finally:
                counter.remove()
            assert len(passes) == index + 1
            alone = runner.adapter.predict(frame, runner.options)
            assert np.array_equal(out.result.class_id, alone.class_id)
            assert np.allclose(out.result.probability, alone.probability, atol=1e-5)
            assert out.extras["heat"].shape == image.shape[:2] and out.extras["class_id"] == int(alone.class_id[0])
    finally:
        runner.close()


def test_gradcam_pane_explains_the_top_class_the_class_filter_allows():
    from desktop_app.core.models.base import PredictOptions
    from desktop_app.core.panes import build_runner
    from desktop_app.core.pipeline import PaneSpec

    image, _ = bus_on_grey((320, 240), scale=0.22, top_left=(70, 58))
    runner = build_runner(PaneSpec("gradcam", "efficientnet-lite0", PredictOptions(classes=(1, 2, 3))), "cpu")
    try:
        out = runner.run(Frame(image, 0, 0.0), 0)
    finally:
        runner.close()
    assert set(out.result.class_id.tolist()) == {1, 2, 3}
    assert out.extras["class_id"] == int(out.result.class_id[0])


@pytest.mark.slow
def test_gradcam_on_a_detector_uses_eigencam_and_draws_its_detections():
    runner = build_small_runner("gradcam", "yolo11n-pose")
    try:
        image = cv2.resize(read_asset("zidane.jpg"), (320, 180))
        out = runner.run(Frame(image, 0, 0.0), 0)
        assert out.extras["method"] == "eigencam" and out.extras["class_id"] is None
        assert "EigenCAM" in out.label
        assert len(out.result) >= 1 and out.result.class_name[0] == "person"
        assert out.extras["heat"].shape == image.shape[:2]
        with pytest.raises(InsightError, match="EigenCAM explains the whole detector"):
            runner.set_class(0)
    finally:
        runner.close()


@pytest.mark.slow
def test_eigencam_pane_reads_the_cam_from_the_prediction_pass():
    from desktop_app.core.insight.cam import eigen_cam
    from desktop_app.core.insight.preprocess import Preprocess, ResizeMode

    runner = build_small_runner("gradcam", "yolo11n-pose")
    module = runner.adapter.torch_module
    passes = []
    counter = module.register_forward_pre_hook(lambda *_: passes.append(1))
    try:
        image = read_asset("zidane.jpg")
        before = len(passes)
        out = runner.run(Frame(image, 0, 0.0), 0)
        assert len(passes) - before == 1  # the prediction's pass, and no second one for the CAM
        assert out.extras["cam_layers"] == ("model.16", "model.19", "model.22")
        ih, iw = runner._hooks.input_hw
        assert (ih, iw) == (192, 320)  # Ultralytics letterboxes 16:9 to a stride multiple, not to a square
        # the same EigenCAM as a pass of its own over the same letterbox
        alone = eigen_cam(module, Preprocess((iw, ih), ResizeMode.LETTERBOX), image).heat
        assert np.corrcoef(out.extras["heat"].ravel(), alone.ravel())[0, 1] > 0.99
        assert np.abs(out.extras["heat"] - alone).max() < 0.1
        people = np.zeros(image.shape[:2], bool)
        for x0, y0, x1, y1 in [(140, 204, 1042, 714), (744, 37, 1142, 710)]:
            people[y0:y1, x0:x1] = True
        assert out.extras["heat"][people].mean() > 1.4 * out.extras["heat"][~people].mean()
        assert runner.hook_count == 4  # the input-size hook and one per layer feeding the head
    finally:
        counter.remove()
        runner.close()
    assert runner.hook_count == 0
    assert not module._forward_hooks and not module._forward_pre_hooks


def test_fgsm_pane_fools_the_classifier_at_small_epsilon(fgsm):
    bus = read_asset("bus.jpg")
    fgsm.set_epsilon(2 / 255)
    out = fgsm.run(Frame(bus, 3, 0.1), 0)
    original, perturbed = out.extras["original"], out.extras["perturbed"]
    assert original.class_name[0] == "minibus"
    assert out.extras["fooled"] and perturbed.class_name[0] != "minibus"
    assert out.result is perturbed and len(perturbed) == 5
    assert "2.0/255" in out.label and out.image.shape == bus.shape


def test_fgsm_at_zero_epsilon_keeps_the_answer(fgsm):
    fgsm.set_epsilon(0.0)
    try:
        out = fgsm.run(Frame(read_asset("bus.jpg"), 0, 0.0), 0)
    finally:
        fgsm.set_epsilon(2 / 255)
    assert not out.extras["fooled"]
    with pytest.raises(InsightError, match="between 0 and 1"):
        fgsm.set_epsilon(4)


def test_fgsm_on_a_detector_says_it_needs_a_classifier():
    with pytest.raises(ModelTaskError, match="fgsm needs a classifier.*pose model"):
        build_small_runner("fgsm", "yolo11n-pose")


def red_balls(rng: np.random.Generator) -> np.ndarray:
    frame = rng.integers(150, 230, (120, 160, 3), dtype=np.uint8)
    for _ in range(rng.integers(2, 4)):
        centre = (int(rng.integers(20, 140)), int(rng.integers(20, 100)))
        cv2.circle(frame, centre, int(rng.integers(8, 20)), (30, 30, int(rng.integers(180, 255))), -1)
    return frame


def blue_stripes(rng: np.random.Generator) -> np.ndarray:
    frame = np.full((120, 160, 3), 235, np.uint8)
    period, phase = int(rng.integers(8, 20)), int(rng.integers(0, 20))
    frame[(np.arange(120) + phase) % period < period // 2] = (int(rng.integers(150, 255)), 60, 20)
    noise = rng.integers(-20, 20, frame.shape)
    return np.clip(frame.astype(int) + noise, 0, 255).astype(np.uint8)


MAKERS = {"red balls": red_balls, "blue stripes": blue_stripes}


@pytest.fixture(scope="module")
def taught():
    runner = build_small_runner("teach", "efficientnet-lite0")
    runner.set_classes(list(MAKERS))
    rng = np.random.default_rng(0)
    index = 0
    for _ in range(6):
        for name, make in MAKERS.items():
            runner.capture(name)
            out = runner.run(Frame(make(rng), index, index / 30), 0)
            index += 1
    assert out.extras["counts"] == {"red balls": 6, "blue stripes": 6} and runner.pending_captures == 0
    yield runner
    runner.close()


@pytest.mark.slow
def test_teach_through_the_runner_reaches_95_percent_on_new_frames(taught, tmp_path):
    seen = []
    busy = []

    def progress(epoch, loss, accuracy):
        seen.append(accuracy)
        if epoch == 50:  # a frame arriving mid-training is shown, not held up
            busy.append(taught.run(Frame(red_balls(np.random.default_rng(1)), 99, 3.3), 0))

    report = taught.train(progress)
    assert report.accuracy >= 0.95 and len(seen) == report.epochs
    assert busy[0].result is None and busy[0].extras["training_progress"][0] == 50
    assert taught.trained and "trained" in taught.label
    rng = np.random.default_rng(123)
    correct = 0
    for i in range(20):
        for name, make in MAKERS.items():
            out = taught.run(Frame(make(rng), i, i / 30), 0)
            correct += out.result.class_name[0] == name
    assert correct / 40 >= 0.95

    path = taught.save(tmp_path / "head.pt")
    fresh = build_small_runner("teach", "efficientnet-lite0")
    try:
        fresh.load(path)
        assert fresh.class_names == tuple(MAKERS) and fresh.trained
        frame = Frame(blue_stripes(np.random.default_rng(5)), 0, 0.0)
        assert fresh.run(frame, 0).result.class_name[0] == "blue stripes"
    finally:
        fresh.close()


def test_teach_refuses_unknown_classes_and_bad_class_lists(taught):
    with pytest.raises(InsightError, match="no class called 'cats'"):
        taught.capture("cats")
    with pytest.raises(InsightError, match="2 to 5 classes"):
        taught.set_classes(["only one"])
    with pytest.raises(InsightError, match="already a class"):
        taught.set_classes(["a", "a"])
    assert taught.class_names == tuple(MAKERS)  # a refused list changes nothing


@pytest.mark.slow
def test_eigencam_pane_keeps_its_box_labels_clear_of_the_hud():
    from desktop_app.core.pipeline import Pipeline
    from desktop_app.core.render import Layout

    runner = build_small_runner("gradcam", "yolo11n-pose")
    pipeline = Pipeline([runner], Layout.ONE)
    try:
        image = cv2.resize(read_asset("zidane.jpg"), (640, 360))
        pipeline.process(Frame(image, 0, 0.0))
        pipeline.process(Frame(image, 1, 0.0))
        x0, y0, x1, y1 = runner.keep_clear  # the HUD's box, handed to the view as to task panes
        assert 0 <= x0 < x1 <= 640 and 0 <= y0 < y1 < 360
    finally:
        pipeline.close()
