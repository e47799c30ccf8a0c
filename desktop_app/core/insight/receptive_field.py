"""Theoretical receptive-field arithmetic, one axis pair (height, width) at a time.

For a layer with kernel k, stride s, left padding p and dilation d applied to a map whose cells are `j` input
pixels apart (the jump, or cumulative stride), whose receptive field is `r` pixels wide and whose first cell is
centred on input pixel `start`:

    k_eff = d * (k - 1) + 1
    r_out = r_in + (k_eff - 1) * j_in
    j_out = j_in * s
    start_out = start_in + ((k_eff - 1) / 2 - p) * j_in

Cell i of a map is centred on input pixel `start + i * j` and sees `r` pixels around it. Pixel centres are
integers here (input pixel 0 is centred at 0). Global context paths (squeeze-excitation gates, attention) are
not modelled, as is conventional: the receptive field is that of the local convolution path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop_app.core.insight.layers import LayerInfo
    from desktop_app.core.insight.preprocess import InputGeometry

Pair = tuple[float, float]


@dataclass(frozen=True, slots=True)
class RFState:
    """Receptive field of every cell of one feature map, per axis (height, width), in input pixels.

    `approximate` is True once the path went through an upsample, a merge of maps whose fields are not centred
    alike (the widest is kept) or an operation whose geometry was inferred from shapes. `upsampled` is True once
    the path went through an upsample (a YOLO neck/head, a decoder).
    """

    rf_hw: Pair = (1.0, 1.0)
    jump_hw: Pair = (1.0, 1.0)
    start_hw: Pair = (0.0, 0.0)
    approximate: bool = False
    upsampled: bool = False

    def conv(self, kernel_hw: Pair, stride_hw: Pair, padding_hw: Pair, dilation_hw: Pair = (1, 1)) -> "RFState":
        """After a convolution or pooling window (padding is the top/left padding)."""
        rf, jump, start = [], [], []
        for a in range(2):
            k_eff = dilation_hw[a] * (kernel_hw[a] - 1) + 1
            rf.append(self.rf_hw[a] + (k_eff - 1) * self.jump_hw[a])
            start.append(self.start_hw[a] + ((k_eff - 1) / 2 - padding_hw[a]) * self.jump_hw[a])
            jump.append(self.jump_hw[a] * stride_hw[a])
        return RFState(_pair(rf), _pair(jump), _pair(start), self.approximate, self.upsampled)

    def pad(self, top_left_hw: Pair) -> "RFState":
        """After explicit padding: cell 0 now sits `top_left` cells before the old cell 0."""
        start = [self.start_hw[a] - top_left_hw[a] * self.jump_hw[a] for a in range(2)]
        return RFState(self.rf_hw, self.jump_hw, _pair(start), self.approximate, self.upsampled)

    def upsample(self, factor_hw: Pair, bilinear: bool) -> "RFState":
        """After upsampling by `factor`; bilinear reads two neighbouring cells, nearest reads one."""
        rf, jump, start = [], [], []
        for a in range(2):
            j_in, f = self.jump_hw[a], factor_hw[a]
            rf.append(self.rf_hw[a] + (j_in if bilinear else 0.0))
            jump.append(j_in / f)
            # half-pixel-centre convention: output cell 0 is centred at input cell (0.5 / f - 0.5)
            start.append(self.start_hw[a] + ((0.5 / f - 0.5) * j_in if bilinear else 0.0))
        return RFState(_pair(rf), _pair(jump), _pair(start), True, True)

    def rescale(self, in_hw: tuple[int, int], out_hw: tuple[int, int]) -> "RFState":
        """After an operation of unknown geometry that changed the map size: treated as a k = s = ratio pool."""
        ratio = [in_hw[a] / out_hw[a] for a in range(2)]
        if all(r >= 1 for r in ratio):
            state = self.conv(_pair(ratio), _pair(ratio), (0.0, 0.0))
        else:
            state = self.upsample(_pair([1 / r for r in ratio]), bilinear=False)
        return RFState(state.rf_hw, state.jump_hw, state.start_hw, True, state.upsampled)

    def cell_box(self, row: int, col: int) -> tuple[float, float, float, float]:
        """Input-pixel box (x0, y0, x1, y1, continuous edges) seen by cell (row, col); may extend past the input."""
        cy = self.start_hw[0] + row * self.jump_hw[0]
        cx = self.start_hw[1] + col * self.jump_hw[1]
        rh, rw = self.rf_hw
        # a receptive field of r pixels centred on pixel c covers edges [c - (r-1)/2, c + (r-1)/2 + 1)
        return (cx - (rw - 1) / 2, cy - (rh - 1) / 2, cx + (rw - 1) / 2 + 1, cy + (rh - 1) / 2 + 1)


def merge(states: list[RFState]) -> RFState:
    """Receptive field of a map computed from several maps of the same size (residual add, concatenation).

    The theoretical field is the union of the inputs' fields: exactly the widest one when all are centred alike
    (same jump and start), the widest one as an approximation otherwise.
    """
    if not states:
        return RFState()
    widest = max(states, key=lambda s: s.rf_hw[0] * s.rf_hw[1])
    misaligned = any(s.jump_hw != widest.jump_hw or s.start_hw != widest.start_hw for s in states)
    approximate = misaligned or any(s.approximate for s in states)
    return RFState(widest.rf_hw, widest.jump_hw, widest.start_hw, approximate, any(s.upsampled for s in states))


def receptive_field_rect(
    layer: "LayerInfo", row: int, col: int, geometry: "InputGeometry"
) -> tuple[float, float, float, float]:
    """Frame-pixel box (x0, y0, x1, y1) of the input region that influences cell (row, col) of `layer`.

    The box is computed in model-input pixels from the layer's receptive field, clipped to the input, then mapped
    through the resize/letterbox `geometry` onto the frame (and clipped to it).
    """
    state = RFState(layer.rf_hw, layer.jump_hw, layer.start_hw, layer.approximate)
    x0, y0, x1, y1 = state.cell_box(row, col)
    in_w, in_h = geometry.input_wh
    clipped = (max(x0, 0.0), max(y0, 0.0), min(x1, float(in_w)), min(y1, float(in_h)))
    return geometry.input_to_frame_xyxy(clipped)


def _pair(values) -> Pair:
    return (float(values[0]), float(values[1]))
