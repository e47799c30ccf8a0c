"""Pipeline: fan-out of one frame to every pane, atomic swaps, failing panes, layouts, settings form."""

import numpy as np
import pytest

from desktop_app.core.errors import ModelError
from desktop_app.core.frames import Frame
from desktop_app.core.models.base import ModelAdapter, ModelInfo, PredictOptions
from desktop_app.core.models.results import Classification, Detections, StageTimes
from desktop_app.core.models.tasks import Task
from desktop_app.core.pipeline import ModelPane, PaneSpec, Pipeline, RateMeter, composed_size_wh
from desktop_app.core.render import Layout, RenderStyle


class FakeDetector(ModelAdapter):
    """Finds one box in the middle of the frame and remembers every frame it saw."""

    def __init__(self, name="fake", fail=False, untrained=False):
        self.info = ModelInfo(name, Task.DETECT, {0: "person"}, "cpu", untrained=untrained)
        self.seen: list[int] = []
        self.closed = False
        self.fail = fail

    def predict(self, frame, options):
        if self.fail:
            raise ModelError("model exploded")
        self.seen.append(frame.frame_index)
        h, w = frame.image.shape[:2]
        return Detections(frame.frame_index, frame.timestamp_s, [[w / 4, h / 4, 3 * w / 4, 3 * h / 4]], [0.9], [0],
                          ("person",), timings=StageTimes(1.0, 2.0, 0.5))

    def close(self):
        self.closed = True


def make_frame(index=0, h=120, w=160):
    return Frame(np.full((h, w, 3), 90, np.uint8), index, index / 30)


def test_every_pane_sees_the_same_frame():
    detectors = [FakeDetector(f"m{i}") for i in range(4)]
    pipeline = Pipeline([ModelPane(d) for d in detectors], Layout.FOUR)
    for i in range(3):
        out = pipeline.process(make_frame(i))
        assert out.frame_index == i
        assert [p.result.frame_index for p in out.panes] == [i] * 4
    assert all(d.seen == [0, 1, 2] for d in detectors)


def test_layout_limits_the_panes_that_run_and_sets_the_composed_shape():
    detectors = [FakeDetector(f"m{i}") for i in range(4)]
    pipeline = Pipeline([ModelPane(d) for d in detectors], Layout.TWO, hud=False)
    out = pipeline.process(make_frame())
    assert len(out.panes) == 2
    assert detectors[2].seen == [] and detectors[3].seen == []
    one = Pipeline([ModelPane(FakeDetector())], Layout.ONE, hud=False).process(make_frame())
    assert out.composed.shape[1] > one.composed.shape[1] or out.composed.shape[0] != one.composed.shape[0]


def test_swap_takes_effect_on_next_frame_and_closes_the_old_model():
    old, new = FakeDetector("old"), FakeDetector("new")
    pipeline = Pipeline([ModelPane(old)])
    pipeline.process(make_frame(0))
    pipeline.swap_runner(0, ModelPane(new))
    assert not old.closed  # nothing changes until the inference thread takes the next frame
    out = pipeline.process(make_frame(1))
    assert old.closed and old.seen == [0]
    assert new.seen == [1]
    assert "new" in out.panes[0].label


def test_a_failing_pane_reports_why_and_the_others_keep_running():
    good, bad = FakeDetector("good"), FakeDetector("bad", fail=True)
    pipeline = Pipeline([ModelPane(good), ModelPane(bad)], Layout.TWO)
    out = pipeline.process(make_frame())
    assert out.panes[0].error is None and len(out.panes[0].result) == 1
    assert out.panes[1].result is None and "model exploded" in out.panes[1].error


def test_annotated_pane_differs_from_input_and_input_is_untouched():
    frame = make_frame()
    before = frame.image.copy()
    out = Pipeline([ModelPane(FakeDetector())], hud=False).process(frame)
    assert np.array_equal(frame.image, before)
    assert not np.array_equal(out.panes[0].image, frame.image)


def test_untrained_model_pane_is_labelled():
    trained = Pipeline([ModelPane(FakeDetector())], hud=False).process(make_frame()).panes[0].image
    untrained = Pipeline([ModelPane(FakeDetector(untrained=True))], hud=False).process(make_frame()).panes[0].image
    assert not np.array_equal(trained, untrained)
    assert "untrained" in ModelPane(FakeDetector(untrained=True)).label


def test_close_releases_every_model():
    detectors = [FakeDetector(), FakeDetector()]
    pipeline = Pipeline([ModelPane(d) for d in detectors], Layout.TWO)
    pipeline.close()
    assert all(d.closed for d in detectors)


@pytest.mark.parametrize("text, task, model", [
    ("pose:yolo11n-pose", "pose", "yolo11n-pose"),
    ("Detect:yolo11n.yaml", "detect", "yolo11n.yaml"),
    ("classify:/tmp/a:b.pt", "classify", "/tmp/a:b.pt"),
])
def test_pane_spec_parse(text, task, model):
    spec = PaneSpec.parse(text)
    assert (spec.task, spec.model) == (task, model)


@pytest.mark.parametrize("text", ["pose", ":yolo", "pose:", ""])
def test_pane_spec_parse_rejects_malformed(text):
    with pytest.raises(ValueError, match="TASK:MODEL"):
        PaneSpec.parse(text)


def test_pane_spec_round_trips_through_settings_form():
    spec = PaneSpec("segment", "yolo11n-seg", PredictOptions(conf=0.4, iou=0.5, imgsz=320, classes=(0, 2)))
    assert PaneSpec.from_dict(spec.to_dict()) == spec


def test_rate_meter_publishes_smoothed_values_at_refresh_interval():
    now = [0.0]
    meter = RateMeter(refresh_s=0.5, clock=lambda: now[0])
    refreshed = []
    for _ in range(16):  # 16 events at 16 Hz over 1 s (binary-exact steps)
        now[0] += 0.0625
        refreshed.append(meter.tick(ms=10.0))
    assert refreshed.count(True) == 2
    assert meter.fps == pytest.approx(16.0, rel=0.01)
    assert meter.means["ms"] == pytest.approx(10.0)


@pytest.mark.parametrize("frame_wh, layout, expected", [
    ((1280, 720), Layout.ONE, None),
    ((1280, 720), Layout.TWO, (1920, 540)),
    ((1280, 720), Layout.FOUR, (1920, 1080)),
    ((640, 480), Layout.FOUR, (1280, 960)),
    ((3840, 2160), Layout.ONE, (1920, 1080)),
])
def test_composed_size_fits_full_hd_with_even_sides(frame_wh, layout, expected):
    assert composed_size_wh(frame_wh, layout) == expected


def test_four_panes_compose_into_the_bounded_size():
    pipeline = Pipeline([ModelPane(FakeDetector()) for _ in range(4)], Layout.FOUR, hud=False)
    out = pipeline.process(make_frame(h=720, w=1280))
    assert out.composed.shape == (1080, 1920, 3)


def test_task_panes_in_four_panes_draw_at_the_size_they_are_shown_and_land_there():
    from desktop_app.core.pipeline import display_sizes_wh
    from desktop_app.core.render import letterbox_rect, pane_rects

    panes = [ModelPane(FakeDetector()) for _ in range(4)]
    out = Pipeline(panes, Layout.FOUR, hud=False).process(make_frame(h=720, w=1280))
    sizes = display_sizes_wh((1280, 720), Layout.FOUR)
    assert all(size is not None and size[0] < 1280 for size in sizes)
    for pane, size, cell in zip(out.panes, sizes, pane_rects(Layout.FOUR, (1920, 1080))):
        assert pane.image.shape == (size[1], size[0], 3)  # drawn small, not drawn big and shrunk
        shown = letterbox_rect((1280, 720), cell)
        assert (shown.w, shown.h) == size
        # the box (a quarter of the frame in from each side) is where the composed view shows it
        x0 = shown.x + round(size[0] / 4)
        box_column = out.composed[shown.y + size[1] // 2, x0 - 3:x0 + 4]
        assert (np.abs(box_column.astype(int) - 90).max(axis=1) > 40).any()
        assert (out.composed[shown.y + size[1] // 2, shown.x + 5] == 90).all()  # outside the box: the frame


def test_one_pane_up_to_full_hd_draws_at_frame_size():
    from desktop_app.core.pipeline import display_sizes_wh

    assert display_sizes_wh((1280, 720), Layout.ONE) == (None,)
    assert display_sizes_wh((640, 360), Layout.ONE) == (None,)
    assert display_sizes_wh((3840, 2160), Layout.ONE) == ((1920, 1080),)  # a 4K frame is shown at full HD
    pane = ModelPane(FakeDetector())
    out = Pipeline([pane], Layout.ONE, hud=False).process(make_frame(h=720, w=1280))
    assert out.panes[0].image.shape == (720, 1280, 3) and pane.display_wh is None


@pytest.mark.parametrize("model, expected", [
    ("yolo11n", ("yolo11n", "torch")),
    ("yolo11n@openvino", ("yolo11n", "openvino")),
    ("yolo11n-pose@ONNX", ("yolo11n-pose", "onnx")),
    ("me@home/model.pt", ("me@home/model.pt", "torch")),
])
def test_backend_suffix(model, expected):
    from desktop_app.core.panes import split_backend

    assert split_backend(model) == expected


class MeetingDetector(FakeDetector):
    """Waits at a barrier inside predict: two of them only get through if they run at the same time."""

    def __init__(self, barrier, device="cpu", **kwargs):
        super().__init__(**kwargs)
        self.info = ModelInfo(self.info.model_id, Task.DETECT, {0: "person"}, device)
        self.barrier = barrier
        self.threads: list[str] = []

    def predict(self, frame, options):
        import threading

        self.threads.append(threading.current_thread().name)
        if self.barrier is not None:
            self.barrier.wait()
        return super().predict(frame, options)


def test_cpu_panes_infer_side_by_side_and_keep_their_order(monkeypatch):
    import threading

    from desktop_app.core import pipeline as pipeline_module

    monkeypatch.setattr(pipeline_module, "parallel_pane_slots", lambda runners=(): 2)
    barrier = threading.Barrier(2, timeout=10)  # broken (and the test failed) if the two panes ran in turn
    detectors = [MeetingDetector(barrier, name=f"m{i}") for i in range(2)]
    failing = ModelPane(FakeDetector("bad", fail=True))
    pipeline = Pipeline([ModelPane(d) for d in detectors], Layout.TWO)
    try:
        for i in range(3):
            out = pipeline.process(make_frame(i))
            assert [p.result.frame_index for p in out.panes] == [i, i]
            assert out.stage_ms["inference"] == pytest.approx(2 * 3.5)
        assert all(t.startswith("cnnlens-pane") for d in detectors for t in d.threads)
        pipeline.swap_runner(1, failing)
        detectors[0].barrier = None
        out = pipeline.process(make_frame(9))
        assert out.panes[0].error is None and "exploded" in out.panes[1].error  # a failing pane still says why
    finally:
        pipeline.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("cnnlens-pane")]


@pytest.mark.parametrize("devices", [("cuda:0", "cpu"), ("cpu", "cpu")], ids=["gpu pane", "one free core"])
def test_gpu_panes_or_a_busy_machine_run_on_the_owning_thread(monkeypatch, devices):
    import threading

    from desktop_app.core import pipeline as pipeline_module

    monkeypatch.setattr(pipeline_module, "parallel_pane_slots",
                        lambda runners=(): 1 if devices == ("cpu", "cpu") else 4)
    detectors = [MeetingDetector(None, device=d, name=f"m{i}") for i, d in enumerate(devices)]
    pipeline = Pipeline([ModelPane(d) for d in detectors], Layout.TWO)
    pipeline.process(make_frame())
    pipeline.close()
    assert [d.threads for d in detectors] == [[threading.current_thread().name]] * 2


def test_each_pane_hud_names_its_own_device_and_precision(monkeypatch):
    from desktop_app.core import pipeline as pipeline_module

    shown = []
    monkeypatch.setattr(pipeline_module, "draw_hud", lambda image, lines, **kw: shown.append(lines) or image)
    fast, plain = FakeDetector("fast"), FakeDetector("plain")
    fast.info = ModelInfo("fast", Task.DETECT, {0: "person"}, "cuda:0", precision="fp16", runtime="CUDA graph")
    pipeline = Pipeline([ModelPane(fast), ModelPane(plain)], Layout.TWO, info_line="latency 40 ms")
    pipeline.process(make_frame())
    assert shown[0][-1] == "cuda:0 · fp16 · CUDA graph · latency 40 ms"
    assert shown[1][-1] == "cpu · fp32 · latency 40 ms"


def test_box_labels_are_placed_clear_of_the_pane_hud():
    from desktop_app.core.render import annotate

    class TopDetector(FakeDetector):  # a box touching the top edge, where its label meets the HUD
        def predict(self, frame, options):
            return Detections(frame.frame_index, frame.timestamp_s, [[2, 0, 150, 110]], [0.9], [0], ("person",),
                              timings=StageTimes(1.0, 2.0, 0.5))

    pane = ModelPane(TopDetector())
    pipeline = Pipeline([pane], Layout.ONE)
    pipeline.process(make_frame(0, h=240, w=320))
    assert pane.keep_clear is None  # nothing is known before the first HUD is drawn
    pipeline.process(make_frame(1, h=240, w=320))
    x0, y0, x1, y1 = pane.keep_clear
    assert 0 <= x0 < x1 <= 320 and 0 <= y0 < y1 < 240  # the HUD's own box, top left
    # Inside that box the label is gone (moved under it); without it the label would be there.
    frame = make_frame(2, h=240, w=320)
    result = pane.adapter.predict(frame, pane.options)
    region = (slice(y0 + 2, y1 - 2), slice(max(x0, 10), x1 - 2))
    clear = annotate(frame.image, result, RenderStyle(keep_clear=pane.keep_clear))
    crowded = annotate(frame.image, result, RenderStyle())
    assert np.all(clear[region] == 90) and not np.all(crowded[region] == 90)
    pipeline.hud = False
    pipeline.process(make_frame(3, h=240, w=320))
    assert pane.keep_clear is None  # no HUD, nothing to keep clear


def test_composing_panes_before_any_model_loads_does_not_import_torch():
    # The first frames are painted while models still load; importing torch for the pane pool would hold the GIL
    # for over a second right then (first frame 0.2 s -> 1.7 s after start).
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import sys
        import numpy as np
        from desktop_app.core.frames import Frame
        from desktop_app.core.pipeline import Pipeline
        from desktop_app.core.render import Layout
        pipeline = Pipeline([None] * 4, Layout.FOUR)
        pipeline.process(Frame(np.zeros((48, 64, 3), np.uint8), 0, 0.0))
        pipeline.close()
        print("torch" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_panes_on_runtimes_that_take_every_core_infer_alone_and_the_others_side_by_side(monkeypatch):
    import threading

    from desktop_app.core import pipeline as pipeline_module

    monkeypatch.setattr(pipeline_module, "parallel_pane_slots", lambda: 2)
    running, overlaps = [], []

    class Tracked(MeetingDetector):
        def predict(self, frame, options):
            running.append(self.info.backend)
            overlaps.append(tuple(running))
            try:
                return super().predict(frame, options)
            finally:
                running.remove(self.info.backend)

    barrier = threading.Barrier(2, timeout=10)  # the two PyTorch panes must meet: side by side
    panes = [Tracked(barrier, name="torch-a"), Tracked(None, name="openvino"), Tracked(barrier, name="torch-b")]
    panes[1].info = ModelInfo("openvino", Task.DETECT, {0: "person"}, "cpu", backend="openvino")
    pipeline = Pipeline([ModelPane(d) for d in panes], Layout.FOUR)
    try:
        out = pipeline.process(make_frame(3))
    finally:
        pipeline.close()
    assert [p.result.frame_index for p in out.panes[:3]] == [3, 3, 3]
    assert all(t.startswith("cnnlens-pane") for d in (panes[0], panes[2]) for t in d.threads)
    assert panes[1].threads == [threading.current_thread().name]
    assert ("openvino",) in overlaps and not any("openvino" in o and len(o) > 1 for o in overlaps)


def test_text_sized_for_the_frame_shrinks_with_a_pane_drawn_smaller():
    from desktop_app.core.pipeline import scaled_text

    def hud_height(layout, panes):
        pipeline = Pipeline([ModelPane(FakeDetector()) for _ in range(panes)], layout)
        pipeline.hud_scale = 1.0  # what the GUI chose for a frame-sized pane
        for index in range(2):
            pipeline.process(make_frame(index, h=720, w=1280))
        x0, y0, x1, y1 = pipeline.runners[0].keep_clear
        return y1 - y0

    full, quarter = hud_height(Layout.ONE, 1), hud_height(Layout.FOUR, 4)
    assert abs(quarter - full * 539 / 720) <= 3  # the same size on screen once the pane is shown
    assert scaled_text(RenderStyle(text_scale=0.8), 0.5).text_scale == pytest.approx(0.4)
    assert scaled_text(RenderStyle(), 0.5).text_scale is None  # sized from the canvas anyway
    assert scaled_text(None, 0.5) is None
