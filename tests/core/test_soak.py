"""A shortened soak: switching models and toggling recording while frames flow leaks no threads or files."""

import pytest

from desktop_app.core.soak import run_soak


@pytest.mark.slow
def test_short_soak_keeps_threads_and_files_flat(tmp_path):
    report = run_soak(24.0, tmp_path, rotation=("pose:yolo11n-pose", "classify:efficientnet-lite0"),
                      switch_every_s=4.0, record_every_s=3.0, sample_every_s=4.0, warmup_s=8.0, imgsz=160)
    assert report.frames > 20
    assert report.switches >= 4 and report.recordings >= 3
    growth = report.growth_after_warmup()
    assert growth["threads"] <= 0, report.format()
    assert growth["open_files"] <= 0, report.format()
    assert growth["rss_mb"] < 50, report.format()
    assert len(list(tmp_path.glob("soak*.mp4"))) == report.recordings
