"""Feature maps captured by forward hooks during the forward pass that makes the prediction.

`ActivationRecorder` owns its hooks and their handles. Inside each hook the layer's output is detached and
reduced on its own device (channel strengths, the strongest channels downsampled, the mean map); only those
small tensors are kept, and they are copied to the CPU once, when `collect()` is called after the pass, so the
pass is never stalled by a device-to-host copy in the middle of the network.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from desktop_app.core.errors import InsightError
from desktop_app.core.models.cuda_graphs import graph_safe

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FeatureMaps:
    """One layer's activations for one frame, reduced for display.

    `shape_chw` is the layer's full output (C, H, W); `input_hw` the model-input size that produced it.
    `channel_index` (N,) int64: the N strongest channels, strongest first, ranked by the mean of their positive
    part (what a ReLU-like activation lets through). `channel_strength` (N,) float32: those means.
    `channel_maps` (N, h, w) float32, each channel min-max normalised to [0, 1], downsampled so max(h, w) is at
    most the recorder's `max_map_side`. `mean_map` (h, w) float32 in [0, 1]: the mean over all channels.
    """

    frame_index: int
    timestamp_s: float
    layer_name: str
    shape_chw: tuple[int, int, int]
    input_hw: tuple[int, int]
    channel_index: np.ndarray
    channel_strength: np.ndarray
    channel_maps: np.ndarray
    mean_map: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.channel_index)
        if self.channel_maps.ndim != 3 or len(self.channel_maps) != n:
            raise ValueError(f"channel_maps must be ({n}, h, w), got {self.channel_maps.shape}")
        if self.mean_map.shape != self.channel_maps.shape[1:]:
            raise ValueError(f"mean_map must be {self.channel_maps.shape[1:]}, got {self.mean_map.shape}")
        for array in (self.channel_index, self.channel_strength, self.channel_maps, self.mean_map):
            array.setflags(write=False)


class ActivationRecorder:
    """Forward hooks on chosen layers of one module; use as a context manager or attach()/detach().

    Every forward pass of the root module resets the buffers, so `collect()` always describes the latest pass.
    `forward_calls` counts root passes while attached (a pipeline can check that recording added none).
    """

    def __init__(
        self, module: nn.Module, layer_names: Sequence[str], *, top_n: int = 16, max_map_side: int = 64
    ) -> None:
        if top_n < 1:
            raise ValueError(f"top_n must be >= 1, got {top_n}")
        if max_map_side < 1:
            raise ValueError(f"max_map_side must be >= 1, got {max_map_side}")
        self._module = module
        self._modules = dict(module.named_modules())
        self._layer_names = self._validated(layer_names)
        self.top_n = top_n
        self.max_map_side = max_map_side
        self._handles: list[torch.utils.hooks.RemovableHandle] = []
        # per layer: full shape, then on the layer's device: top indices, their strengths, their maps, mean map
        self._reduced: dict[str, tuple[tuple[int, int, int], torch.Tensor, torch.Tensor, torch.Tensor,
                                       torch.Tensor]] = {}
        self._last: dict[str, tuple] = {}  # each layer's latest reduction, kept for CUDA graph replays
        self._input_hw: tuple[int, int] = (0, 0)
        self.forward_calls = 0

    @property
    def layer_names(self) -> tuple[str, ...]:
        return self._layer_names

    @property
    def handles(self) -> tuple:
        """The live hook handles (empty once detached)."""
        return tuple(self._handles)

    @property
    def attached(self) -> bool:
        return bool(self._handles)

    def attach(self) -> "ActivationRecorder":
        """Register the hooks (idempotent)."""
        if self._handles:
            return self
        self._handles.append(self._module.register_forward_pre_hook(self._root_hook()))
        for name in self._layer_names:
            self._handles.append(self._modules[name].register_forward_hook(self._make_hook(name)))
        log.debug("recording %s", ", ".join(self._layer_names))
        return self

    def detach(self) -> None:
        """Remove every hook and drop the buffers (idempotent)."""
        while self._handles:
            self._handles.pop().remove()
        self._reduced.clear()
        self._last.clear()

    def set_layers(self, layer_names: Sequence[str]) -> None:
        """Record other layers; hooks on the old ones are removed first."""
        names = self._validated(layer_names)
        was_attached = self.attached
        self.detach()
        self._layer_names = names
        if was_attached:
            self.attach()

    def __enter__(self) -> "ActivationRecorder":
        return self.attach()

    def __exit__(self, *exc_info) -> None:
        self.detach()

    def collect(self, frame_index: int, timestamp_s: float) -> dict[str, FeatureMaps]:
        """The latest pass's feature maps per recorded layer, copied to the CPU; empties the buffers."""
        out: dict[str, FeatureMaps] = {}
        for name, (shape, index, strength, maps, mean) in self._reduced.items():
            out[name] = FeatureMaps(
                frame_index=frame_index,
                timestamp_s=timestamp_s,
                layer_name=name,
                shape_chw=shape,
                input_hw=self._input_hw,
                channel_index=index.cpu().numpy().astype(np.int64),
                channel_strength=strength.cpu().numpy().astype(np.float32),
                channel_maps=maps.cpu().numpy().astype(np.float32),
                mean_map=mean.cpu().numpy().astype(np.float32),
            )
        self._reduced.clear()
        return out

    def _validated(self, layer_names: Sequence[str]) -> tuple[str, ...]:
        names = tuple(dict.fromkeys(layer_names))
        missing = [n for n in names if n not in self._modules or not n]
        if missing:
            raise InsightError(f"layer {missing[0]!r} is not part of this model; pick one from the layer list")
        return names

    def _on_root_call(self, module: nn.Module, args) -> None:
        self._reduced.clear()
        self.forward_calls += 1
        x = args[0] if args and isinstance(args[0], torch.Tensor) else None
        self._input_hw = (int(x.shape[-2]), int(x.shape[-1])) if x is not None and x.ndim == 4 else (0, 0)

    # The hooks are graph-safe (see models.cuda_graphs): a model replayed from a CUDA graph refreshes the tensors
    # the captured pass reduced into, and the replay callbacks hand those out again.
    def _root_hook(self):
        def hook(module: nn.Module, args) -> None:
            self._on_root_call(module, args)

        def replay() -> None:
            self._reduced.clear()
            self.forward_calls += 1

        return graph_safe(hook, replay)

    def _make_hook(self, name: str):
        def hook(module: nn.Module, args, output) -> None:
            if isinstance(output, torch.Tensor) and output.ndim == 4:
                self._reduced[name] = self._last[name] = self._reduce(output)

        def replay() -> None:
            if name in self._last:
                self._reduced[name] = self._last[name]

        return graph_safe(hook, replay)

    @torch.no_grad()
    def _reduce(self, output: torch.Tensor):
        """On the output's device: rank channels, keep the top N downsampled and normalised, and the mean map."""
        x = output.detach()[0].float()
        c, h, w = x.shape
        strength = x.clamp(min=0).mean(dim=(1, 2))
        n = min(self.top_n, c)
        top_strength, top_index = strength.topk(n)
        scale = min(1.0, self.max_map_side / max(h, w))
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        stacked = torch.cat([x[top_index], x.mean(dim=0, keepdim=True)], dim=0)
        if size != (h, w):
            stacked = F.adaptive_avg_pool2d(stacked[None], size)[0]
        flat = stacked.flatten(1)
        low = flat.min(dim=1).values.view(-1, 1, 1)
        span = (flat.max(dim=1).values.view(-1, 1, 1) - low).clamp(min=1e-12)
        stacked = (stacked - low) / span
        return (int(c), int(h), int(w)), top_index, top_strength, stacked[:n], stacked[n]
