"""Run several panes on the very same frame and compose what they show.

One captured frame is fanned out to every pane, so a side-by-side comparison is fair and synchronised. The
pipeline is thread-confined: one inference thread owns it (and so every model in it); other threads hand it
new runners through `swap_runner`, which takes effect between two frames.

Each frame goes through two phases: `infer` (every pane's model work) and `draw` (each pane's overlays, its HUD,
the composed view). `process` runs both in turn; `submit` and `stream` draw each frame on a draw thread while
the owning thread already infers the next one, so on a fast model (a GPU, OpenVINO) the CPU's drawing no longer
adds to the frame time. At most one frame is drawn while the next infers: nothing queues. The panes of a frame
draw side by side, each pasting itself into its cell of the composed view, on whatever device they inferred.

Panes whose models all run on the CPU run side by side on a small pool of threads, one per free core: PyTorch
(and OpenCV) release the GIL while they compute, and Ultralytics gives each model one intra-op thread, so on a
2-core machine two panes infer at once. GPU panes run one after another on the owning thread (a CUDA graph
capture must not see another thread's launches).
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Iterator, Sequence

from desktop_app.core.errors import CnnLensError
from desktop_app.core.frames import Frame
from desktop_app.core.pane_types import (FinishPane, FrameOutput, ModelPane, PaneOutput, PaneRunner, PaneSpec,
                                         RateMeter, hud_lines, runner_details, scaled_text)
from desktop_app.core.render import (Layout, composed_canvas, draw_banner, draw_hud, hud_rect, letterbox_rect,
                                    pane_rects, paste_into)

__all__ = ["FinishPane", "FrameOutput", "InferredFrame", "MAX_COMPOSED_WH", "ModelPane", "PaneOutput", "PaneRunner",
           "PaneSpec", "Pipeline", "RateMeter", "composed_size_wh", "display_sizes_wh", "hud_lines",
           "parallel_pane_slots", "runner_details", "scaled_text"]

log = logging.getLogger(__name__)

#: What a pane failing on one frame may raise without taking the live view down: the pane says why instead.
_PANE_ERRORS = (CnnLensError, RuntimeError, ValueError)

MAX_COMPOSED_WH = (1920, 1080)


def composed_size_wh(frame_wh: tuple[int, int], layout: Layout) -> tuple[int, int] | None:
    """Size of the composed view: panes at frame size, scaled down to fit `MAX_COMPOSED_WH` (even sides, so it
    encodes as is). None for one pane that already fits: it is shown at its own size."""
    cols, rows = layout.grid
    width, height = frame_wh[0] * cols, frame_wh[1] * rows
    scale = min(1.0, MAX_COMPOSED_WH[0] / width, MAX_COMPOSED_WH[1] / height)
    if layout is Layout.ONE and scale == 1.0:
        return None
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


@functools.lru_cache(maxsize=16)
def display_sizes_wh(frame_wh: tuple[int, int], layout: Layout) -> tuple[tuple[int, int] | None, ...]:
    """Per pane, the size the composed view shows a frame of `frame_wh` at, where that is smaller than the frame;
    None where it is shown at its own size."""
    out_wh = composed_size_wh(frame_wh, layout)
    if out_wh is None:
        return (None,) * layout.value
    shown = (letterbox_rect(frame_wh, cell) for cell in pane_rects(layout, out_wh))
    return tuple((rect.w, rect.h) if rect.w < frame_wh[0] else None for rect in shown)


@dataclass(frozen=True, slots=True)
class InferredFrame:
    """A frame after `Pipeline.infer`: per pane, its runner and either its finished output or the step that
    draws it; `layout` as it was when the frame was inferred; `stage_ms` so far."""

    frame: Frame
    layout: Layout
    runners: tuple[PaneRunner | None, ...]
    steps: tuple[PaneOutput | FinishPane, ...]
    stage_ms: dict


class Pipeline:
    """Runs every pane on the same frame and composes the panes into one view."""

    def __init__(self, runners: Sequence[PaneRunner | None], layout: Layout = Layout.ONE, hud: bool = True,
                 info_line: str = ""):
        """`info_line` is appended to every pane's HUD after the pane's own device and precision (the GUI puts
        the capture-to-display latency there)."""
        self._runners: list[PaneRunner | None] = list(runners)
        self._pending: dict[int, PaneRunner | None] = {}
        self._lock = threading.Lock()
        self.layout = layout
        self.hud = hud
        self.info_line = info_line
        #: cv2 text scale of the HUD; None sizes it from the frame (see `ModelPane.style`).
        self.hud_scale: float | None = None
        self._meters: dict[int, RateMeter] = {}
        self._hud_rects: dict[int, tuple[int, int, int, int] | None] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._pool_workers = 0
        self._drawer: ThreadPoolExecutor | None = None
        self._drawing: Future | None = None
        self._pane_drawers: ThreadPoolExecutor | None = None
        self._pane_drawer_count = 0

    @property
    def runners(self) -> tuple[PaneRunner | None, ...]:
        return tuple(self._runners)

    def swap_runner(self, index: int, runner: PaneRunner | None) -> None:
        """Replace pane `index`'s runner before the next frame (any thread). The old runner is closed by the
        pipeline once it is out of use, so its memory (GPU included) is released."""
        with self._lock:
            self._pending[index] = runner

    def set_layout(self, layout: Layout) -> None:
        self.layout = layout

    def _apply_pending(self) -> None:
        with self._lock:
            if not self._pending:
                return
        # A frame still being drawn may use a runner about to close. If its drawing failed, that is raised here
        # and the swap waits for the next frame.
        self._wait_for_draw()
        with self._lock:
            pending, self._pending = self._pending, {}
        for index, runner in pending.items():
            while len(self._runners) <= index:
                self._runners.append(None)
            old = self._runners[index]
            self._runners[index] = runner
            self._meters.pop(index, None)
            if old is not None and old is not runner:
                old.close()

    # -- the two phases --------------------------------------------------------------------------------------

    def process(self, frame: Frame) -> FrameOutput:
        """Run the visible panes on `frame`, draw their HUDs and compose them. A pane that fails shows why."""
        self._wait_for_draw()  # after a `submit`: one frame drawn at a time, in order
        return self.draw(self.infer(frame))

    def infer(self, frame: Frame) -> InferredFrame:
        """Phase one on the owning thread: every visible pane's model work on `frame`."""
        self._apply_pending()
        layout = self.layout
        stage_ms: dict[str, float] = {"inference": 0.0, "render": 0.0}
        runners = tuple(self._runners[i] if i < len(self._runners) else None for i in range(layout.value))
        for runner, display_wh in zip(runners, display_sizes_wh(frame.resolution_wh, layout)):
            if hasattr(runner, "display_wh"):  # task panes draw straight at the size they are shown
                runner.display_wh = display_wh
        pool = self._pool_for(runners)
        if pool is None:
            steps = tuple(self._infer_pane(runner, frame, i, stage_ms) for i, runner in enumerate(runners))
        else:
            # panes on runtimes that take every core run alone, one after another; the others side by side
            found: dict[int, PaneOutput | FinishPane] = {
                i: self._infer_pane(r, frame, i, stage_ms) for i, r in enumerate(runners) if _takes_every_core(r)}
            futures = {i: pool.submit(self._infer_pane, r, frame, i, stage_ms)
                       for i, r in enumerate(runners) if i not in found}
            found.update((i, future.result()) for i, future in futures.items())
            steps = tuple(found[i] for i in range(len(runners)))
        return InferredFrame(frame, layout, runners, steps, stage_ms)

    def draw(self, inferred: InferredFrame) -> FrameOutput:
        """Phase two (any one thread at a time): each pane's drawing and HUD, pasted into the composed view.
        Two or more panes draw side by side, each pasting into its own cell, so composing is part of drawing."""
        frame = inferred.frame
        panes = list(enumerate(zip(inferred.runners, inferred.steps)))
        stages: list[dict[str, float]] = [{"inference": 0.0, "render": 0.0, "compose": 0.0} for _ in panes]
        out_wh = composed_size_wh(frame.resolution_wh, inferred.layout)
        if out_wh is None:  # one pane shown at its own size: its image is the view
            outputs = [self._finish_pane(runner, step, frame, i, stages[i]) for i, (runner, step) in panes]
            composed = outputs[0].image
        else:
            started = time.perf_counter()
            composed, cells = composed_canvas(inferred.layout, out_wh)
            stages[0]["compose"] += (time.perf_counter() - started) * 1000.0

            def draw_pane(index: int, runner: PaneRunner | None, step: PaneOutput | FinishPane) -> PaneOutput:
                output = self._finish_pane(runner, step, frame, index, stages[index])
                pasted = time.perf_counter()
                paste_into(composed, cells[index], output.image)
                stages[index]["compose"] += (time.perf_counter() - pasted) * 1000.0
                return output

            pool = self._draw_pool_for(len(panes))
            if pool is None:
                outputs = [draw_pane(i, runner, step) for i, (runner, step) in panes]
            else:
                futures = [pool.submit(draw_pane, i, runner, step) for i, (runner, step) in panes]
                outputs = [future.result() for future in futures]
        stage_ms = dict(inferred.stage_ms)
        for pane_stages in stages:  # CPU time summed over panes, as for inference
            for key, value in pane_stages.items():
                stage_ms[key] = stage_ms.get(key, 0.0) + value
        return FrameOutput(frame.frame_index, frame.timestamp_s, tuple(outputs), composed, stage_ms,
                           frame.resolution_wh)

    def _draw_pool_for(self, panes: int) -> ThreadPoolExecutor | None:
        """Threads that draw the panes of one frame side by side: one per pane, with a core left for inference.
        Drawing is OpenCV and numpy work that releases the GIL, whatever device the panes inferred on. None for
        one pane or up to two cores, where drawing in turn on the draw thread is as fast (4 PyTorch panes: 11.2
        FPS in turn, 11.1 side by side; 4 OpenVINO panes: 53.3 and 51.4)."""
        workers = min(panes, (os.cpu_count() or 1) - 1)
        if workers < 2:
            return None
        if self._pane_drawers is None or self._pane_drawer_count != workers:
            if self._pane_drawers is not None:
                self._pane_drawers.shutdown(wait=True)  # idle: a frame's drawing is over before the next begins
            self._pane_drawers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cnnlens-draw-pane")
            self._pane_drawer_count = workers
        return self._pane_drawers

    # -- drawing while the next frame infers -------------------------------------------------------------------

    def submit(self, frame: Frame, on_output: Callable[[FrameOutput], None]) -> None:
        """Infer `frame` now; draw it on the draw thread, which then calls `on_output` with it. Waits first for
        the previous frame's drawing (so outputs arrive in order, one frame drawn at a time) and raises what that
        drawing or its `on_output` raised."""
        inferred = self.infer(frame)
        self._wait_for_draw()
        if self._drawer is None:
            self._drawer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cnnlens-draw")
        self._drawing = self._drawer.submit(lambda: on_output(self.draw(inferred)))

    def stream(self, frames: Iterable[Frame]) -> Iterator[FrameOutput]:
        """Every frame's output in order, each frame drawn while the next one infers (headless processing)."""
        done: deque[FrameOutput] = deque()
        for frame in frames:
            self.submit(frame, done.append)
            while done:  # the previous frame, drawn while this one inferred
                yield done.popleft()
        self.drain()
        while done:
            yield done.popleft()

    def drain(self) -> None:
        """Wait until the frame being drawn is done; raises what its drawing or `on_output` raised."""
        self._wait_for_draw()

    def _wait_for_draw(self, reraise: bool = True) -> None:
        drawing, self._drawing = self._drawing, None
        if drawing is None:
            return
        try:
            drawing.result()
        except Exception:
            if reraise:
                raise
            log.exception("drawing a frame failed")

    # -- one pane --------------------------------------------------------------------------------------------

    def _infer_pane(self, runner: PaneRunner | None, frame: Frame, index: int,
                    stage_ms: dict) -> PaneOutput | FinishPane:
        if runner is None:
            image = draw_banner(frame.image, "No model in this pane", "info")
            return PaneOutput(index, image, None, "empty")
        if hasattr(runner, "keep_clear"):  # task panes and views that draw boxes: labels go below the HUD
            runner.keep_clear = self._hud_rects.get(index) if self.hud else None  # the HUD of the last frame
        started = time.perf_counter()
        try:
            infer = getattr(runner, "infer", None)
            step = infer(frame, index) if infer is not None else runner.run(frame, index)
        except _PANE_ERRORS as exc:
            return _failed(runner, frame, index, exc)
        stage_ms[f"pane{index}"] = (time.perf_counter() - started) * 1000.0
        return step

    def _finish_pane(self, runner: PaneRunner | None, step: PaneOutput | FinishPane, frame: Frame, index: int,
                     stage_ms: dict) -> PaneOutput:
        if isinstance(step, PaneOutput):
            output = step
        else:
            started = time.perf_counter()
            try:
                output = step()
            except _PANE_ERRORS as exc:
                return _failed(runner, frame, index, exc)
            stage_ms[f"pane{index}"] = stage_ms.get(f"pane{index}", 0.0) + (time.perf_counter() - started) * 1000.0
        if runner is None or output.error is not None:
            return output
        stage_ms["inference"] += output.timings.total_ms
        stage_ms["render"] += output.render_ms
        if not self.hud:
            return output
        meter = self._meters.setdefault(index, RateMeter())
        meter.tick()
        started = time.perf_counter()
        info = " · ".join(part for part in (runner_details(runner), self.info_line) if part)
        lines = hud_lines(output, info, meter.fps or None)
        scale = self.hud_scale  # chosen for a frame-sized pane: a pane drawn smaller scales it down with it
        if scale is not None and output.image.shape[0] != frame.image.shape[0]:
            scale *= output.image.shape[0] / frame.image.shape[0]
        image = draw_hud(output.image, lines, scale=scale)
        self._hud_rects[index] = hud_rect(image.shape, lines, scale=scale)
        stage_ms["render"] += (time.perf_counter() - started) * 1000.0
        return replace(output, image=image)

    def _pool_for(self, runners: Sequence[PaneRunner | None]) -> ThreadPoolExecutor | None:
        """A thread pool when two or more panes can run at once (all on the CPU, a free core each, not on a
        runtime that takes every core), else None."""
        if not all(_runs_on_cpu(r) for r in runners):
            return None
        shared = [r for r in runners if not _takes_every_core(r)]
        workers = min(len(shared), parallel_pane_slots())
        if workers < 2:
            return None
        if self._pool is None or self._pool_workers != workers:
            if self._pool is not None:
                self._wait_for_draw(reraise=False)  # its drawing may still use the old pool
                self._pool.shutdown(wait=True)
            self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cnnlens-pane")
            self._pool_workers = workers
        return self._pool

    def close(self) -> None:
        """Finish the frame being drawn, then close every runner (and any pending one); the pipeline is empty
        afterwards."""
        self._wait_for_draw(reraise=False)
        if self._drawer is not None:
            self._drawer.shutdown(wait=True)
            self._drawer = None
        if self._pane_drawers is not None:
            self._pane_drawers.shutdown(wait=True)
            self._pane_drawers = None
        self._apply_pending()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for runner in self._runners:
            if runner is not None:
                runner.close()
        self._runners = []


def _failed(runner: PaneRunner, frame: Frame, index: int, exc: Exception) -> PaneOutput:
    """A pane's output for a frame its runner failed on: the frame with the reason over it."""
    # A model that fails on one frame must not take the live view down; the pane says why.
    log.warning("pane %d (%s) failed on frame %d: %s", index, runner.label, frame.frame_index, exc)
    image = draw_banner(frame.image, f"Error: {exc}", "error")
    return PaneOutput(index, image, None, runner.label, error=str(exc))


def parallel_pane_slots() -> int:
    """How many CPU panes may infer at once: the cores over PyTorch's intra-op threads per model (one here:
    Ultralytics gives it cores - 1). Panes on OpenVINO or ONNX Runtime are not counted: one inference there takes
    every core, so they run alone (`_takes_every_core`).

    Only asked of PyTorch once a model has imported it: importing torch here would hold the GIL for over a
    second on the thread that paints the first frames, and without a model there is nothing to run in parallel.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return 1
    return max(1, (os.cpu_count() or 1) // max(1, torch.get_num_threads()))


def _takes_every_core(runner: PaneRunner | None) -> bool:
    """True for a pane whose runtime uses every core for one inference (OpenVINO's latency hint, ONNX Runtime's
    default thread pool): two at once, or one beside PyTorch panes, only fight over the cores (four OpenVINO
    panes at imgsz 320 ran 41.0 FPS two at a time and 46.8 FPS in turn)."""
    info = getattr(getattr(runner, "adapter", None), "info", None)
    return str(getattr(info, "backend", "")).lower() in ("openvino", "onnx")


def _runs_on_cpu(runner: PaneRunner | None) -> bool:
    """True for an empty pane, a view with no model, or a runner whose model is on the CPU; unknown runners are
    treated as not (they run on the owning thread)."""
    if runner is None:
        return True
    if not hasattr(runner, "adapter"):
        return False
    adapter = runner.adapter
    return adapter is None or getattr(getattr(adapter, "info", None), "device", None) == "cpu"
