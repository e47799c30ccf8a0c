"""Video files: every frame, in order, with the container's presentation timestamps."""

from __future__ import annotations

import wave

import cv2
import numpy as np
import pytest
from source_media import decoded_level, level_frame, write_mjpeg_clip

from desktop_app.core.errors import SourceError
from desktop_app.core.recorder import Recorder
from desktop_app.core.sources import VideoFileSource


def test_reads_every_frame_in_order_with_timestamps(clip_path):
    with VideoFileSource(clip_path) as source:
        frames = list(source)
        assert source.fps == pytest.approx(25.0)
        assert source.frame_count == 10
        assert source.resolution_wh == (64, 48)
    assert [f.frame_index for f in frames] == list(range(10))
    assert [f.timestamp_s for f in frames] == pytest.approx([i / 25 for i in range(10)])
    assert [decoded_level(f.image) for f in frames] == pytest.approx([20 * i for i in range(10)], abs=3)


def test_variable_frame_rate_timestamps_survive_a_recorder_round_trip(tmp_path):
    # Capture times with jitter and a stall, as a live camera produces them.
    timestamps = [0.0, 0.033, 0.070, 0.100, 0.400, 0.433, 0.466, 1.0]
    path = tmp_path / "vfr.mp4"
    with Recorder(path, drop_when_busy=False) as recorder:
        for index, stamp in enumerate(timestamps):
            recorder.write(level_frame(30 * index, (64, 48)), stamp)
    with VideoFileSource(path) as source:
        frames = list(source)
    assert [f.timestamp_s for f in frames] == pytest.approx(timestamps, abs=1e-3)
    assert [decoded_level(f.image) for f in frames] == pytest.approx([30 * i for i in range(8)], abs=4)


@pytest.mark.parametrize("target", [0, 3, 7, 9])
def test_seek_lands_on_the_exact_frame(clip_path, target):
    with VideoFileSource(clip_path) as source:
        source.read()
        source.read()
        source.seek(target)
        frame = source.read()
    assert frame.frame_index == target
    assert frame.timestamp_s == pytest.approx(target / 25)
    assert decoded_level(frame.image) == pytest.approx(20 * target, abs=3)


def test_rewind_after_the_end_plays_again(clip_path):
    with VideoFileSource(clip_path) as source:
        first_pass = [f.frame_index for f in source]
        source.rewind()
        second_pass = [f.frame_index for f in source]
    assert first_pass == second_pass == list(range(10))


def test_fragmented_file_cut_short_plays_what_it_has(tmp_path):
    path = tmp_path / "cut.mp4"
    with Recorder(path, drop_when_busy=False, keyframe_interval_s=0.5) as recorder:
        for index in range(60):
            recorder.write(np.random.default_rng(index).integers(0, 255, (48, 64, 3), np.uint8), index / 30)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])
    with VideoFileSource(path) as source:
        frames = list(source)
    assert 10 <= len(frames) < 60
    assert [f.frame_index for f in frames] == list(range(len(frames)))


def test_file_cut_before_its_index_is_refused_clearly(tmp_path):
    path = tmp_path / "broken.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 25, (64, 48))
    for index in range(20):
        writer.write(level_frame(index * 10))
    writer.release()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # the index (moov) sits at the end and is gone
    with pytest.raises(SourceError, match="broken.mp4"):
        VideoFileSource(path).open()


@pytest.mark.parametrize("name", ["notes.mp4", "notes.mkv"])
def test_text_file_renamed_to_video_is_refused(tmp_path, name):
    path = tmp_path / name
    path.write_text("definitely not a video\n" * 20)
    with pytest.raises(SourceError, match="is not a video") as caught:
        VideoFileSource(path).open()
    assert name in str(caught.value)


def test_audio_only_file_is_not_a_video(tmp_path):
    path = tmp_path / "beep.wav"
    with wave.open(str(path), "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\x00\x10" * 8000)
    with pytest.raises(SourceError, match="no video stream"):
        VideoFileSource(path).open()


def test_missing_video_is_named(tmp_path):
    with pytest.raises(SourceError, match="does not exist") as caught:
        VideoFileSource(tmp_path / "gone.mp4").open()
    assert "gone.mp4" in str(caught.value)


def test_long_clip_reads_without_dropping(tmp_path):
    path = write_mjpeg_clip(tmp_path / "long.avi", 120, fps=30.0)
    with VideoFileSource(path) as source:
        indices = [f.frame_index for f in source]
    assert indices == list(range(120))


@pytest.mark.parametrize(("degrees", "corner_rc"), [(0, (0, 0)), (90, (-1, 0)), (-90, (0, -1)), (180, (-1, -1))])
def test_display_rotation_is_applied(tmp_path, degrees, corner_rc):
    import av
    from fractions import Fraction

    path = tmp_path / "phone.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.set_display_rotation(degrees)
        image = np.zeros((48, 64, 3), np.uint8)
        image[:12, :12] = 255  # a white mark in the stored picture's top-left corner
        for index in range(2):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = index, Fraction(1, 10)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with VideoFileSource(path) as source:
        upright = source.read().image
        turned = degrees % 180 != 0
        assert source.resolution_wh == ((48, 64) if turned else (64, 48))
    assert upright.shape[:2] == ((64, 48) if turned else (48, 64))
    row, col = corner_rc
    assert upright[row, col].mean() > 200, "the mark ends in the corner a player shows it in"
