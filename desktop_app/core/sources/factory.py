"""`open_source`: turn what the user typed or dropped (a spec) into an opened `FrameSource`."""

from __future__ import annotations

import inspect
import logging
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

log = logging.getLogger(__name__)

SAMPLE_SPEC = "sample"
_SOURCE_TYPES = (SampleSource, CameraSource, StreamSource, FolderSource, ImageSource, VideoFileSource)

_CAMERA_SPEC = re.compile(r"(?:camera|cam)(?::(?P<prefixed>.*))?|(?P<bare>\d+)", re.IGNORECASE)
_URL_SPEC = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def create_source(spec: str, **options: Any) -> FrameSource:
    """The unopened source `spec` names. Raises `SourceError` for a bad spec.

    Specs: `sample`; `camera:N`, `camera` or a bare integer; an `rtsp://`, `http(s)://`… URL; a folder; an
    image file; any other file is tried as a video. `options` go to the constructor of the source type the
    spec selects; options that only apply to other types (e.g. `duration_s` for a video file) are ignored, so
    a front end can pass the same options whatever the user picked.
    """
    source_type, argument = _resolve(spec)
    accepted = _accepted_options(source_type, options)
    return source_type(**accepted) if argument is None else source_type(argument, **accepted)


def _resolve(spec: str) -> tuple[type[FrameSource], Any]:
    text = spec.strip() if isinstance(spec, str) else str(spec)
    if not text:
        raise SourceError("No source given: use 'sample', a camera number, a file, a folder or a URL")
    if text.lower() == SAMPLE_SPEC:
        return SampleSource, None
    camera = _CAMERA_SPEC.fullmatch(text)
    if camera:
        return CameraSource, _camera_index(text, camera)
    if _URL_SPEC.match(text):
        if text.lower().startswith("file://"):
            return _resolve(text[len("file://"):])
        return StreamSource, text
    path = Path(text).expanduser()
    if path.is_dir():
        return FolderSource, path
    if not path.exists():
        raise SourceError(f"Cannot open '{text}': no such file or folder")
    if is_image_path(path):
        return ImageSource, path
    return VideoFileSource, path


def _keyword_parameters(source_type: type[FrameSource]) -> set[str]:
    parameters = inspect.signature(source_type.__init__).parameters.values()
    return {p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}


def _accepted_options(source_type: type[FrameSource], options: dict[str, Any]) -> dict[str, Any]:
    accepted = _keyword_parameters(source_type)
    known = set().union(*(_keyword_parameters(t) for t in _SOURCE_TYPES))
    unknown = sorted(set(options) - known)
    if unknown:
        log.warning("Ignoring unknown source option(s) %s", ", ".join(unknown))
    return {key: value for key, value in options.items() if key in accepted}


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
