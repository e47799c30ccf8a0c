"""Frame → model-input preprocessing, and the geometry that maps model-input pixels back onto the frame.

The insight views need two things the model adapters keep private: a differentiable normalisation step (Grad-CAM,
FGSM) and the exact resize/letterbox geometry (receptive-field rectangles and heatmaps drawn over the frame).
`Preprocess` describes one model's input convention; `InputGeometry` is the affine map for one frame size.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import cv2
import numpy as np
import torch


class ResizeMode(str, Enum):
    """How a frame is fitted to the model's input size."""

    STRETCH = "stretch"  # resize to the input size, aspect ratio not kept (whole frame seen)
    LETTERBOX = "letterbox"  # keep aspect, pad the borders (Ultralytics detection models)
    CENTER_CROP = "center_crop"  # resize the shorter side, crop the centre (torchvision evaluation)


@dataclass(frozen=True, slots=True)
class InputGeometry:
    """Affine map between frame pixels and model-input pixels: `input = frame * scale + offset`.

    Coordinates are continuous pixel edges (pixel i spans [i, i+1)). `frame_wh` and `input_wh` are (width, height).
    """

    frame_wh: tuple[int, int]
    input_wh: tuple[int, int]
    scale_xy: tuple[float, float]
    offset_xy: tuple[float, float]

    def input_to_frame_xyxy(self, xyxy: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """A box in model-input pixels as a box in frame pixels, clipped to the frame."""
        (sx, sy), (ox, oy) = self.scale_xy, self.offset_xy
        w, h = self.frame_wh
        x0, y0, x1, y1 = xyxy
        return (
            float(np.clip((x0 - ox) / sx, 0, w)),
            float(np.clip((y0 - oy) / sy, 0, h)),
            float(np.clip((x1 - ox) / sx, 0, w)),
            float(np.clip((y1 - oy) / sy, 0, h)),
        )

    def frame_to_input_xy(self, xy: tuple[float, float]) -> tuple[float, float]:
        """A frame point in model-input pixels."""
        return (xy[0] * self.scale_xy[0] + self.offset_xy[0], xy[1] * self.scale_xy[1] + self.offset_xy[1])

    def heat_to_frame(self, heat: np.ndarray) -> np.ndarray:
        """Resample a map covering the whole model input, (h, w), onto the frame: (H, W) float32.

        Frame pixels that the model never saw (centre crop) get 0; letterbox padding is cut away.
        """
        heat = np.asarray(heat, dtype=np.float32)
        hh, hw = heat.shape
        (sx, sy), (ox, oy) = self.scale_xy, self.offset_xy
        in_w, in_h = self.input_wh
        # frame pixel centre x+0.5 -> input edge coordinate -> heat pixel-centre coordinate
        ax, ay = sx * hw / in_w, sy * hh / in_h
        bx = (0.5 * sx + ox) * hw / in_w - 0.5
        by = (0.5 * sy + oy) * hh / in_h - 0.5
        frame_to_heat = np.array([[ax, 0.0, bx], [0.0, ay, by]], dtype=np.float64)
        # replicate, so the map does not fade towards the edges of what the model saw...
        out = cv2.warpAffine(heat, frame_to_heat, self.frame_wh, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_REPLICATE)
        # ...and zero what it did not see (cropped away by a centre crop)
        fw, fh = self.frame_wh
        xs = (np.arange(fw) + 0.5) * sx + ox
        ys = (np.arange(fh) + 0.5) * sy + oy
        out[(ys < 0) | (ys >= in_h), :] = 0.0
        out[:, (xs < 0) | (xs >= in_w)] = 0.0
        return out


@dataclass(frozen=True, slots=True)
class Preprocess:
    """One model's input convention: size, resize mode, and per-channel RGB normalisation of [0, 1] pixels."""

    input_wh: tuple[int, int]
    mode: ResizeMode = ResizeMode.STRETCH
    mean_rgb: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std_rgb: tuple[float, float, float] = (1.0, 1.0, 1.0)
    pad_value: int = 114
    crop_fraction: float = 0.875
    area_when_shrinking: bool = False  # INTER_AREA for downscaling (torchvision's antialiasing); else linear
    interpolation: int = cv2.INTER_LINEAR  # the cv2 flag for any resize not done by area averaging

    def __post_init__(self) -> None:
        if min(self.input_wh) < 8:
            raise ValueError(f"input_wh must be at least 8x8 pixels, got {self.input_wh}")
        if any(s <= 0 for s in self.std_rgb):
            raise ValueError(f"std_rgb must be positive, got {self.std_rgb}")
        if not 0.0 < self.crop_fraction <= 1.0:
            raise ValueError(f"crop_fraction must be in (0, 1], got {self.crop_fraction}")

    def geometry(self, frame_wh: tuple[int, int]) -> InputGeometry:
        """The frame → input map for frames of this size."""
        fw, fh = frame_wh
        iw, ih = self.input_wh
        if self.mode is ResizeMode.STRETCH:
            return InputGeometry(frame_wh, self.input_wh, (iw / fw, ih / fh), (0.0, 0.0))
        if self.mode is ResizeMode.LETTERBOX:
            r = min(iw / fw, ih / fh)
            new_w, new_h = round(fw * r), round(fh * r)
            left, top = _letterbox_pad(iw - new_w), _letterbox_pad(ih - new_h)
            return InputGeometry(frame_wh, self.input_wh, (new_w / fw, new_h / fh), (float(left), float(top)))
        # centre crop: the shorter side becomes input/crop_fraction, then the centre input_wh is kept
        r = round(max(iw, ih) / self.crop_fraction) / min(fw, fh)  # a whole shorter side, as the adapters resize
        new_w, new_h = round(fw * r), round(fh * r)
        left, top = (new_w - iw) // 2, (new_h - ih) // 2
        return InputGeometry(frame_wh, self.input_wh, (new_w / fw, new_h / fh), (-float(left), -float(top)))

    def to_unit_rgb(self, image_bgr: np.ndarray) -> tuple[np.ndarray, InputGeometry]:
        """(input_h, input_w, 3) float32 RGB in [0, 1] as the model sees it, and the geometry used."""
        _check_image(image_bgr)
        fh, fw = image_bgr.shape[:2]
        geometry = self.geometry((fw, fh))
        iw, ih = self.input_wh
        (sx, sy), (ox, oy) = geometry.scale_xy, geometry.offset_xy
        new_w, new_h = round(fw * sx), round(fh * sy)
        area = self.area_when_shrinking and new_w < fw
        resized = cv2.resize(image_bgr, (new_w, new_h), interpolation=cv2.INTER_AREA if area else self.interpolation)
        if self.mode is ResizeMode.STRETCH:
            fitted = resized
        elif self.mode is ResizeMode.LETTERBOX:
            left, top = int(ox), int(oy)
            fitted = cv2.copyMakeBorder(
                resized, top, ih - new_h - top, left, iw - new_w - left,
                cv2.BORDER_CONSTANT, value=(self.pad_value,) * 3,
            )
        else:
            left, top = int(-ox), int(-oy)
            fitted = resized[top : top + ih, left : left + iw]
        rgb = cv2.cvtColor(fitted, cv2.COLOR_BGR2RGB)
        return rgb.astype(np.float32) / 255.0, geometry

    def unit_tensor(
        self, image_bgr: np.ndarray, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
    ) -> tuple[torch.Tensor, InputGeometry]:
        """(1, 3, H, W) RGB tensor in [0, 1] (before normalisation), and the geometry used."""
        rgb, geometry = self.to_unit_rgb(image_bgr)
        tensor = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
        return tensor.to(device=device, dtype=dtype), geometry

    def normalize(self, unit: torch.Tensor) -> torch.Tensor:
        """Differentiable normalisation of an (N, 3, H, W) [0, 1] RGB tensor into the model's input."""
        mean = torch.tensor(self.mean_rgb, device=unit.device, dtype=unit.dtype).view(1, 3, 1, 1)
        std = torch.tensor(self.std_rgb, device=unit.device, dtype=unit.dtype).view(1, 3, 1, 1)
        return (unit - mean) / std

    def __call__(
        self, image_bgr: np.ndarray, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
    ) -> tuple[torch.Tensor, InputGeometry]:
        """The model's (1, 3, H, W) input tensor for a BGR frame, and the geometry used."""
        unit, geometry = self.unit_tensor(image_bgr, device, dtype)
        return self.normalize(unit), geometry


def letterbox_geometry(frame_wh: tuple[int, int], input_wh: tuple[int, int]) -> InputGeometry:
    """Geometry of a centred letterbox from the frame and input sizes alone (Ultralytics' predictor pads only to
    a stride multiple, so its input is often not square: read the size from `FeatureMaps.input_hw`)."""
    return Preprocess(input_wh, ResizeMode.LETTERBOX).geometry(frame_wh)


def _letterbox_pad(total: int) -> int:
    # Ultralytics' LetterBox puts the odd pixel at the bottom/right: top = round(total / 2 - 0.1)
    return int(round(total / 2 - 0.1))


def _check_image(image_bgr: np.ndarray) -> None:
    if not isinstance(image_bgr, np.ndarray) or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
        raise ValueError(f"image must be an (H, W, 3) BGR array, got shape {getattr(image_bgr, 'shape', None)}")
    if image_bgr.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {image_bgr.dtype}")


def imagenet_preprocess(size: int = 224, mode: ResizeMode = ResizeMode.CENTER_CROP) -> Preprocess:
    """ImageNet classifiers as the torchvision adapter runs them (EfficientNet-Lite0 included): shorter side to
    size / 0.875 with area averaging, centre crop, ImageNet mean/std."""
    return Preprocess((size, size), mode, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), area_when_shrinking=True)


def yolo_preprocess(imgsz: int = 640) -> Preprocess:
    """Ultralytics YOLO: square letterbox padded with grey 114, pixels in [0, 1]."""
    return Preprocess((imgsz, imgsz), ResizeMode.LETTERBOX)
