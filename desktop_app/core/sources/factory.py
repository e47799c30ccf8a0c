"""`open_source`: turn what the user typed or dropped (a spec) into an opened `FrameSource`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from desktop_app.core.errors import SourceError
from desktop_app.core.sources.base import FrameSource
from desktop_app.core.sources.camera import CameraSource
from desktop_app.core.sources.files import FolderSource, ImageSource
from desktop_app.core.sources.images import is_image_path
from desktop_app.core.sources.sample import SampleSource
from desktop_app.core.sources.stream import StreamSource
from desktop_app.core.sources.video import VideoFileSource

SAMPLE_SPEC = "sample"

_CAMERA_SPEC = re.compile(r"(?:camera|cam)(?::(?P<prefixed>.*))?|(?P<bare>\d+)", re.IGNORECASE)
_URL_SPEC = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def create_source(spec: str, **options: Any) -> FrameSource:
    """The unopened source `spec` names; `options` go to its constructor. Raises `SourceError` for a bad spec.

    Specs: `sample`; `camera:N`, `camera` or a bare integer; an `rtsp://`, `http(s)://`… URL; a folder; an
    image file; any other file is tried as a video.
    """
    text = spec.strip() if isinstance(spec, str) else str(spec)
    if not text:
        raise SourceError("No source given: use 'sample', a camera number, a file, a folder or a URL")
    if text.lower() == SAMPLE_SPEC:
        return SampleSource(**options)
    camera = _CAMERA_SPEC.fullmatch(text)
    if camera:
        return CameraSource(_camera_index(text, camera), **options)
    if _URL_SPEC.match(text):
        if text.lower().startswith("file://"):
            return create_source(text[len("file://"):], **options)
        return StreamSource(text, **options)
    path = Path(text).expanduser()
    if path.is_dir():
        return FolderSource(path, **options)
    if not path.exists():
        raise SourceError(f"Cannot open '{text}': no such file or folder")
    if is_image_path(path):
        return ImageSource(path, **options)
    return VideoFileSource(path, **options)


def open_source(spec: str, **options: Any) -> FrameSource:
    """`create_source(spec, **options)`, opened: a camera that does not exist or a file that is not a video
    fails here, with a `SourceError` naming the source and the reason."""
    source = create_source(spec, **options)
    try:
        source.open()
    except SourceError:
        raise
    except Exception as error:  # an unexpected library error still becomes a message the user can read
        raise SourceError(f"Cannot open {source.name}: {error}") from error
    return source


def _camera_index(text: str, match: re.Match[str]) -> int:
    raw = match.group("bare") if match.group("bare") is not None else (match.group("prefixed") or "0")
    raw = raw.strip()
    if not raw.isdigit():
        raise SourceError(f"'{text}': the camera number must be a whole number like camera:0, got '{raw}'")
    return int(raw)
