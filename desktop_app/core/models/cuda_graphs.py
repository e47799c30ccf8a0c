"""CUDA graphs for a model's forward pass: one launch per frame instead of hundreds.

A small YOLO runs a few hundred short kernels per frame, and on a fast GPU Python launches them slower than the GPU
runs them: yolo11n-pose took ~9 ms a frame on an H100 whose kernels need ~2 ms (docs/benchmarks.md). A CUDA
graph records the launches once for a fixed input shape, and each frame replays them with one call that holds the
GIL only briefly, which also leaves the interpreter to capture, rendering and encoding.

Rules that keep replays correct:
- one graph at a time, for the shape, dtype and model last seen: a forward pass at another shape makes Ultralytics
  rebuild buffers (anchors) that an older graph would still read, so any change drops the graph;
- Python hooks do not run on a replay: a pass with hooks runs eagerly, unless every hook is marked graph-safe
  (`graph_safe`): then its device work is captured in the graph and its Python side effects are redone after each
  replay (the feature-map recorder works so); a different set of hooks is a different graph;
- outputs are the graph's own tensors, overwritten by the next replay: use them before the next call;
- a model that cannot be captured (an op that syncs with the CPU) runs eagerly, with the reason logged once.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable

import torch
from torch import nn

log = logging.getLogger(__name__)

CUDA_GRAPHS_ENV = "CNNLENS_CUDA_GRAPHS"
REPLAY_ATTR = "cuda_graph_replay"
WARMUP_PASSES = 3


def cuda_graphs_enabled() -> bool:
    """False when the user turned graphs off (`CNNLENS_CUDA_GRAPHS=0`), for troubleshooting a model."""
    return os.environ.get(CUDA_GRAPHS_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def hooks_on(modules: list[nn.Module]) -> tuple[bool, tuple[int, ...], list[Callable[[], None]]]:
    """The forward hooks on `modules`: (all graph-safe, their identities, their replay callbacks in call order).

    A hook is graph-safe when it does only device work on the tensors it sees and has a `cuda_graph_replay`
    attribute: a callable that redoes the hook's Python-side effects after a replay (the device work is in the
    graph). Any other hook, or a global one, makes passes run eagerly.
    """
    from torch.nn.modules import module as module_globals

    if module_globals._global_forward_hooks or module_globals._global_forward_pre_hooks:
        return False, (), []
    pre: list = []
    post: list = []
    for m in modules:
        if m._forward_pre_hooks:
            pre.extend(m._forward_pre_hooks.values())
        if m._forward_hooks:
            post.extend(m._forward_hooks.values())
    replays = [getattr(hook, REPLAY_ATTR, None) for hook in pre + post]
    if any(r is None for r in replays):
        return False, (), []
    return True, tuple(id(hook) for hook in pre + post), replays


def graph_safe(hook: Callable, replay: Callable[[], None]) -> Callable:
    """Mark a forward hook as graph-safe: `replay()` is called after every graph replay in place of its Python
    side effects. The hook's tensors from the captured pass are refreshed by each replay, so a hook that keeps
    references to its outputs can hand those out again."""
    setattr(hook, REPLAY_ATTR, replay)
    return hook


class GraphedForward:
    """`forward(x)` replayed from a CUDA graph when it can be, eager otherwise; see the module notes."""

    def __init__(self, forward: Callable[[torch.Tensor], Any], module: nn.Module) -> None:
        self._forward = forward
        self._modules = list(module.modules())
        self._key: tuple | None = None
        self._graph: torch.cuda.CUDAGraph | None = None
        self._static_in: torch.Tensor | None = None
        self._static_out: Any = None
        self._failed: set[tuple] = set()
        self.replays = 0
        self.captures = 0

    @property
    def captured(self) -> bool:
        return self._graph is not None

    def __call__(self, x: torch.Tensor, model_key: Any = None) -> Any:
        safe, hook_ids, replays = hooks_on(self._modules)
        key = (tuple(x.shape), x.dtype, x.device, model_key, hook_ids)
        if key != self._key:
            self.reset()
        if x.device.type != "cuda" or key in self._failed or not safe:
            self._key = key
            return self._forward(x)
        if self._graph is None:
            self._capture(x, key)
            if self._graph is None:
                return self._forward(x)
        self._static_in.copy_(x)
        self._graph.replay()
        for replay in replays:
            replay()
        self.replays += 1
        return self._static_out

    def _capture(self, x: torch.Tensor, key: tuple) -> None:
        static_in = x.clone()
        try:
            side = torch.cuda.Stream(x.device)
            side.wait_stream(torch.cuda.current_stream(x.device))
            with torch.cuda.stream(side):  # warm-up off the default stream, as capture requires
                for _ in range(WARMUP_PASSES):
                    self._forward(static_in)
            torch.cuda.current_stream(x.device).wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                static_out = self._forward(static_in)
        except Exception as exc:  # an op that cannot be captured: remember, and run this shape eagerly
            self._failed.add(key)
            log.warning("CUDA graph capture failed for input %s; running eagerly: %s", tuple(x.shape), exc)
            return
        self._key, self._graph, self._static_in, self._static_out = key, graph, static_in, static_out
        self.captures += 1
        log.debug("captured a CUDA graph for input %s", tuple(x.shape))

    def reset(self) -> None:
        """Drop the graph and its memory (the next call captures anew)."""
        self._key = None
        self._graph = self._static_in = self._static_out = None
