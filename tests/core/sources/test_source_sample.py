"""The built-in sample: real photos, smooth deterministic motion, live pacing or a finite clip."""

from __future__ import annotations

import logging
import subprocess
import sys
import time

import numpy as np
import pytest

from desktop_app.core.sources import SampleSource, sample_photo_paths


def _mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.fixture(scope="module")
def sample() -> SampleSource:
    source = SampleSource(duration_s=20.0)
    source.open()
    return source


def test_uses_the_photos_shipped_with_ultralytics():
    assert [p.name for p in sample_photo_paths()] == ["bus.jpg", "zidane.jpg"]


def test_finding_the_photos_does_not_import_ultralytics():
    code = (
        "import sys; from desktop_app.core.sources import open_source;"
        "s = open_source('sample', duration_s=0.1); s.read(); s.close();"
        "print('ultralytics' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


def test_default_output_is_720p_bgr(sample):
    frame = sample.read()
    assert frame.image.shape == (720, 1280, 3) and frame.image.dtype == np.uint8
    assert sample.fps == 30.0 and sample.frame_count == 600


def test_frames_are_a_pure_function_of_their_index(sample):
    other = SampleSource(duration_s=20.0)
    for index in (0, 45, 181, 400):
        assert np.array_equal(sample.render(index), other.render(index))
    other.seek(181)
    assert np.array_equal(other.read().image, sample.render(181))


def test_motion_is_visible_but_smooth_across_a_crossfade(sample):
    # Frames 170..215 span the end of the first photo, the 1 s crossfade and the start of the second.
    frames = [sample.render(index) for index in range(170, 216)]
    steps = [_mean_abs_diff(a, b) for a, b in zip(frames, frames[1:])]
    assert min(steps) > 0.05, "consecutive frames should never be identical: the camera always moves"
    assert max(steps) < 8.0, f"a jump of {max(steps):.1f} grey levels between frames is not smooth"
    assert _mean_abs_diff(frames[0], frames[-1]) > 20, "after the crossfade another photo fills the frame"


def test_pan_and_zoom_change_the_view_within_a_photo(sample):
    assert _mean_abs_diff(sample.render(0), sample.render(150)) > 10


def test_finite_sample_ends_after_its_duration():
    with SampleSource(duration_s=0.5, resolution_wh=(320, 180)) as source:
        frames = list(source)
    assert len(frames) == 15
    assert [f.timestamp_s for f in frames] == pytest.approx([i / 30 for i in range(15)])
    assert frames[0].image.shape == (180, 320, 3)


def test_live_sample_paces_itself_and_skips_ticks_a_slow_reader_missed():
    with SampleSource(resolution_wh=(160, 90), fps=30.0) as source:
        assert source.is_live and source.frame_count is None
        started = time.monotonic()
        frames = [source.read() for _ in range(10)]
        elapsed = time.monotonic() - started
        assert 0.22 <= elapsed <= 1.0, f"10 frames at 30 fps took {elapsed:.3f} s"
        assert [f.frame_index for f in frames] == list(range(frames[0].frame_index, frames[0].frame_index + 10))
        time.sleep(0.3)
        late = source.read()
    assert late.frame_index >= frames[-1].frame_index + 8
    assert late.timestamp_s == pytest.approx(late.frame_index / 30.0)


def test_without_photos_it_shows_a_test_pattern_not_black(caplog):
    with caplog.at_level(logging.WARNING):
        source = SampleSource(duration_s=0.1, photos=[], resolution_wh=(160, 90))
        frame = source.read()
    assert frame.image.std() > 20
    assert any("test pattern" in r.getMessage() for r in caplog.records)
