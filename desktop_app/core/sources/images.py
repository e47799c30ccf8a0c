"""Reading image files into BGR uint8 arrays, whatever their depth, channels or path characters."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from desktop_app.core.errors import SourceError

# Extensions a folder source treats as images; anything else in the folder is ignored silently.
IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".dib", ".tif", ".tiff", ".webp", ".pbm", ".pgm", ".ppm", ".pnm",
     ".jp2", ".sr", ".ras", ".exr", ".hdr", ".pic", ".avif"}
)

log = logging.getLogger(__name__)

# Larger images are scaled down on reading: models see at most a few hundred pixels anyway, and full-size
# masks, overlays and copies of a 100-megapixel frame would cost seconds and gigabytes per frame.
MAX_IMAGE_SIDE = 4096

# JPEG is the format that carries EXIF orientation; OpenCV honours it only in IMREAD_COLOR mode.
_JPEG_MAGIC = b"\xff\xd8\xff"


def is_image_path(path: Path) -> bool:
    """True when the file name has an image extension (the content is not checked)."""
    return path.suffix.lower() in IMAGE_EXTENSIONS


def read_image(path: str | Path) -> np.ndarray:
    """Decode an image file into (H, W, 3) BGR uint8, C-contiguous.

    Reads through `np.fromfile` so non-ASCII paths work on every OS. Grayscale, 16-bit, float and
    RGBA images are converted. Raises `SourceError` for a missing, unreadable or non-image file.
    """
    path = Path(path)
    if not path.exists():
        raise SourceError(f"Cannot open '{path}': the file does not exist")
    if path.is_dir():
        raise SourceError(f"Cannot open '{path}' as an image: it is a folder")
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as error:
        raise SourceError(f"Cannot read '{path}': {error.strerror or error}") from error
    if data.size == 0:
        raise SourceError(f"'{path}' is not an image: the file is empty")
    flags = cv2.IMREAD_COLOR if data[:3].tobytes() == _JPEG_MAGIC else cv2.IMREAD_UNCHANGED
    try:
        image = cv2.imdecode(data, flags)
    except cv2.error as error:
        raise SourceError(f"'{path}' is not an image OpenCV can decode ({error.err or error})") from error
    if image is None:
        raise SourceError(f"'{path}' is not an image OpenCV can decode (unknown or corrupt format)")
    return limit_size(to_bgr_uint8(image), str(path))


def limit_size(image: np.ndarray, name: str, max_side: int = MAX_IMAGE_SIDE) -> np.ndarray:
    """`image` scaled down (aspect kept) so that its longest side is at most `max_side`; logged when it is."""
    h, w = image.shape[:2]
    if max(h, w) <= max_side:
        return image
    scale = max_side / max(h, w)
    size_wh = (max(1, round(w * scale)), max(1, round(h * scale)))
    log.warning("%s is %dx%d; scaled down to %dx%d", name, w, h, *size_wh)
    return cv2.resize(image, size_wh, interpolation=cv2.INTER_AREA)


def to_bgr_uint8(image: np.ndarray) -> np.ndarray:
    """Convert a decoded image of any depth and 1, 2, 3 or 4 channels to (H, W, 3) BGR uint8.

    Transparent pixels are composited over white, as image viewers show them on a light page.
    """
    image = _to_uint8(image)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.ndim == 3 and image.shape[2] == 1:
        image = cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR)
    elif image.ndim == 3 and image.shape[2] == 2:
        image = _composite_over_white(cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR), image[:, :, 1])
    elif image.ndim == 3 and image.shape[2] == 4:
        image = _composite_over_white(image[:, :, :3], image[:, :, 3])
    elif not (image.ndim == 3 and image.shape[2] == 3):
        raise SourceError(f"Unsupported image layout with shape {image.shape}")
    return np.ascontiguousarray(image)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        # 65535 / 257 = 255 exactly, so full white stays full white.
        return (image // 257).astype(np.uint8)
    if image.dtype == np.int8:
        return (image.astype(np.int16) + 128).astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        finite = np.nan_to_num(image.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
        # HDR/EXR data is nominally in [0, 1]; values above are highlights, clipped like a camera would.
        scale = 255.0 if float(finite.max(initial=0.0)) <= 1.0 else 1.0
        return np.clip(finite * scale, 0, 255).astype(np.uint8)
    info = np.iinfo(image.dtype)
    shifted = image.astype(np.float64) - info.min
    return np.clip(shifted * (255.0 / (info.max - info.min)), 0, 255).astype(np.uint8)


def _composite_over_white(bgr: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    weight = alpha.astype(np.float32)[:, :, None] / 255.0
    blended = bgr.astype(np.float32) * weight + 255.0 * (1.0 - weight)
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)
