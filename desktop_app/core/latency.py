"""Live latency: how old a frame is when the live path has it ready to paint (capture thread, newest-frame
mailbox, pipeline with its draw thread), as the GUI runs it; used by `cnnlens bench` and the latency benchmarks.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from desktop_app.core.pipeline import PaneSpec
from desktop_app.core.processing import build_pipeline


def measure_live_latency(spec: PaneSpec, device: str, seconds: float,
                         patience: float | None = None) -> dict:
    """Run the live path (paced sample → capture thread → newest frame → pipeline) and report frame age in ms
    at the moment the composed frame is ready to paint: p50, p95, max, and the p50 of the first and last
    quarters so a latency that builds up over time shows; `inference_p50` is this run's own inference time (the
    live source and capture thread share the CPU, so it is longer than in the clip variants), also per quarter,
    which tells a slower spell of the host from a queue building up."""
    from desktop_app.core.sources import FRESH_FRAME_PATIENCE, CaptureThread, open_source

    patience = FRESH_FRAME_PATIENCE if patience is None else patience  # what the GUI's worker uses
    pipeline = build_pipeline([spec], device, hud=True)
    ages: list[float] = []
    inference: list[float] = []

    def painted(output, item) -> None:  # as in the GUI: on the draw thread, when the composed frame is ready
        ages.append(1000.0 * capture.age_s(item))
        inference.append(sum(pane.timings.inference_ms for pane in output.panes))

    source = open_source("sample")  # no duration: live, paced at 30 FPS
    capture = CaptureThread(source, realtime=True)
    capture.start()
    try:
        deadline = time.monotonic() + seconds
        last_index = -1
        while time.monotonic() < deadline:
            item = capture.latest(newer_than=last_index, patience=patience)
            if item is None:  # woken the moment the next frame arrives, as the GUI's worker is
                capture.wait_for_frame(newer_than=last_index, timeout=0.05)
                continue
            last_index = item.frame_index
            pipeline.submit(item, lambda output, item=item: painted(output, item))
        pipeline.drain()
    finally:
        capture.stop()
        pipeline.close()
    if len(ages) < 4:
        return {}
    quarter = max(len(ages) // 4, 1)
    return {"p50": statistics.median(ages), "p95": float(np.percentile(ages, 95)), "max": max(ages),
            "first_quarter_p50": statistics.median(ages[:quarter]),
            "last_quarter_p50": statistics.median(ages[-quarter:]), "frames": float(len(ages)),
            "inference_p50": statistics.median(inference),
            # a slower spell of the host shows in inference as well; a queue building up would not
            "first_quarter_inference_p50": statistics.median(inference[:quarter]),
            "last_quarter_inference_p50": statistics.median(inference[-quarter:])}
