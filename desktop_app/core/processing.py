"""Headless processing: a source through the panes into an annotated video and/or JSON, every frame kept.

For a file source every input frame appears in the output, with its own presentation time, so the output
lasts as long as the input. Live and sample sources are taken for a bounded duration.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from desktop_app.core.pipeline import FrameOutput, Pipeline, PaneSpec
from desktop_app.core.render import Layout

log = logging.getLogger(__name__)

Progress = Callable[[int, "int | None"], None]


@dataclass(frozen=True, slots=True)
class ProcessJob:
    """What to process and where the results go."""

    source: str
    panes: Sequence[PaneSpec]
    out: Path | None = None
    json_path: Path | None = None
    device: str = "auto"
    max_frames: int | None = None
    duration_s: float = 10.0
    hud: bool = True
    track: bool = False


@dataclass(slots=True)
class ProcessSummary:
    """Counts and mean per-stage times of a finished job."""

    frames: int = 0
    wall_s: float = 0.0
    stage_ms: dict = field(default_factory=dict)
    out: Path | None = None
    json_path: Path | None = None
    video_duration_s: float = 0.0

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0

    def format(self) -> str:
        stages = "  ".join(f"{k} {v:.1f} ms" for k, v in self.stage_ms.items())
        lines = [f"{self.frames} frames in {self.wall_s:.1f} s ({self.fps:.1f} FPS)", f"per frame: {stages}"]
        if self.out:
            lines.append(f"video: {self.out} ({self.video_duration_s:.2f} s)")
        if self.json_path:
            lines.append(f"json: {self.json_path}")
        return "\n".join(lines)


def layout_for(pane_count: int) -> Layout:
    """The smallest layout that holds `pane_count` panes."""
    for layout in (Layout.ONE, Layout.TWO, Layout.FOUR):
        if pane_count <= layout.value:
            return layout
    raise ValueError(f"at most 4 panes can be tiled, got {pane_count}")


def build_pipeline(specs: Sequence[PaneSpec], device: str, hud: bool, track: bool = False,
                   download_progress: Callable[[int, int], None] | None = None) -> Pipeline:
    """Load every pane's model (raising on the first that fails, after closing those already loaded).
    `download_progress(done_bytes, total_bytes)` reports a model download, when one is needed."""
    from desktop_app.core.panes import build_runner

    runners = []
    try:
        for spec in specs:
            runner = build_runner(spec, device, download_progress)
            if track and hasattr(runner, "adapter") and hasattr(runner.adapter, "track"):
                runner.adapter.track = True
            runners.append(runner)
    except BaseException:
        for runner in runners:
            runner.close()
        raise
    return Pipeline(runners, layout_for(len(runners)), hud=hud)  # each pane's HUD names its own device


def run_process(job: ProcessJob, progress: Progress | None = None,
                download_progress: Callable[[int, int], None] | None = None) -> ProcessSummary:
    """Process `job` to the end of its source (or its frame/duration limit) and return a summary."""
    from desktop_app.core.outputs import check_writable_folder
    from desktop_app.core.recorder import Recorder
    from desktop_app.core.sources import PrefetchingReader, open_source

    for path in (job.out, job.json_path):
        if path is not None:  # fail before loading any model
            check_writable_folder(path.parent)
    pipeline = build_pipeline(job.panes, job.device, job.hud, job.track, download_progress)
    summary = ProcessSummary(out=job.out, json_path=job.json_path)
    records: list[dict] = []
    recorder = None
    totals: dict[str, float] = {}
    try:
        with open_source(job.source, duration_s=job.duration_s) as source, PrefetchingReader(source) as reader:
            total = source.frame_count
            if job.max_frames is not None:
                total = min(total, job.max_frames) if total else job.max_frames
            started = time.perf_counter()
            last_ts = 0.0
            # decoded ahead on another core, every frame in order; each drawn while the next one infers
            frames = itertools.islice(reader, job.max_frames) if job.max_frames is not None else reader
            for output in pipeline.stream(frames):
                if job.out is not None:
                    if recorder is None:
                        recorder = Recorder(job.out, fps_hint=source.fps or 30.0, drop_when_busy=False)
                    recorder.write(output.composed, output.timestamp_s, handover=True)
                if job.json_path is not None:
                    records.append(_frame_record(output))
                for key, value in output.stage_ms.items():
                    totals[key] = totals.get(key, 0.0) + value
                summary.frames += 1
                last_ts = output.timestamp_s
                if progress:
                    progress(summary.frames, total)
            summary.wall_s = time.perf_counter() - started
            if summary.frames == 0:
                raise ValueError(f"{job.source} delivered no frames")
            frame_period = 1.0 / (source.fps or 30.0)
            summary.video_duration_s = last_ts + frame_period
    finally:
        if recorder is not None:
            recorder.close()
        pipeline.close()
    if recorder is not None and recorder.error is not None:
        raise recorder.error
    summary.stage_ms = {k: v / summary.frames for k, v in totals.items() if not k.startswith("pane")}
    if job.json_path is not None:
        payload = records[0] if len(records) == 1 else {"frames": records}
        job.json_path.write_text(json.dumps(payload, indent=2))
    return summary


def _frame_record(output: FrameOutput) -> dict:
    panes = []
    for pane in output.panes:
        item = pane.result.to_dict() if pane.result is not None else {"error": pane.error}
        item["pane"] = pane.label
        panes.append(item)
    return {"frame_index": output.frame_index, "timestamp_s": output.timestamp_s, "panes": panes}
