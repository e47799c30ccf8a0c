"""Frame sources: cameras, video files, images, folders, network streams and the built-in sample.

`open_source(spec)` opens any of them; `CaptureThread` reads one on its own thread into a one-slot mailbox.
"""

from desktop_app.core.env import settle_opencv_threads
from desktop_app.core.sources.base import FrameSource
from desktop_app.core.sources.camera import COMMON_FPS, COMMON_RESOLUTIONS_WH, CameraInfo, CameraSource, list_cameras
from desktop_app.core.sources.capture import FRESH_FRAME_PATIENCE, CaptureState, CaptureThread, LatestFrameMailbox
from desktop_app.core.sources.factory import SAMPLE_SPEC, create_source, open_source
from desktop_app.core.sources.files import FolderSource, ImageSource
from desktop_app.core.sources.images import IMAGE_EXTENSIONS, read_image, to_bgr_uint8
from desktop_app.core.sources.prefetch import PrefetchingReader
from desktop_app.core.sources.sample import SampleSource, sample_photo_paths
from desktop_app.core.sources.stream import STREAM_SCHEMES, StreamSource, redact_url
from desktop_app.core.sources.video import VideoFileSource

# Every thread that runs OpenCV is started through this package: settle OpenCV's thread pool first.
settle_opencv_threads()

__all__ = [
    "COMMON_FPS",
    "FRESH_FRAME_PATIENCE",
    "COMMON_RESOLUTIONS_WH",
    "IMAGE_EXTENSIONS",
    "SAMPLE_SPEC",
    "STREAM_SCHEMES",
    "CameraInfo",
    "CameraSource",
    "CaptureState",
    "CaptureThread",
    "FolderSource",
    "FrameSource",
    "ImageSource",
    "LatestFrameMailbox",
    "PrefetchingReader",
    "SampleSource",
    "StreamSource",
    "VideoFileSource",
    "create_source",
    "list_cameras",
    "open_source",
    "read_image",
    "redact_url",
    "sample_photo_paths",
    "to_bgr_uint8",
]
