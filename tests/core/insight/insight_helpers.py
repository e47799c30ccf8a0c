"""Helpers shared by the insight tests: real photos, a bus pasted on grey, and a hook counter."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
from torch import nn

ASSETS = Path(list(importlib.util.find_spec("ultralytics").submodule_search_locations)[0]) / "assets"

# where the bus is inside bus.jpg (rows, cols)
BUS_CROP = (slice(230, 780), slice(0, 810))


def read_asset(name: str) -> np.ndarray:
    image = cv2.imread(str(ASSETS / name))
    assert image is not None, f"missing test photo {name}"
    return image


def bus_on_grey(frame_wh=(640, 480), scale=0.45, top_left=(138, 116)) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A crop of the real bus photo pasted on flat grey; returns the frame and the bus box (x0, y0, x1, y1)."""
    bus = cv2.resize(read_asset("bus.jpg")[BUS_CROP], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.full((frame_wh[1], frame_wh[0], 3), 128, np.uint8)
    x0, y0 = top_left
    h, w = bus.shape[:2]
    frame[y0 : y0 + h, x0 : x0 + w] = bus
    return frame, (x0, y0, x0 + w, y0 + h)


def all_hooks(module: nn.Module) -> int:
    """Forward hooks and pre-hooks left on any submodule."""
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in module.modules())


def build_small_runner(kind: str, model: str):
    """An insight pane runner at 320 px on the CPU, as the GUI would build it for `kind:model`."""
    from desktop_app.core.models.base import PredictOptions
    from desktop_app.core.panes import build_runner
    from desktop_app.core.pipeline import PaneSpec

    return build_runner(PaneSpec(kind, model, PredictOptions(imgsz=320)), "cpu")
