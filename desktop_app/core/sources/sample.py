"""The built-in sample: a slow pan and zoom (Ken Burns) over real photographs, so there is always a source.

The photos are the ones that ship inside the installed Ultralytics package (`bus.jpg`, `zidane.jpg`). They are
found with `importlib.util.find_spec`, without importing Ultralytics, because importing it writes settings files.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from desktop_app.core.errors import SourceError
from desktop_app.core.frames import Frame
from desktop_app.core.sources.base import FrameSource, clamp_index
from desktop_app.core.sources.images import read_image

log = logging.getLogger(__name__)

DEFAULT_SAMPLE_RESOLUTION_WH = (1280, 720)
DEFAULT_SAMPLE_FPS = 30.0
# The largest zoom of the slow push-in; small enough that people and vehicles stay whole in the frame.
_MAX_ZOOM = 1.35


def sample_photo_paths() -> list[Path]:
    """The photographs in `ultralytics/assets` (sorted), or [] when Ultralytics is not installed."""
    try:
        spec = importlib.util.find_spec("ultralytics")
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    for location in spec.submodule_search_locations:
        assets = Path(location) / "assets"
        photos = sorted(p for p in assets.glob("*.jpg") if p.is_file())
        if photos:
            return photos
    return []


@dataclass(frozen=True, slots=True)
class _Shot:
    """One photo's camera move: zoom and normalised crop centre at the start and the end of its slot."""

    zoom_start: float
    zoom_end: float
    centre_start: tuple[float, float]
    centre_end: tuple[float, float]


# Alternating push-in / pull-out moves that drift across the photo, chosen so consecutive photos differ.
_SHOTS = (
    _Shot(1.0, _MAX_ZOOM, (0.5, 0.5), (0.35, 0.4)),
    _Shot(_MAX_ZOOM, 1.05, (0.7, 0.45), (0.45, 0.55)),
    _Shot(1.05, 1.25, (0.3, 0.6), (0.65, 0.4)),
)


class SampleSource(FrameSource):
    """A smooth pan and zoom over real photos, crossfading from one to the next.

    Each frame is a pure function of its `frame_index` (see `render`). Without `duration_s` it is live: it
    paces itself at `fps` and, like a camera, skips ticks a slow reader missed. With `duration_s` it is a
    finite, seekable source that delivers every frame as fast as it is read (for headless processing).
    """

    def __init__(
        self,
        *,
        resolution_wh: tuple[int, int] = DEFAULT_SAMPLE_RESOLUTION_WH,
        fps: float = DEFAULT_SAMPLE_FPS,
        duration_s: float | None = None,
        photos: list[str | Path] | None = None,
        seconds_per_photo: float = 6.0,
        crossfade_s: float = 1.0,
    ) -> None:
        super().__init__("sample")
        width, height = (int(v) for v in resolution_wh)
        if width < 2 or height < 2:
            raise ValueError(f"resolution_wh must be at least 2x2, got {resolution_wh}")
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        if duration_s is not None and duration_s <= 0:
            raise ValueError(f"duration_s must be positive, got {duration_s}")
        if not 0 <= crossfade_s < seconds_per_photo:
            raise ValueError("crossfade_s must be in [0, seconds_per_photo)")
        self.resolution_wh = (width, height)
        self.fps = float(fps)
        self.duration_s = duration_s
        self.is_live = duration_s is None
        self.frame_count = max(1, round(duration_s * self.fps)) if duration_s is not None else None
        self.seconds_per_photo = float(seconds_per_photo)
        self.crossfade_s = float(crossfade_s)
        self._photo_paths = [Path(p) for p in photos] if photos is not None else None
        self._photos: list[np.ndarray] = []
        self._next_index = 0
        self._last_tick = -1
        self._clock_origin = 0.0

    @property
    def is_seekable(self) -> bool:
        return not self.is_live

    def _open(self) -> None:
        if not self._photos:
            self._photos = self._load_photos()
        self._next_index = 0
        self._last_tick = -1
        self._clock_origin = time.monotonic()

    def _load_photos(self) -> list[np.ndarray]:
        paths = self._photo_paths if self._photo_paths is not None else sample_photo_paths()
        photos = []
        for path in paths:
            try:
                photos.append(self._fit_for_output(read_image(path)))
            except SourceError as error:
                log.warning("Sample source: skipping photo %s (%s)", path, error)
        if not photos:
            log.warning("Sample source: no photos found (is Ultralytics installed?); showing a test pattern")
            photos.append(_test_pattern(self.resolution_wh))
        return photos

    def _fit_for_output(self, photo: np.ndarray) -> np.ndarray:
        # Pre-shrink large photos so that warping never down-samples by much (which would alias).
        height, width = photo.shape[:2]
        crop_w, _ = _largest_crop(width, height, self.resolution_wh)
        scale = self.resolution_wh[0] * _MAX_ZOOM / crop_w
        if scale < 1.0:
            size = (max(2, round(width * scale)), max(2, round(height * scale)))
            photo = cv2.resize(photo, size, interpolation=cv2.INTER_AREA)
        return photo

    def _read(self) -> Frame | None:
        if self.is_live:
            index = self._wait_for_next_tick()
        else:
            index = self._next_index
            if self.frame_count is not None and index >= self.frame_count:
                return None
            self._next_index += 1
        return Frame(self.render(index), index, index / self.fps)

    def _wait_for_next_tick(self) -> int:
        elapsed = time.monotonic() - self._clock_origin
        tick = max(self._last_tick + 1, int(elapsed * self.fps))
        delay = tick / self.fps - elapsed
        if delay > 0:
            time.sleep(delay)
        self._last_tick = tick
        return tick

    def _close(self) -> None:
        pass

    def seek(self, frame_index: int) -> None:
        if self.is_live:
            super().seek(frame_index)
        if not self._is_open:
            self.open()
        self._next_index = clamp_index(frame_index, self.frame_count)

    def render(self, frame_index: int) -> np.ndarray:
        """The frame at `frame_index`: (H, W, 3) BGR uint8, the same for the same index on every call."""
        if not self._photos:
            self._photos = self._load_photos()
        t = frame_index / self.fps
        count = len(self._photos)
        slot = int(t // self.seconds_per_photo)
        local_s = t - slot * self.seconds_per_photo
        current = self._render_photo(slot % count, slot, local_s)
        if local_s >= self.crossfade_s or slot == 0:
            return current
        # During the first seconds of a slot the previous photo is still finishing its move: blend them.
        previous = self._render_photo((slot - 1) % count, slot - 1, local_s + self.seconds_per_photo)
        weight = _smoothstep(local_s / self.crossfade_s) if self.crossfade_s > 0 else 1.0
        return cv2.addWeighted(current, weight, previous, 1.0 - weight, 0.0)

    def _render_photo(self, photo_index: int, slot: int, local_s: float) -> np.ndarray:
        photo = self._photos[photo_index]
        shot = _SHOTS[slot % len(_SHOTS)]
        progress = _smoothstep(local_s / (self.seconds_per_photo + self.crossfade_s))
        zoom = _lerp(shot.zoom_start, shot.zoom_end, progress)
        centre_x = _lerp(shot.centre_start[0], shot.centre_end[0], progress)
        centre_y = _lerp(shot.centre_start[1], shot.centre_end[1], progress)
        out_w, out_h = self.resolution_wh
        height, width = photo.shape[:2]
        crop_w, crop_h = _largest_crop(width, height, self.resolution_wh)
        crop_w, crop_h = crop_w / zoom, crop_h / zoom
        # The centre moves within the range that keeps the whole crop inside the photo.
        left = (width - crop_w) * centre_x
        top = (height - crop_h) * centre_y
        scale = out_w / crop_w
        matrix = np.array([[scale, 0.0, -left * scale], [0.0, scale, -top * scale]], dtype=np.float64)
        return cv2.warpAffine(photo, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _largest_crop(width: int, height: int, resolution_wh: tuple[int, int]) -> tuple[float, float]:
    """The largest crop of a width x height photo with the output's aspect ratio."""
    aspect = resolution_wh[0] / resolution_wh[1]
    if width / height > aspect:
        return height * aspect, float(height)
    return float(width), width / aspect


def _smoothstep(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3.0 - 2.0 * x)


def _lerp(a: float, b: float, t: float) -> float:
    return a + (b - a) * t


def _test_pattern(resolution_wh: tuple[int, int]) -> np.ndarray:
    """A colourful gradient with circles, used only when no photo can be found."""
    width, height = max(resolution_wh[0], 64), max(resolution_wh[1], 64)
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :].repeat(height, 0)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None].repeat(width, 1)
    image = np.dstack([x, y, 255 - x]).astype(np.uint8)
    for k in range(5):
        centre = (int(width * (k + 1) / 6), int(height / 2 + height / 4 * math.sin(k)))
        cv2.circle(image, centre, max(4, height // 8), (255, 255, 255), thickness=max(2, height // 120))
    return image
