"""The hand-off between threads: newest-wins output slot, coalescing model loader, frame view conversion."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF

from desktop_app.core.errors import ModelError
from desktop_app.core.pipeline import PaneSpec
from desktop_app.ui.frame_view import FrameView, bgr_to_qimage, fit_rect
from desktop_app.ui.workers import ModelLoader, OutputSlot


def test_output_slot_keeps_only_the_newest_item_and_notifies_once():
    slot = OutputSlot()
    assert slot.put("a") is True  # empty -> the UI must be told
    assert slot.put("b") is False  # unread item replaced, no second notification
    assert slot.take() == "b" and slot.replaced == 1
    assert slot.take() is None


class _Runner:
    def __init__(self, name):
        self.label = name
        self.closed = False

    def close(self):
        self.closed = True


def _loader(build):
    events = []
    done = threading.Event()

    def record(kind):
        def callback(request, *rest):
            events.append((kind, request.pane_index, request.spec.model, *rest))
            if kind != "started":
                done.set()
        return callback

    loader = ModelLoader(build, on_started=record("started"), on_loaded=record("loaded"),
                         on_failed=record("failed"))
    return loader, events, done


def test_loader_builds_off_the_calling_thread_and_replaces_queued_requests():
    gate = threading.Event()
    threads = []

    def build(request, progress):
        threads.append(threading.current_thread().name)
        if request.spec.model == "first":
            gate.wait(5)
        return _Runner(request.spec.model)

    loader, events, _ = _loader(build)
    loader.start()
    loader.request(0, PaneSpec("detect", "first"), "cpu")
    time.sleep(0.1)  # "first" is now loading
    loader.request(1, PaneSpec("detect", "stale"), "cpu")
    loader.request(1, PaneSpec("detect", "fresh"), "cpu")  # replaces "stale" before it starts
    gate.set()
    deadline = time.monotonic() + 5
    while len([e for e in events if e[0] == "loaded"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    loader.stop()
    loaded = [e[2] for e in events if e[0] == "loaded"]
    assert loaded == ["first", "fresh"]
    assert set(threads) == {"cnnlens-model-loader"}
    assert not loader.is_alive()


@pytest.mark.parametrize("error", [ModelError("corrupt file"), RuntimeError("CUDA out of memory"),
                                   KeyError("weird third-party failure")])
def test_loader_reports_failures_instead_of_dying(error):
    def build(request, progress):
        raise error

    loader, events, done = _loader(build)
    loader.start()
    loader.request(2, PaneSpec("pose", "bad"), "cpu")
    assert done.wait(5)
    loader.stop()
    kind, pane, model, message = events[-1]
    assert (kind, pane, model) == ("failed", 2, "bad")
    assert str(error.args[0]) in message


@pytest.mark.parametrize("image_wh, area, expected", [
    ((1280, 720), QRectF(0, 0, 640, 640), QRectF(0, 140, 640, 360)),
    ((720, 1280), QRectF(0, 0, 640, 640), QRectF(140, 0, 360, 640)),
    ((100, 100), QRectF(10, 20, 50, 200), QRectF(10, 95, 50, 50)),
    ((0, 100), QRectF(0, 0, 50, 50), QRectF()),
])
def test_fit_rect_keeps_the_aspect_ratio_centred(image_wh, area, expected):
    assert fit_rect(image_wh, area) == expected


def test_qimage_shares_the_array_with_the_right_colours_and_stride():
    image = np.zeros((4, 6, 3), np.uint8)
    image[1, 2] = (255, 0, 0)  # blue in BGR
    qimage = bgr_to_qimage(image)
    assert (qimage.width(), qimage.height(), qimage.bytesPerLine()) == (6, 4, 18)
    assert qimage.pixelColor(2, 1).getRgb()[:3] == (0, 0, 255)
    with pytest.raises(ValueError, match="C-contiguous"):
        bgr_to_qimage(np.zeros((4, 8, 3), np.uint8)[:, ::2])


def test_display_buffer_gives_qt_the_same_colours_in_its_native_layout():
    from desktop_app.ui.frame_view import DisplayBuffer

    image = np.zeros((4, 6, 3), np.uint8)
    image[1, 2] = (255, 0, 0)  # blue in BGR
    image[3, 5] = (10, 20, 30)
    buffer = DisplayBuffer()
    first = buffer.qimage(image)
    assert (first.width(), first.height()) == (6, 4)
    assert first.pixelColor(2, 1).getRgb()[:3] == (0, 0, 255)
    assert first.pixelColor(5, 3).getRgb()[:3] == (30, 20, 10)
    held = buffer._buffer
    buffer.qimage(image)
    assert buffer._buffer is held  # one buffer, reused frame after frame


def test_display_probe_paints_a_frame_as_the_view_does(qtbot):
    from desktop_app.ui.frame_view import display_probe

    show = display_probe((320, 320))
    image = np.zeros((90, 160, 3), np.uint8)
    image[..., 2] = 255  # red in BGR
    show(image)
    surface = show.surface
    assert surface.pixelColor(160, 160).getRgb()[:3] == (255, 0, 0)  # the frame, scaled to fit the width
    assert surface.pixelColor(160, 10).getRgb()[:3] == (18, 18, 22)  # the letterbox band: the view's background


def test_frame_view_paints_the_newest_frame_and_reports_it(qtbot):
    view = FrameView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    with qtbot.waitExposed(view):
        view.show()
    for level in (10, 200):
        view.set_frame(np.full((90, 160, 3), level, np.uint8), tag=level)
    with qtbot.waitSignal(view.painted) as painted:
        view.repaint()
    assert painted.args[0] == 200  # the older, unpainted frame was dropped
    assert view.map_to_image(QPointF(200, 150)) == pytest.approx((80.0, 45.0))
    assert view.map_to_image(QPointF(200, 5)) is None  # in the letterbox band
    grabbed = view.grab().toImage()
    assert grabbed.pixelColor(200, 150).red() == 200


class _Feed:
    def __init__(self):
        self.index = 0

    def latest(self, newer_than=-1, patience=0.0):
        from desktop_app.core.frames import Frame

        self.index += 1
        return Frame(np.zeros((8, 8, 3), np.uint8), self.index, self.index / 30)

    def clock_s(self):
        return self.index / 30


class _BrokenOnce:
    label = "flaky"

    def __init__(self):
        self.calls = 0

    def run(self, frame, pane_index):
        from desktop_app.core.pipeline import PaneOutput

        self.calls += 1
        if self.calls == 2:
            raise TypeError("a bug in a view")  # not a CnnLensError: the pipeline lets it through
        return PaneOutput(pane_index, frame.image, None, self.label)

    def close(self):
        pass


def test_the_worker_reports_an_unexpected_error_once_and_keeps_processing():
    from desktop_app.core.pipeline import Pipeline
    from desktop_app.ui.workers import InferenceWorker

    errors, outputs = [], threading.Event()
    slot = OutputSlot()
    worker = InferenceWorker(Pipeline([_BrokenOnce()], hud=False), slot, outputs.set, on_error=errors.append)
    worker.set_feed(_Feed(), generation=1)
    worker.start()
    deadline = time.monotonic() + 5
    while worker.frames_processed < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    assert worker.frames_processed >= 5 and not worker.is_alive()
    assert errors == ["TypeError: a bug in a view"]


def test_a_feed_with_a_mailbox_wakes_the_worker_the_moment_a_frame_arrives(monkeypatch):
    # With the idle poll stretched to 5 s, only the mailbox's wake-up can get these frames processed in time.
    from desktop_app.core.frames import Frame
    from desktop_app.core.pipeline import Pipeline
    from desktop_app.core.sources import LatestFrameMailbox
    from desktop_app.ui import workers

    class MailboxFeed:
        def __init__(self):
            self.mailbox = LatestFrameMailbox()

        def latest(self, newer_than=-1, patience=0.0):
            return self.mailbox.latest(newer_than)

        def clock_s(self):
            return time.monotonic()

    monkeypatch.setattr(workers, "IDLE_WAIT_S", 5.0)
    processed = []
    class Plain(_BrokenOnce):
        def run(self, frame, pane_index):
            from desktop_app.core.pipeline import PaneOutput

            return PaneOutput(pane_index, frame.image, None, self.label)

    worker = workers.InferenceWorker(Pipeline([Plain()], hud=False), OutputSlot(), lambda: None,
                                     on_frame_processed=lambda item: processed.append(time.monotonic()))
    feed = MailboxFeed()
    worker.set_feed(feed, generation=1)
    worker.start()
    time.sleep(0.2)  # the worker has gone idle
    waits = []
    for index in range(1, 4):
        put_at = time.monotonic()
        feed.mailbox.put(Frame(np.zeros((8, 8, 3), np.uint8), index, put_at))
        deadline = put_at + 2.0
        while len(processed) < index and time.monotonic() < deadline:
            time.sleep(0.001)
        assert len(processed) == index, "the frame waited for the idle poll"
        waits.append(processed[-1] - put_at)
        time.sleep(0.05)
    worker.set_feed(None, generation=2)  # and lets go of the old feed's mailbox
    worker.stop()
    assert max(waits) < 1.0
    assert feed.mailbox._listeners == []
