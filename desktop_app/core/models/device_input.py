"""Frames onto the accelerator: pinned host buffers, non-blocking copies, and the letterbox done on the device.

Ultralytics prepares each frame on the CPU: resize and pad with OpenCV, then a copy from pageable memory, which
CUDA must stage through a pinned buffer of its own and which blocks the calling thread. On a GPU this module
does the same work the other way round: the raw BGR frame is copied once into a page-locked buffer that is reused
frame after frame, sent with a non-blocking copy, and resized, padded, reordered to RGB and scaled on the device.
The CPU's only per-frame work is one memcpy.

The geometry (scale, padding) is Ultralytics' own: the padded shape is what its `pre_transform` produced for a
frame of that size, and the offsets are what its `scale_boxes` assumes, so boxes, masks and keypoints map back to
the frame exactly as they do on its CPU path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

PAD_VALUE = 114  # Ultralytics' letterbox grey


@dataclass(frozen=True, slots=True)
class Letterbox:
    """Where a frame of `source_hw` lands in a padded model input of `padded_hw`."""

    source_hw: tuple[int, int]
    padded_hw: tuple[int, int]
    resized_hw: tuple[int, int]
    top: int
    left: int

    @classmethod
    def fit(cls, source_hw: tuple[int, int], padded_hw: tuple[int, int]) -> Letterbox:
        """The centred, aspect-preserving fit that Ultralytics' `scale_boxes` inverts for these two shapes."""
        h0, w0 = source_hw
        h1, w1 = padded_hw
        gain = min(h1 / h0, w1 / w0)
        resized_hw = (max(round(h0 * gain), 1), max(round(w0 * gain), 1))
        top = round((h1 - resized_hw[0]) / 2 - 0.1)
        left = round((w1 - resized_hw[1]) / 2 - 0.1)
        return cls(tuple(source_hw), tuple(padded_hw), resized_hw, max(top, 0), max(left, 0))

    @property
    def bottom(self) -> int:
        return self.padded_hw[0] - self.resized_hw[0] - self.top

    @property
    def right(self) -> int:
        return self.padded_hw[1] - self.resized_hw[1] - self.left


def letterbox_on_device(image: torch.Tensor, box: Letterbox, dtype: torch.dtype) -> torch.Tensor:
    """A (H, W, 3) uint8 BGR tensor as the model's (1, 3, h, w) RGB input in [0, 1], on the tensor's device.

    Bilinear resampling with half-pixel centres, as OpenCV's `INTER_LINEAR`; padding with Ultralytics' grey.
    """
    x = image.permute(2, 0, 1).unsqueeze(0).flip(1).to(dtype)  # BHWC uint8 BGR -> BCHW float RGB
    if tuple(x.shape[-2:]) != box.resized_hw:
        x = F.interpolate(x, size=box.resized_hw, mode="bilinear", align_corners=False, antialias=False)
    if box.padded_hw != box.resized_hw:
        x = F.pad(x, (box.left, box.right, box.top, box.bottom), value=float(PAD_VALUE))
    return x.div_(255.0).contiguous()


class PinnedUploader:
    """Copies frames to a CUDA device through a small ring of page-locked buffers, without blocking.

    A buffer is written again only after the copy that last read it has finished (a CUDA event per slot), so a
    frame in flight is never overwritten. Frames of a new size get new buffers.
    """

    def __init__(self, device: str | torch.device, slots: int = 2) -> None:
        self.device = torch.device(device)
        if self.device.type != "cuda":
            raise ValueError("pinned uploads are for CUDA devices")
        self._slots = slots
        self._buffers: list[torch.Tensor] = []
        self._events: list[torch.cuda.Event | None] = []
        self._next = 0

    def _ensure(self, shape: tuple[int, ...]) -> None:
        if self._buffers and tuple(self._buffers[0].shape) == shape:
            return
        for event in self._events:
            if event is not None:
                event.synchronize()
        self._buffers = [torch.empty(shape, dtype=torch.uint8).pin_memory() for _ in range(self._slots)]
        self._events = [None] * self._slots
        self._next = 0

    def __call__(self, image: np.ndarray) -> torch.Tensor:
        """The frame on the device; the copy is queued on the current stream and may still be running."""
        self._ensure(tuple(image.shape))
        slot = self._next
        self._next = (slot + 1) % self._slots
        event = self._events[slot]
        if event is not None:
            event.synchronize()  # the copy that last read this buffer is done
        buffer = self._buffers[slot]
        np.copyto(buffer.numpy(), image, casting="no")
        on_device = buffer.to(self.device, non_blocking=True)
        event = torch.cuda.Event()
        event.record()
        self._events[slot] = event
        return on_device

    def close(self) -> None:
        """Wait for copies in flight and release the page-locked memory."""
        for event in self._events:
            if event is not None:
                event.synchronize()
        self._buffers, self._events = [], []


class DevicePreprocessor:
    """Ultralytics' preprocessing for one predictor, done on the device the model runs on.

    `padded_shape(image)` must return the (h, w) Ultralytics' own letterbox gives a frame like `image` (its
    `pre_transform`); it is asked once per frame size and image size. On CUDA, frames go through
    `PinnedUploader`; elsewhere (tests, CPU) through `torch.from_numpy` without a copy.
    """

    def __init__(self, device: str | torch.device, half: bool,
                 padded_shape: Callable[[np.ndarray], tuple[int, int]]) -> None:
        self.device = torch.device(device)
        self.dtype = torch.float16 if half else torch.float32
        self._padded_shape = padded_shape
        self._boxes: dict[tuple[Any, ...], Letterbox] = {}
        self._upload = PinnedUploader(self.device) if self.device.type == "cuda" else None

    def letterbox(self, image: np.ndarray, key: Any = None) -> Letterbox:
        """The fit for a frame of this size (cached per frame size and `key`, e.g. the image size asked for)."""
        cache_key = (image.shape[:2], key)
        box = self._boxes.get(cache_key)
        if box is None:
            box = Letterbox.fit(image.shape[:2], tuple(int(v) for v in self._padded_shape(image)))
            self._boxes[cache_key] = box
        return box

    def __call__(self, image: np.ndarray, key: Any = None) -> torch.Tensor:
        """The (1, 3, h, w) model input for one BGR uint8 frame."""
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) uint8 BGR frame, got {image.dtype} {image.shape}")
        box = self.letterbox(image, key)
        if self._upload is not None:
            tensor = self._upload(image)
        else:
            tensor = torch.from_numpy(np.ascontiguousarray(image)).to(self.device)
        return letterbox_on_device(tensor, box, self.dtype)

    def close(self) -> None:
        if self._upload is not None:
            self._upload.close()
