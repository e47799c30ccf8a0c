"""No frame, statistic or font request leaves the machine while CNN Lens works headless."""

import pytest

from desktop_app.cli import main
from tests.network_guard import NetworkGuard


@pytest.mark.slow
def test_headless_processing_with_several_models_makes_no_network_request(tmp_path, monkeypatch):
    monkeypatch.delenv("CNNLENS_OFFLINE", raising=False)  # the app's own behaviour, not the test switch
    guard = NetworkGuard(monkeypatch)
    out = tmp_path / "out.mp4"
    code = main(["process", "sample", "--duration", "0.5", "--imgsz", "160", "--out", str(out),
                 "--pane", "pose:yolo11n-pose", "--pane", "classify:efficientnet-lite0",
                 "--pane", "segment:yolo11n-seg.yaml", "--pane", "detect:yolo11n.yaml"])
    assert code == 0
    assert out.stat().st_size > 0
    assert guard.leaks() == []


def test_the_guard_catches_an_outgoing_connection(monkeypatch):
    import socket

    guard = NetworkGuard(monkeypatch)
    with pytest.raises(OSError):
        socket.create_connection(("example.com", 80), timeout=1)
    with pytest.raises(OSError):
        socket.create_connection(("93.184.216.34", 80), timeout=1)
    assert guard.leaks() == ["example.com", ("93.184.216.34", 80)]
