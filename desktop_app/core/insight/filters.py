"""The first layer's learned filters, and the response of one of them on a frame."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from desktop_app.core.errors import InsightError
from desktop_app.core.insight.layers import first_conv, list_conv_layers
from desktop_app.core.insight.preprocess import Preprocess


def first_layer_conv(module: nn.Module, input_hw: tuple[int, int]) -> tuple[str, nn.Conv2d]:
    """Name and module of the first convolution the image meets (it must read the 3 colour channels)."""
    layer = first_conv(list_conv_layers(module, input_hw))
    conv = dict(module.named_modules())[layer.name]
    if conv.in_channels != 3 or conv.groups != 1:
        raise InsightError(f"the first convolution {layer.name!r} does not read RGB pixels directly")
    return layer.name, conv


def first_layer_kernels(conv: nn.Conv2d) -> np.ndarray:
    """The conv's kernels as (N, kh, kw, 3) float32 RGB (input-channel order of the model, RGB for all here)."""
    weight = conv.weight.detach().float().cpu().numpy()
    return np.ascontiguousarray(weight.transpose(0, 2, 3, 1))


def filter_response(
    conv: nn.Conv2d, index: int, preprocess: Preprocess, image_bgr: np.ndarray
) -> np.ndarray:
    """Response of kernel `index` of `conv` on the frame, as the model computes it: (H, W) float32 in [0, 1].

    The frame is preprocessed as for the model, convolved with that one kernel (same stride, padding and
    dilation), min-max normalised and mapped back onto the frame through the resize/letterbox geometry.
    """
    if not 0 <= index < conv.out_channels:
        raise InsightError(f"filter {index} does not exist; this layer has {conv.out_channels} filters")
    x, geometry = preprocess(image_bgr, device=conv.weight.device, dtype=conv.weight.dtype)
    with torch.no_grad():
        # running the layer itself keeps its exact padding (TF-style 'same' convs pad inside their forward);
        # the first layer is cheap enough that computing its other kernels too costs nothing noticeable;
        # .forward() bypasses hooks so an attached ActivationRecorder keeps the prediction pass's maps
        response = conv.forward(x)[0, index].float().cpu().numpy()
    low, high = float(response.min()), float(response.max())
    normalised = (response - low) / (high - low) if high > low else np.zeros_like(response)
    return geometry.heat_to_frame(normalised)
