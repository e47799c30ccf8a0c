"""Insight views from the headless command line: `--task features` and `--pane gradcam:...` write a video."""

import subprocess
import sys

import av
import pytest


def run_cli(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "desktop_app.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def frames_and_codec(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
        return frames, stream.codec_context.name


@pytest.mark.slow
@pytest.mark.parametrize("args", [
    ("--task", "features", "--model", "yolo11n-pose"),
    ("--pane", "gradcam:efficientnet-lite0"),
], ids=["features", "gradcam"])
def test_process_writes_an_insight_view_video(tmp_path, args):
    out = tmp_path / "view.mp4"
    result = run_cli("process", "sample", *args, "--imgsz", "320", "--max-frames", "5", "--out", str(out))
    assert result.returncode == 0, result.stderr
    frames, codec = frames_and_codec(out)
    assert len(frames) == 5 and codec == "h264"
    assert frames[0].shape[:2] == (720, 1280)
    assert frames[-1].std() > 20  # a drawn view, not a blank frame
    assert "5 frames" in result.stderr


def test_process_names_the_fix_for_a_view_on_an_exported_model(tmp_path):
    result = run_cli("process", "sample", "--pane", "features:yolo11n-pose@onnx", "--max-frames", "1",
                     "--out", str(tmp_path / "x.mp4"))
    assert result.returncode != 0
    assert "needs the PyTorch model" in result.stderr and "Traceback" not in result.stderr
