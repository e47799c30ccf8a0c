"""The benchmark harness measures every variant on the same clip and states the ratios of the targets."""

import pytest

from desktop_app.core.bench import BenchConfig, run_bench


@pytest.mark.slow
def test_quick_bench_measures_baseline_pipeline_and_recording_on_the_same_frames():
    shown = []
    report = run_bench(BenchConfig(model="yolo11n-pose", frames=10, imgsz=160, quick=True, device="cpu"),
                       display=lambda image: shown.append(image.shape))
    assert set(report.variants) == {"baseline", "pipeline", "recording"}
    frames = {v.frames for v in report.variants.values()}
    assert frames == {10}  # 5 rounds of 2 timed frames each, for every variant alike
    assert all(v.fps > 0 for v in report.variants.values())
    assert report.variants["pipeline"].stage_ms["inference"] > 0
    assert set(report.ratios) == {"pipeline / predict loop FPS  [>= 0.95]", "recording on / off FPS  [>= 0.95]"}
    table = report.format_table()
    assert "baseline: YOLO.predict loop" in table and "ratios" in table
    recording = report.to_dict()["variants"]["recording"]["stage_ms"]
    assert recording["skipped"] == 0.0 and recording["encode"] > 0  # the encoder thread's time per frame
    # the display stage: composed frames shown as the window would, once per round per pipeline variant
    assert len(shown) == 10 and set(shown) == {(720, 1280, 3)}
    assert all("display" in report.variants[k].stage_ms for k in ("pipeline", "recording"))
    assert "display" not in report.variants["baseline"].stage_ms


@pytest.mark.slow
def test_live_latency_is_frame_age_when_drawn_beside_that_runs_own_inference():
    from desktop_app.core.latency import measure_live_latency
    from desktop_app.core.models.base import PredictOptions
    from desktop_app.core.pipeline import PaneSpec

    latency = measure_live_latency(PaneSpec("pose", "yolo11n-pose", PredictOptions(imgsz=160)), "cpu", 2.0)
    assert latency["frames"] >= 10
    assert 0 < latency["inference_p50"] < latency["p50"] <= latency["p95"] <= latency["max"]
    assert latency["first_quarter_p50"] > 0 and latency["last_quarter_p50"] > 0
    # per quarter, inference tells a slower spell of the host from a queue building up
    assert 0 < latency["first_quarter_inference_p50"] < latency["first_quarter_p50"]
    assert 0 < latency["last_quarter_inference_p50"] < latency["last_quarter_p50"]
