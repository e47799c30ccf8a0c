"""Soak run: the live pipeline for minutes on end, switching models and toggling recording, watching resources.

Used by `benchmarks/soak.py` (10 minutes) and a shortened test. Reports resident memory, thread count and open
file handles over time, so growth beyond warm-up shows.
"""

from __future__ import annotations

import logging
import os
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from desktop_app.core.models.base import PredictOptions
from desktop_app.core.pipeline import PaneSpec, Pipeline
from desktop_app.core.render import Layout

log = logging.getLogger(__name__)

DEFAULT_ROTATION = ("pose:yolo11n-pose", "classify:efficientnet-lite0", "detect:yolo11n.yaml",
                    "segment:yolo11n-seg.yaml")


@dataclass(frozen=True, slots=True)
class ResourceSample:
    """One reading of the process's resources."""

    elapsed_s: float
    rss_mb: float
    threads: int
    open_files: int
    frames: int
    latency_ms: float = 0.0  # median capture-to-composed age of the frames since the previous sample


@dataclass(slots=True)
class SoakReport:
    """Every sample, plus the growth after warm-up that the reliability target is stated in."""

    samples: list[ResourceSample] = field(default_factory=list)
    switches: int = 0
    recordings: int = 0
    frames: int = 0
    warmup_s: float = 0.0

    def growth_after_warmup(self) -> dict:
        """RSS (MB), threads and file handles at the end minus their values at the first sample after warm-up."""
        after = [s for s in self.samples if s.elapsed_s >= self.warmup_s] or self.samples
        first, last = after[0], after[-1]
        return {"rss_mb": last.rss_mb - first.rss_mb, "threads": last.threads - first.threads,
                "open_files": last.open_files - first.open_files}

    def format(self) -> str:
        lines = [f"{'t (s)':>7}{'RSS MB':>9}{'threads':>9}{'files':>7}{'frames':>8}{'latency ms':>12}"]
        lines += [f"{s.elapsed_s:7.0f}{s.rss_mb:9.1f}{s.threads:9d}{s.open_files:7d}{s.frames:8d}"
                  f"{s.latency_ms:12.1f}" for s in self.samples]
        growth = self.growth_after_warmup()
        lines.append(f"{self.frames} frames, {self.switches} model switches, {self.recordings} recordings; "
                     f"growth after {self.warmup_s:.0f} s warm-up: RSS {growth['rss_mb']:+.1f} MB, "
                     f"threads {growth['threads']:+d}, files {growth['open_files']:+d}")
        return "\n".join(lines)


def read_resources() -> tuple[float, int, int]:
    """(RSS in MB, live threads, open file descriptors) of this process."""
    import psutil

    process = psutil.Process(os.getpid())
    return process.memory_info().rss / 2**20, threading.active_count(), process.num_fds()


def run_soak(duration_s: float, folder: Path, *, rotation: Sequence[str] = DEFAULT_ROTATION,
             switch_every_s: float = 5.0, record_every_s: float = 7.0, sample_every_s: float = 5.0,
             warmup_s: float = 30.0, imgsz: int = 320, device: str = "cpu", panes: int = 1,
             on_sample: Callable[[ResourceSample], None] | None = None) -> SoakReport:
    """Run the live path (paced sample → capture thread → pipeline → optional recorder) for `duration_s`.

    Models are loaded in a background thread and swapped in, as the GUI does; recording starts and stops
    every `record_every_s` into `folder`. With `panes` 2 or 4, the panes start on the rotation's first models,
    each switch replaces the next pane in turn, and the layout steps through every layout up to `panes`.
    """
    from desktop_app.core.panes import build_runner
    from desktop_app.core.recorder import Recorder, unique_output_path
    from desktop_app.core.sources import CaptureThread, open_source

    options = PredictOptions(imgsz=imgsz)
    specs = [PaneSpec.parse(text, options) for text in rotation]
    report = SoakReport(warmup_s=warmup_s)
    layouts = [layout for layout in Layout if layout.value <= panes]
    pipeline = Pipeline([build_runner(specs[i % len(specs)], device) for i in range(panes)], layouts[-1])
    capture = CaptureThread(open_source("sample"), realtime=True)
    capture.start()
    loader: threading.Thread | None = None
    recorder: Recorder | None = None
    started = time.monotonic()
    next_switch, next_record, next_sample = switch_every_s, record_every_s, 0.0
    last_index, turn = -1, 0
    ages: list[float] = []
    try:
        while (elapsed := time.monotonic() - started) < duration_s:
            if elapsed >= next_switch and (loader is None or not loader.is_alive()):
                turn += 1
                spec, pane = specs[(turn + panes - 1) % len(specs)], turn % panes
                loader = threading.Thread(
                    target=lambda s=spec, i=pane: pipeline.swap_runner(i, build_runner(s, device)),
                    name="soak model loader", daemon=True)
                pipeline.set_layout(layouts[turn % len(layouts)])
                loader.start()
                report.switches += 1
                next_switch = elapsed + switch_every_s
            if elapsed >= next_record:
                pipeline.drain()  # the frame being drawn goes to the recorder it was meant for
                if recorder is None:
                    recorder = Recorder(unique_output_path(folder, "soak", ".mp4"), fps_hint=30.0)
                    report.recordings += 1
                else:
                    recorder.close()
                    recorder = None
                next_record = elapsed + record_every_s
            if elapsed >= next_sample:
                rss, threads, files = read_resources()
                latency = statistics.median(ages) if ages else 0.0
                ages.clear()
                sample = ResourceSample(elapsed, rss, threads, files, report.frames, latency)
                report.samples.append(sample)
                if on_sample:
                    on_sample(sample)
                next_sample = elapsed + sample_every_s
            frame = capture.wait_for_frame(newer_than=last_index, timeout=0.5)
            if frame is None:
                continue
            last_index = frame.frame_index

            def deliver(output, frame=frame, recorder=recorder) -> None:  # on the draw thread, as in the GUI
                ages.append(1000.0 * capture.age_s(frame))
                if recorder is not None:
                    recorder.write(output.composed, frame.timestamp_s, handover=True)

            pipeline.submit(frame, deliver)
            report.frames += 1
        pipeline.drain()
    finally:
        if loader is not None:
            loader.join()
        pipeline.close()  # first: it finishes the frame being drawn, which may still write to the recorder
        if recorder is not None:
            recorder.close()
        capture.stop()
    rss, threads, files = read_resources()
    report.samples.append(ResourceSample(time.monotonic() - started, rss, threads, files, report.frames))
    return report
