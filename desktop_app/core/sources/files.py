"""Still-image sources: a single image and a folder of images."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from desktop_app.core.errors import SourceError
from desktop_app.core.frames import Frame
from desktop_app.core.sources.base import FrameSource, clamp_index
from desktop_app.core.sources.images import IMAGE_EXTENSIONS, is_image_path, read_image

log = logging.getLogger(__name__)

DEFAULT_IMAGE_REPEAT_FPS = 10.0
DEFAULT_FOLDER_FPS = 1.0


class ImageSource(FrameSource):
    """One image file. By default a single frame (for processing); with `repeat=True` the same image is
    delivered forever at `fps`, so the GUI can run a model on it continuously."""

    def __init__(self, path: str | Path, *, repeat: bool = False, fps: float = DEFAULT_IMAGE_REPEAT_FPS) -> None:
        super().__init__(Path(path).name)
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        self.repeat = repeat
        self.fps = float(fps) if repeat else None
        self.frame_count = None if repeat else 1
        self._image: np.ndarray | None = None
        self._next_index = 0

    @property
    def is_seekable(self) -> bool:
        return True

    def _open(self) -> None:
        self._image = read_image(self.path)
        height, width = self._image.shape[:2]
        self.resolution_wh = (width, height)
        self._next_index = 0

    def _read(self) -> Frame | None:
        assert self._image is not None
        index = self._next_index
        if index >= 1 and not self.repeat:
            return None
        self._next_index += 1
        timestamp_s = index / self.fps if self.fps else 0.0
        # A copy, so a consumer that draws in place cannot change what the next read returns.
        return Frame(self._image.copy(), index, timestamp_s)

    def _close(self) -> None:
        self._image = None

    def seek(self, frame_index: int) -> None:
        if not self._is_open:
            self.open()
        self._next_index = clamp_index(frame_index, self.frame_count)


class FolderSource(FrameSource):
    """The images of a folder in natural order (img2 before img10), at `fps` frames per second.

    Files without an image extension are ignored; image files that cannot be decoded are skipped with a
    logged warning. `frame_index` is the file's position in the folder, so a skipped file leaves a gap.
    """

    def __init__(self, path: str | Path, *, fps: float = DEFAULT_FOLDER_FPS) -> None:
        super().__init__(Path(path).name or str(path))
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        self.fps = float(fps)
        self.files: list[Path] = []
        self.skipped: list[Path] = []
        self._position = 0
        self._delivered = 0

    @property
    def is_seekable(self) -> bool:
        return True

    def _open(self) -> None:
        if not self.path.is_dir():
            raise SourceError(f"Cannot open folder '{self.path}': it does not exist or is not a folder")
        try:
            entries = list(self.path.iterdir())
        except OSError as error:
            raise SourceError(f"Cannot list folder '{self.path}': {error.strerror or error}") from error
        self.files = sorted((p for p in entries if p.is_file() and is_image_path(p)), key=natural_sort_key)
        if not self.files:
            known = ", ".join(sorted(IMAGE_EXTENSIONS)[:8])
            raise SourceError(f"Folder '{self.path}' contains no images (looked for {known}, …)")
        self.frame_count = len(self.files)
        self.skipped = []
        self._position = 0
        self._delivered = 0

    def _read(self) -> Frame | None:
        while self._position < len(self.files):
            index = self._position
            self._position += 1
            path = self.files[index]
            try:
                image = read_image(path)
            except SourceError as error:
                log.warning("Skipping %s: %s", path.name, error)
                self.skipped.append(path)
                continue
            self._delivered += 1
            return Frame(image, index, index / self.fps)
        if self._delivered == 0 and self.skipped:
            raise SourceError(f"None of the {len(self.files)} images in folder '{self.path}' could be read")
        return None

    def _close(self) -> None:
        pass

    def seek(self, frame_index: int) -> None:
        if not self._is_open:
            self.open()
        self._position = clamp_index(frame_index, len(self.files) or None)


def natural_sort_key(path: Path) -> list[object]:
    """Sort key that orders embedded numbers by value: frame2.png before frame10.png."""
    parts = re.split(r"(\d+)", path.name.casefold())
    return [int(part) if part.isdigit() else part for part in parts]
