"""Network streams: URL checks, redaction, and a real loopback MJPEG stream that stops and comes back."""

from __future__ import annotations

import http.server
import socketserver
import threading
import time

import cv2
import numpy as np
import pytest

from desktop_app.core.errors import SourceError
from desktop_app.core.sources import CaptureState, CaptureThread, StreamSource, redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [("rtsp://admin:secret@10.0.0.5/live", "rtsp://***@10.0.0.5/live"),
     ("http://cam.local/mjpg", "http://cam.local/mjpg")],
)
def test_credentials_never_appear_in_the_name(url, shown):
    assert redact_url(url) == shown
    assert StreamSource(url).name == shown


def test_errors_do_not_leak_the_password():
    with pytest.raises(SourceError) as caught:
        StreamSource("ftp://user:hunter2@host/x")
    assert "hunter2" not in str(caught.value)


class _MjpegServer:
    """A tiny MJPEG-over-HTTP camera on loopback that can be switched off and on again on the same port."""

    def __init__(self) -> None:
        self.streaming = threading.Event()
        self.streaming.set()
        self.port = 0
        self._server: socketserver.TCPServer | None = None

    def start(self) -> None:
        streaming = self.streaming

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                level = 0
                while streaming.is_set():
                    ok, jpeg = cv2.imencode(".jpg", np.full((48, 64, 3), level % 256, np.uint8))
                    header = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(jpeg)
                    try:
                        self.wfile.write(header + jpeg.tobytes() + b"\r\n")
                    except OSError:
                        return
                    level += 8
                    time.sleep(0.02)

            def log_message(self, *args: object) -> None:
                pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.streaming.set()
        self._server = Server(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.streaming.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.mjpg"


@pytest.fixture
def mjpeg_server():
    server = _MjpegServer()
    server.start()
    yield server
    server.stop()


def test_reads_frames_from_a_loopback_stream(mjpeg_server):
    with StreamSource(mjpeg_server.url, open_timeout_s=5) as source:
        frames = [source.read() for _ in range(3)]
    assert source.is_live
    assert [f.frame_index for f in frames] == [0, 1, 2]
    assert frames[0].image.shape == (48, 64, 3)
    assert frames[0].timestamp_s <= frames[1].timestamp_s <= frames[2].timestamp_s


def test_stream_that_stops_and_restarts_is_reconnected(mjpeg_server):
    source = StreamSource(mjpeg_server.url, open_timeout_s=2, read_timeout_s=2)
    capture = CaptureThread(source, min_backoff_s=0.1, max_backoff_s=0.3).start()
    try:
        assert capture.wait_for_frame(timeout=10) is not None
        mjpeg_server.stop()
        _wait_until(lambda: capture.state is CaptureState.RECONNECTING, 10)
        assert capture.error is not None
        mjpeg_server.start()
        last = capture.latest().frame_index
        assert capture.wait_for_frame(newer_than=last, timeout=10) is not None
        assert capture.state is CaptureState.RUNNING and capture.reconnects >= 1
    finally:
        assert capture.stop(timeout=5)


def test_nobody_listening_fails_fast_with_the_url():
    with pytest.raises(SourceError, match="127.0.0.1:9") as caught:
        StreamSource("http://127.0.0.1:9/none", open_timeout_s=2).open()
    assert "Cannot open stream" in str(caught.value)


def _wait_until(predicate, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)
