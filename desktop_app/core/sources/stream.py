"""Network streams (RTSP, RTMP, HTTP MJPEG/HLS/files…) through OpenCV's FFmpeg backend."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import cv2

from desktop_app.core.errors import SourceError
from desktop_app.core.sources.opencv_capture import OpenCVLiveSource

#: URL schemes `open_source` hands to `StreamSource`.
STREAM_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "tcp", "srt"})

DEFAULT_OPEN_TIMEOUT_S = 10.0
DEFAULT_READ_TIMEOUT_S = 10.0


def redact_url(url: str) -> str:
    """The URL with any `user:password@` replaced, safe to show and log."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@", r"\1***@", url)


def validate_stream_url(url: str) -> str:
    """Return `url` if it is a stream URL with a known scheme and a host, else raise `SourceError`."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as error:
        raise SourceError(f"'{redact_url(url)}' is not a valid URL ({error})") from error
    scheme = parts.scheme.lower()
    if scheme not in STREAM_SCHEMES:
        known = ", ".join(sorted(STREAM_SCHEMES))
        raise SourceError(f"'{redact_url(url)}': unknown URL scheme '{scheme}' (supported: {known})")
    if not parts.hostname:
        raise SourceError(f"'{redact_url(url)}' is not a valid stream URL: it has no host")
    return url


class StreamSource(OpenCVLiveSource):
    """A network stream. Opening and each read give up after their timeouts instead of hanging the thread."""

    def __init__(
        self,
        url: str,
        *,
        open_timeout_s: float = DEFAULT_OPEN_TIMEOUT_S,
        read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
    ) -> None:
        super().__init__(redact_url(validate_stream_url(url)))
        self.url = url
        self.open_timeout_s = open_timeout_s
        self.read_timeout_s = read_timeout_s

    def _create_capture(self) -> cv2.VideoCapture:
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(self.open_timeout_s * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.read_timeout_s * 1000),
        ]
        try:
            capture = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)
        except cv2.error as error:
            raise SourceError(f"Cannot open stream {self.name}: {error.err or error}") from error
        if not capture.isOpened():
            capture.release()
            raise SourceError(
                f"Cannot open stream {self.name}: no answer within {self.open_timeout_s:g} s, "
                "or the server refused it or sent no video"
            )
        return capture
