"""The headless command line, end to end on real frames and real models."""

import json
import subprocess
import sys

import av
import pytest

from desktop_app.cli import main


def run_cli(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "desktop_app.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def probe(path):
    """(frame count, duration in s, codec name) of a video, by decoding every frame."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = [frame.time for frame in container.decode(stream)]
        codec = stream.codec_context.name
    period = times[1] - times[0] if len(times) > 1 else 0.0
    return len(times), times[-1] + period, codec


def make_clip(path, frames=24, fps=12.0):
    """A short clip cut from the sample source, written with the project's recorder at `fps`."""
    from desktop_app.core.recorder import Recorder
    from desktop_app.core.sources import open_source

    with open_source("sample", duration_s=10) as source, Recorder(path, fps_hint=fps, drop_when_busy=False) as rec:
        for i in range(frames):
            frame = source.read()
            small = frame.image[::4, ::4].copy()
            rec.write(small, i / fps)
    return path


def test_models_lists_catalog_with_offline_status(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "yolo11n-pose" in out and "efficientnet-lite0" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "available" in rows["yolo11n-pose"]
    assert "models" in out  # how to add a missing model


@pytest.mark.slow
def test_process_clip_with_pose_keeps_every_frame_and_duration(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", frames=24, fps=12.0)
    in_frames, in_duration, _ = probe(clip)
    out = tmp_path / "out.mp4"
    result = run_cli("process", str(clip), "--task", "pose", "--model", "yolo11n-pose", "--imgsz", "320",
                     "--out", str(out))
    assert result.returncode == 0, result.stderr
    frames, duration, codec = probe(out)
    assert frames == in_frames == 24
    assert codec == "h264"
    assert duration == pytest.approx(in_duration, abs=0.1)
    assert "24 frames" in result.stderr


@pytest.mark.slow
def test_process_image_to_json_classify(tmp_path, ultralytics_assets):
    out = tmp_path / "top5.json"
    assert main(["process", str(ultralytics_assets / "bus.jpg"), "--task", "classify", "--model",
                 "efficientnet-lite0", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    top = data["panes"][0]["top"]
    assert len(top) == 5
    assert any(word in item["class_name"].lower() for item in top for word in ("bus", "trolley", "minibus"))


@pytest.mark.slow
def test_process_tiled_panes_with_untrained_yaml_models(tmp_path, ultralytics_assets):
    out = tmp_path / "tiled.json"
    video = tmp_path / "tiled.mp4"
    assert main(["process", str(ultralytics_assets / "zidane.jpg"), "--pane", "detect:yolo11n.yaml",
                 "--pane", "segment:yolo11n-seg.yaml", "--imgsz", "320", "--json", str(out),
                 "--out", str(video)]) == 0
    data = json.loads(out.read_text())
    assert [p["task"] for p in data["panes"]] == ["detect", "segment"]
    assert all("untrained" in p["pane"] for p in data["panes"])
    frames, _, codec = probe(video)
    assert frames == 1 and codec == "h264"


@pytest.mark.parametrize("args, message", [
    (["process", "no/such/file.mp4", "--task", "pose", "--model", "yolo11n-pose", "--out", "x.mp4"], "no/such"),
    (["process", "sample", "--task", "pose", "--model", "yolo11n-poze", "--out", "x.mp4"], "yolo11n-pose"),
    (["process", "sample", "--task", "posse", "--model", "yolo11n-pose", "--out", "x.mp4"], "pose"),
    (["process", "sample", "--task", "detect", "--model", "yolo11n-pose", "--out", "x.mp4"], "pose"),
    (["process", "sample", "--task", "detect", "--model", "yolo11s", "--out", "x.mp4"], "models"),
    (["process", "sample", "--pane", "pose", "--out", "x.mp4"], "TASK:MODEL"),
])
def test_user_errors_exit_non_zero_with_one_line_message(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli(*args, timeout=300)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cnnlens: error:") and message in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_process_through_a_cached_openvino_export(tmp_path, ultralytics_assets):
    out = tmp_path / "ov.json"
    args = ["process", str(ultralytics_assets / "zidane.jpg"), "--pane", "pose:yolo11n-pose@openvino",
            "--imgsz", "320", "--json", str(out)]
    assert main(args) == 0
    people = [o for o in json.loads(out.read_text())["panes"][0]["objects"] if o["class_name"] == "person"]
    assert len(people) >= 2  # the pretrained pose model still finds both people through OpenVINO
    assert json.loads(out.read_text())["panes"][0]["pane"] == "pose · yolo11n-pose · openvino"


def test_an_output_folder_that_does_not_exist_is_reported_before_any_model_loads(tmp_path, capsys):
    code = main(["process", "sample", "--task", "pose", "--model", "yolo11n-pose",
                 "--out", str(tmp_path / "missing" / "x.mp4")])
    assert code == 2
    assert "missing': the folder does not exist" in capsys.readouterr().err
