"""The benchmark harness measures every variant on the same clip and states the ratios of the targets."""

import pytest

from desktop_app.core.bench import BenchConfig, run_bench


@pytest.mark.slow
def test_quick_bench_measures_baseline_pipeline_and_recording_on_the_same_frames():
    report = run_bench(BenchConfig(model="yolo11n-pose", frames=10, imgsz=160, quick=True, device="cpu"))
    assert set(report.variants) == {"baseline", "pipeline", "recording"}
    frames = {v.frames for v in report.variants.values()}
    assert frames == {10}  # 5 rounds of 2 timed frames each, for every variant alike
    assert all(v.fps > 0 for v in report.variants.values())
    assert report.variants["pipeline"].stage_ms["inference"] > 0
    assert set(report.ratios) == {"pipeline / predict loop FPS  [>= 0.95]", "recording on / off FPS  [>= 0.95]"}
    table = report.format_table()
    assert "baseline: YOLO.predict loop" in table and "ratios" in table
    assert report.to_dict()["variants"]["recording"]["stage_ms"]["skipped"] == 0.0
