"""Inventory of a network's convolution and pooling layers, found with one shape-probe forward pass.

A probe registers hooks on every module, runs one forward pass on a dummy input and follows each feature map
tensor from layer to layer, so the receptive field of every layer is computed along the path the data actually
took. Where a map is built by code that is not a module (`torch.cat`, `chunk`, a residual `+`), its origin is
taken as the widest map of the same spatial size produced so far inside the enclosing module: exact for
residual additions and split/concat blocks, the longest path (an upper bound) for YOLO's upsample-and-concat
neck, and flagged `approximate` there.
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass
from enum import Enum

import torch
from torch import nn

from desktop_app.core.errors import InsightError
from desktop_app.core.insight.receptive_field import Pair, RFState, merge
from desktop_app.core.insight.torch_utils import eval_mode, module_device_dtype

log = logging.getLogger(__name__)


class LayerKind(str, Enum):
    """What a listed layer does to the map."""

    CONV = "conv"
    POOL = "pool"


@dataclass(frozen=True, slots=True)
class LayerInfo:
    """One convolution or pooling layer as seen by the probe pass.

    `out_shape_chw` is the layer's output (C, H, W) for the probed input size. `jump_hw` is the cumulative stride
    (input pixels between neighbouring cells), `rf_hw` the theoretical receptive field in input pixels, `start_hw`
    the input pixel on which cell (0, 0) is centred. `padding_hw` is the effective top/left padding, including
    padding a module applies inside its own forward (TF 'same' puts the odd pixel bottom/right). `calls` counts
    calls per forward pass (a pool reused three times in SPPF); shapes and receptive field describe the last call,
    which is also what hooks record. `approximate` and `after_upsample`: see `RFState`.
    """

    name: str
    type_name: str
    kind: LayerKind
    order: int
    out_shape_chw: tuple[int, int, int]
    kernel_hw: tuple[int, int]
    stride_hw: tuple[int, int]
    padding_hw: tuple[int, int]
    dilation_hw: tuple[int, int]
    groups: int
    rf_hw: Pair
    jump_hw: Pair
    start_hw: Pair
    calls: int = 1
    approximate: bool = False
    after_upsample: bool = False

    @property
    def receptive_field(self) -> float:
        """The larger receptive-field side, in input pixels."""
        return max(self.rf_hw)

    @property
    def cumulative_stride(self) -> float:
        """The larger cumulative stride, in input pixels."""
        return max(self.jump_hw)

    def describe(self) -> str:
        """One line for a layer list: name, type, shape, stride, receptive field."""
        c, h, w = self.out_shape_chw
        approx = "≈" if self.approximate else ""
        return (f"{self.name}  {self.type_name} {self.kernel_hw[0]}x{self.kernel_hw[1]}  {c}x{h}x{w}  "
                f"stride {_fmt(self.cumulative_stride)}  RF {approx}{_fmt(self.receptive_field)}")


_CACHE: "weakref.WeakKeyDictionary[nn.Module, dict[tuple, tuple[LayerInfo, ...]]]" = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()
_POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.LPPool2d)
_ADAPTIVE_POOLS = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


def list_conv_layers(module: nn.Module, input_hw: tuple[int, int]) -> list[LayerInfo]:
    """Every Conv2d and pooling layer of `module` in forward order, with shapes and receptive fields.

    Runs one no-grad forward pass on a zero input of size `input_hw` the first time (cached per module and size;
    training flags are restored afterwards, so batch-norm statistics are never touched).
    """
    key = (int(input_hw[0]), int(input_hw[1]), sum(1 for _ in module.modules()))
    with _CACHE_LOCK:
        cached = _CACHE.get(module, {}).get(key)
    if cached is None:
        cached = tuple(_probe(module, key[:2]))
        with _CACHE_LOCK:
            _CACHE.setdefault(module, {})[key] = cached
    return list(cached)


def find_layer(layers: list[LayerInfo], name: str) -> LayerInfo:
    """The listed layer called `name`; raises InsightError naming a few valid ones."""
    for layer in layers:
        if layer.name == name:
            return layer
    sample = ", ".join(layer.name for layer in layers[:5])
    raise InsightError(f"layer {name!r} is not a convolution or pooling layer of this model (e.g. {sample})")


def backbone_layers(layers: list[LayerInfo]) -> list[LayerInfo]:
    """Conv layers before the first one reached through an upsample (YOLO's neck and heads, a decoder)."""
    out: list[LayerInfo] = []
    for layer in layers:
        if layer.after_upsample:
            break
        if layer.kind is LayerKind.CONV:
            out.append(layer)
    return out


def pick_hierarchy_layers(layers: list[LayerInfo], count: int = 3) -> list[LayerInfo]:
    """`count` conv layers spread from the first to the deepest backbone layer (early → middle → deep)."""
    candidates = [layer for layer in backbone_layers(layers) if min(layer.out_shape_chw[1:]) > 1]
    if not candidates:
        raise InsightError("this model has no convolution layer with a spatial output to show")
    if count <= 1 or len(candidates) == 1:
        return [candidates[-1]]
    picks = [candidates[round(i * (len(candidates) - 1) / (count - 1))] for i in range(count)]
    return list(dict.fromkeys(picks))


def first_conv(layers: list[LayerInfo]) -> LayerInfo:
    """The first convolution the input meets (the layer whose kernels look at pixels)."""
    for layer in layers:
        if layer.kind is LayerKind.CONV:
            return layer
    raise InsightError("this model has no convolution layer")


class _Probe:
    """Follows RFState from tensor to tensor through hooks on every module."""

    def __init__(self) -> None:
        self.state: dict[int, RFState] = {}
        self.keep: list[torch.Tensor] = []  # keeps tensors alive so their id() is never reused mid-probe
        self.scopes: list[list[torch.Tensor]] = [[]]
        self.records: dict[str, dict] = {}
        self.order: list[str] = []
        self.padding: dict[int, Pair] = {}  # effective top/left padding of each conv/pool, by module id

    def register(self, tensor: torch.Tensor, state: RFState) -> None:
        self.state[id(tensor)] = state
        self.keep.append(tensor)
        self.scopes[-1].append(tensor)

    def known(self, tensor: torch.Tensor) -> RFState | None:
        return self.state.get(id(tensor))

    def widest_like(self, hw: tuple[int, int], own_scope: list[torch.Tensor]) -> RFState | None:
        for scope in [own_scope, *reversed(self.scopes)]:
            states = [self.state[id(t)] for t in scope if tuple(t.shape[-2:]) == hw and id(t) in self.state]
            if states:
                return merge(states)
        return None

    def pre_hook(self, module: nn.Module, args) -> None:
        self.scopes.append([])

    def make_hook(self, name: str):
        def hook(module: nn.Module, args, output) -> None:
            own = self.scopes.pop()
            self.scopes[-1].extend(own)  # descendants' maps stay visible to the enclosing module
            out = output if isinstance(output, torch.Tensor) and output.ndim == 4 else None
            if out is None:
                return
            inputs = [t for t in _tensors(args) if t.ndim == 4]
            state = self._output_state(module, inputs, out, own)
            if state is None:  # not an image-plane map (e.g. YOLO's DFL conv over box distributions)
                return
            if self.known(out) is None or _is_spatial(module):
                self.register(out, state)
            if _is_spatial(module):
                self._record(name, module, out, state)

        return hook

    def _input_state(self, inputs: list[torch.Tensor], own: list[torch.Tensor], hw) -> RFState | None:
        known = [s for s in (self.known(t) for t in inputs) if s is not None]
        if known:
            return merge(known)
        return self.widest_like(hw, own)

    def _output_state(self, module: nn.Module, inputs, out: torch.Tensor, own) -> RFState | None:
        """The output map's receptive field, or None when the map cannot be traced back to the input image."""
        out_hw = tuple(out.shape[-2:])
        if isinstance(module, nn.Conv2d) or isinstance(module, _POOLS):
            # "pad then convolve" modules pad inside their own forward: the padded map is their real input
            x = next((t for t in reversed(own) if t.ndim == 4 and t.shape[1] == _in_channels(module, inputs)), None)
            x = x if x is not None else (inputs[0] if inputs else None)
            state = self._input_state([x], [], tuple(x.shape[-2:])) if x is not None else None
            if state is None:
                return None
            k, s, p, d = _window(module)
            p = _consistent_padding(tuple(x.shape[-2:]), out_hw, k, s, p, d)
            out_state = state.conv(k, s, p, d)
            nominal = self.known(inputs[0]) if inputs else None
            if nominal is not None:  # top/left padding as seen from the module's own input (TF 'same' included)
                p = tuple((d[a] * (k[a] - 1)) / 2 - (out_state.start_hw[a] - nominal.start_hw[a]) / nominal.jump_hw[a]
                          for a in range(2))
            self.padding[id(module)] = p
            return out_state
        if not inputs:
            return self.known(out) or self.widest_like(out_hw, own)
        in_hw = tuple(inputs[0].shape[-2:])
        state = self._input_state(inputs, own, in_hw)
        if isinstance(module, _ADAPTIVE_POOLS) and state is not None:
            return state.rescale(in_hw, out_hw) if out_hw != (1, 1) else state.conv(in_hw, in_hw, (0, 0))
        if isinstance(module, nn.Upsample) and state is not None:
            factor = (out_hw[0] / in_hw[0], out_hw[1] / in_hw[1])
            return state.upsample(factor, bilinear=module.mode != "nearest")
        if type(module).__name__.endswith("Pad2d") and len(getattr(module, "padding", ())) == 4:
            left, _, top, _ = module.padding
            return state.pad((top, left)) if state is not None else None
        existing = self.known(out)
        if existing is not None:  # a container handing back a child's map
            return existing
        same = [t for t in inputs if tuple(t.shape[-2:]) == out_hw]
        if same or list(module.children()):
            known = [s for s in (self.known(t) for t in same) if s is not None]
            inner = self.widest_like(out_hw, own) if list(module.children()) else None
            states = known + ([inner] if inner is not None else [])
            if states:
                return merge(states)
            return self._input_state(same or inputs, own, out_hw)
        # an unknown leaf that resized the map
        return state.rescale(in_hw, out_hw) if state is not None else None

    def _record(self, name: str, module: nn.Module, out: torch.Tensor, state: RFState) -> None:
        k, s, _, d = _window(module)
        p = self.padding.get(id(module), (0.0, 0.0))
        previous = self.records.get(name)
        if previous is None:
            self.order.append(name)
        self.records[name] = dict(
            name=name,
            type_name=type(module).__name__,
            kind=LayerKind.CONV if isinstance(module, nn.Conv2d) else LayerKind.POOL,
            out_shape_chw=tuple(int(v) for v in out.shape[1:]),
            kernel_hw=_ints(k), stride_hw=_ints(s), padding_hw=_ints(p), dilation_hw=_ints(d),
            groups=int(getattr(module, "groups", 1)),
            rf_hw=state.rf_hw, jump_hw=state.jump_hw, start_hw=state.start_hw,
            calls=(previous["calls"] + 1) if previous else 1,
            approximate=state.approximate,
            after_upsample=state.upsampled,
        )


def _probe(module: nn.Module, input_hw: tuple[int, int]) -> list[LayerInfo]:
    probe = _Probe()
    handles = []
    try:
        for name, sub in module.named_modules():
            handles.append(sub.register_forward_pre_hook(probe.pre_hook))
            handles.append(sub.register_forward_hook(probe.make_hook(name or "<root>")))
        device, dtype = module_device_dtype(module)
        x = torch.zeros((1, 3, *input_hw), device=device, dtype=dtype)
        probe.register(x, RFState())
        with torch.no_grad(), eval_mode(module):
            module(x)
    except (RuntimeError, ValueError, TypeError) as exc:
        raise InsightError(f"could not probe the model's layers at input size {input_hw}: {exc}") from exc
    finally:
        for handle in handles:
            handle.remove()
    layers = [LayerInfo(order=i, **probe.records[name]) for i, name in enumerate(probe.order)]
    log.debug("probed %d conv/pool layers at %s", len(layers), input_hw)
    return layers


def _tensors(args) -> list[torch.Tensor]:
    out: list[torch.Tensor] = []
    for a in args:
        if isinstance(a, torch.Tensor):
            out.append(a)
        elif isinstance(a, (list, tuple)):
            out.extend(_tensors(a))
    return out


def _is_spatial(module: nn.Module) -> bool:
    return isinstance(module, nn.Conv2d) or isinstance(module, _POOLS)


def _in_channels(module: nn.Module, inputs: list[torch.Tensor]) -> int:
    if isinstance(module, nn.Conv2d):
        return module.in_channels
    return int(inputs[0].shape[1]) if inputs else -1


def _window(module: nn.Module) -> tuple[Pair, Pair, Pair, Pair]:
    if isinstance(module, nn.Conv2d) or isinstance(module, _POOLS):
        k = _two(module.kernel_size)
        s = _two(module.stride if module.stride is not None else module.kernel_size)
        p = _two(getattr(module, "padding", 0))
        d = _two(getattr(module, "dilation", 1))
        return k, s, p, d
    return (1, 1), (1, 1), (0, 0), (1, 1)


def _two(value) -> Pair:
    if isinstance(value, str):  # Conv2d(padding="same"/"valid"): resolved from shapes later
        return (0.0, 0.0)
    if isinstance(value, (tuple, list)):
        return (float(value[0]), float(value[-1]))
    return (float(value), float(value))


def _ints(pair: Pair) -> tuple[int, int]:
    return (int(round(pair[0])), int(round(pair[1])))


def _consistent_padding(in_hw, out_hw, k: Pair, s: Pair, p: Pair, d: Pair) -> Pair:
    """The top/left padding that explains the observed output size (dynamic 'same' padding pads inside forward)."""
    result = []
    for a in range(2):
        k_eff = d[a] * (k[a] - 1) + 1
        expected = (in_hw[a] + 2 * p[a] - k_eff) // s[a] + 1
        if expected == out_hw[a]:
            result.append(p[a])
        else:
            total = max((out_hw[a] - 1) * s[a] + k_eff - in_hw[a], 0)
            result.append(total // 2)  # TF 'SAME' puts the odd pixel at the bottom/right
    return (float(result[0]), float(result[1]))


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
