"""Pipeline phases: each frame is drawn on the draw thread while the next one infers, in order, one at a time;
runner swaps, failures and shutdown stay safe with a frame in flight."""

import threading

import numpy as np
import pytest

from desktop_app.core.frames import Frame
from desktop_app.core.models.results import Detections, StageTimes
from desktop_app.core.pipeline import PaneOutput, Pipeline
from desktop_app.core.render import Layout


def make_frame(index=0, h=60, w=80):
    return Frame(np.full((h, w, 3), 90, np.uint8), index, index / 30)


class TwoPhaseRunner:
    """Infers on the caller's thread and draws in a step of its own; records which thread did what, and can hold
    a frame's drawing until told to go on."""

    label = "two-phase"

    def __init__(self, fail_drawing=False):
        self.inferred: list[tuple[int, str]] = []
        self.drawn: list[tuple[int, str]] = []
        self.release = threading.Event()
        self.release.set()
        self.drawing = threading.Event()
        self.closed = False
        self.fail_drawing = fail_drawing

    def infer(self, frame, pane_index):
        assert not self.closed, "inferred after close"
        self.inferred.append((frame.frame_index, threading.current_thread().name))
        result = Detections(frame.frame_index, frame.timestamp_s, np.zeros((0, 4)), [], [], (),
                            timings=StageTimes(1.0, 2.0, 0.5))

        def draw():
            self.drawing.set()
            assert self.release.wait(5), "drawing was never released"
            assert not self.closed, "drawn after close"
            if self.fail_drawing:
                raise ValueError("cannot draw this")
            self.drawn.append((frame.frame_index, threading.current_thread().name))
            return PaneOutput(pane_index, frame.image.copy(), result, self.label, result.timings, 0.1)

        return draw

    def run(self, frame, pane_index):
        return self.infer(frame, pane_index)()

    def close(self):
        self.closed = True


def frame_zero_held_in_drawing():
    """A one-pane pipeline whose frame 0 has been submitted and is held in its drawing step (`release` lets it go)."""
    runner = TwoPhaseRunner()
    pipeline = Pipeline([runner], hud=False)
    runner.release.clear()
    outputs = []
    pipeline.submit(make_frame(0), outputs.append)
    assert runner.drawing.wait(5)
    return runner, pipeline, outputs


def test_each_frame_is_drawn_on_the_draw_thread_while_the_next_one_infers():
    runner, pipeline, outputs = frame_zero_held_in_drawing()  # frame 0 is being drawn...
    inferring = threading.Thread(target=pipeline.submit, args=(make_frame(1), outputs.append))
    inferring.start()
    for _ in range(200):  # ...while frame 1 infers
        if len(runner.inferred) == 2:
            break
        threading.Event().wait(0.005)
    assert [i for i, _ in runner.inferred] == [0, 1] and outputs == []
    runner.release.set()
    inferring.join(5)
    pipeline.drain()
    assert [o.frame_index for o in outputs] == [0, 1]
    assert {name for _, name in runner.drawn} == {"cnnlens-draw_0"}
    assert all(name != "cnnlens-draw_0" for _, name in runner.inferred)
    pipeline.close()


def test_stream_yields_every_frame_once_in_order():
    runner = TwoPhaseRunner()
    pipeline = Pipeline([runner, None], Layout.TWO)
    outputs = list(pipeline.stream(make_frame(i) for i in range(7)))
    assert [o.frame_index for o in outputs] == list(range(7))
    assert [o.panes[0].result.frame_index for o in outputs] == list(range(7))
    assert outputs[0].composed.shape[1] > 80  # both panes composed
    pipeline.close()


def test_a_swapped_runner_is_closed_only_after_its_last_frame_is_drawn():
    old, new = TwoPhaseRunner(), TwoPhaseRunner()
    pipeline = Pipeline([old], hud=False)
    outputs = []
    old.release.clear()
    pipeline.submit(make_frame(0), outputs.append)
    assert old.drawing.wait(5)
    pipeline.swap_runner(0, new)
    threading.Timer(0.1, old.release.set).start()
    pipeline.submit(make_frame(1), outputs.append)  # waits for frame 0's drawing before closing `old`
    pipeline.drain()
    assert old.closed and [i for i, _ in old.drawn] == [0]
    assert [i for i, _ in new.inferred] == [1] and [o.frame_index for o in outputs] == [0, 1]
    pipeline.close()


def test_a_pane_that_fails_to_draw_says_why():
    pipeline = Pipeline([TwoPhaseRunner(fail_drawing=True)], hud=True)
    outputs = list(pipeline.stream([make_frame(0)]))
    assert outputs[0].panes[0].error == "cannot draw this"
    assert outputs[0].panes[0].image.shape == (60, 80, 3)
    pipeline.close()


def test_what_the_output_handler_raises_surfaces_on_the_owning_thread_at_the_next_frame():
    pipeline = Pipeline([TwoPhaseRunner()], hud=False)

    def broken(_output):
        raise OSError("disk full")

    pipeline.submit(make_frame(0), broken)
    with pytest.raises(OSError, match="disk full"):
        pipeline.submit(make_frame(1), lambda _o: None)
    pipeline.close()


def test_close_finishes_the_frame_in_flight_and_stops_the_draw_thread():
    runner = TwoPhaseRunner()
    pipeline = Pipeline([runner], hud=False)
    outputs = []
    runner.release.clear()
    pipeline.submit(make_frame(0), outputs.append)
    assert runner.drawing.wait(5)
    threading.Timer(0.1, runner.release.set).start()
    pipeline.close()
    assert [o.frame_index for o in outputs] == [0] and runner.closed
    assert not any(t.name.startswith("cnnlens-draw") for t in threading.enumerate())


def test_runners_without_a_drawing_step_still_work_through_the_draw_thread():
    class OnePhase:
        label = "one-phase"

        def run(self, frame, pane_index):
            return PaneOutput(pane_index, frame.image, None, self.label)

        def close(self):
            pass

    pipeline = Pipeline([OnePhase()], hud=False)
    outputs = list(pipeline.stream(make_frame(i) for i in range(3)))
    assert [o.frame_index for o in outputs] == [0, 1, 2] and outputs[2].panes[0].label == "one-phase"
    pipeline.close()


def test_a_swap_waits_out_a_failed_drawing_and_then_takes_effect():
    old, new = TwoPhaseRunner(), TwoPhaseRunner()
    pipeline = Pipeline([old], hud=False)

    def broken(_output):
        raise OSError("disk full")

    pipeline.submit(make_frame(0), broken)
    pipeline.swap_runner(0, new)
    with pytest.raises(OSError, match="disk full"):  # reported once, at the next frame...
        pipeline.submit(make_frame(1), lambda _o: None)
    assert not old.closed
    outputs = list(pipeline.stream([make_frame(2)]))  # ...and the swap happens on the one after
    assert old.closed and [i for i, _ in new.inferred] == [2] and outputs[0].frame_index == 2
    pipeline.close()


def test_process_after_submit_draws_in_order_not_beside_the_frame_in_flight():
    runner, pipeline, outputs = frame_zero_held_in_drawing()
    threading.Timer(0.1, runner.release.set).start()
    out = pipeline.process(make_frame(1))
    assert [o.frame_index for o in outputs] == [0] and out.frame_index == 1
    assert [i for i, _ in runner.drawn] == [0, 1]
    pipeline.close()


class BarrierRunner(TwoPhaseRunner):
    """Draws a flat colour of its own, and meets the other panes' drawings at a barrier when given one."""

    def __init__(self, value, barrier=None):
        super().__init__()
        self.value, self.barrier = value, barrier

    def infer(self, frame, pane_index):
        draw = super().infer(frame, pane_index)

        def draw_flat():
            output = draw()
            if self.barrier is not None:
                self.barrier.wait(5)  # raises BrokenBarrierError unless all four panes draw at the same time
            return PaneOutput(pane_index, np.full_like(output.image, self.value), output.result, self.label)

        return draw_flat


def test_the_panes_of_a_frame_draw_side_by_side_each_into_its_own_cell(monkeypatch):
    monkeypatch.setattr("desktop_app.core.pipeline.os.cpu_count", lambda: 16)  # a GPU host's CPU
    barrier = threading.Barrier(4)
    runners = [BarrierRunner(value, barrier) for value in (10, 80, 160, 240)]
    pipeline = Pipeline(runners, Layout.FOUR, hud=False)
    [output] = list(pipeline.stream([make_frame(0, 120, 160)]))
    pipeline.close()
    threads = {name for runner in runners for _, name in runner.drawn}
    assert len(threads) == 4 and all(name.startswith("cnnlens-draw-pane") for name in threads)
    from desktop_app.core.render import pane_rects

    composed = output.composed
    for rect, value in zip(pane_rects(Layout.FOUR, (composed.shape[1], composed.shape[0])), (10, 80, 160, 240)):
        centre = composed[rect.y + rect.h // 2, rect.x + rect.w // 2]
        assert (centre == value).all()
    assert output.stage_ms["compose"] > 0.0


def test_on_two_cores_the_panes_draw_in_turn_on_the_draw_thread(monkeypatch):
    monkeypatch.setattr("desktop_app.core.pipeline.os.cpu_count", lambda: 2)
    runners = [BarrierRunner(value) for value in (10, 80, 160, 240)]
    pipeline = Pipeline(runners, Layout.FOUR, hud=False)
    outputs = list(pipeline.stream([make_frame(0, 120, 160), make_frame(1, 120, 160)]))
    pipeline.close()
    assert len(outputs) == 2
    assert {name for runner in runners for _, name in runner.drawn} == {"cnnlens-draw_0"}
