import dataclasses
import hashlib
import http.server
import threading
from functools import partial

import pytest

from desktop_app.core.errors import ModelUnavailableError
from desktop_app.core.models import catalog, download


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        if self.path == "/truncated.pt":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"only a little")
            return
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    """A loopback HTTP server serving files from a folder: a stand-in for the release servers."""
    root = tmp_path / "served"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_streams_with_progress_and_renames_when_complete(server, tmp_path):
    root, url = server
    payload = bytes(range(256)) * 12_000  # ~3 MB: several chunks
    (root / "yolo11s.pt").write_bytes(payload)
    calls = []
    target = tmp_path / "models" / "yolo11s.pt"
    assert download.download_file(f"{url}/yolo11s.pt", target, lambda d, t: calls.append((d, t))) == target
    assert target.read_bytes() == payload
    assert not target.with_name("yolo11s.pt.part").exists()
    assert calls[0] == (0, len(payload)) and calls[-1] == (len(payload), len(payload))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and len(calls) >= 4


def test_existing_file_is_not_downloaded_again(tmp_path):
    target = tmp_path / "here.pt"
    target.write_bytes(b"kept")
    assert download.download_file("http://127.0.0.1:9/never", target) == target
    assert target.read_bytes() == b"kept"


@pytest.mark.parametrize("name, message", [
    ("absent.pt", "could not download absent.pt"),
    ("truncated.pt", "could not download truncated.pt"),
])
def test_failed_download_leaves_nothing_behind(server, tmp_path, name, message):
    _, url = server
    target = tmp_path / "dl" / name
    with pytest.raises(ModelUnavailableError, match=message) as info:
        download.download_file(f"{url}/{name}", target)
    assert f"Copy {name} into {target.parent}" in str(info.value)
    assert list(target.parent.iterdir()) == []


def test_checksum_mismatch_is_rejected(server, tmp_path):
    root, url = server
    (root / "resnet18-deadbeef.pth").write_bytes(b"not the real weights")
    target = tmp_path / "resnet18-deadbeef.pth"
    with pytest.raises(ModelUnavailableError, match="published checksum"):
        download.download_file(f"{url}/resnet18-deadbeef.pth", target, sha256_prefix="deadbeef")
    assert not target.exists() and not target.with_name(target.name + ".part").exists()


def test_offline_download_of_a_catalog_model_says_how_to_add_it(private_models_dir):
    entry = catalog.find("resnet18")
    with pytest.raises(ModelUnavailableError) as info:
        download.download_entry(entry)
    assert f"copy resnet18-f37072fd.pth into {private_models_dir}" in str(info.value)


def test_catalog_download_lands_in_the_models_folder_with_its_checksum_checked(
        server, private_models_dir, monkeypatch):
    root, url = server
    payload = b"torchvision-style weights" * 1000
    name = f"tiny-{hashlib.sha256(payload).hexdigest()[:8]}.pth"
    (root / name).write_bytes(payload)
    entry = dataclasses.replace(catalog.find("resnet18"), filename=name, url=f"{url}/{name}")
    monkeypatch.setattr(catalog, "is_online", lambda: True)
    path = download.download_entry(entry, progress=lambda d, t: None)
    assert path == private_models_dir / name and path.read_bytes() == payload
    assert catalog.status(entry).state == catalog.ModelState.AVAILABLE
