"""Small torch helpers shared by the insight views: borrowing a caller's model without changing it."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """Temporarily put every submodule in eval mode; restore each one's own training flag afterwards."""
    flags = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for m, training in flags:
            m.training = training


@contextmanager
def input_gradients_only(module: nn.Module) -> Iterator[nn.Module]:
    """Eval mode, gradients on, parameters frozen: for backward passes that need gradients with respect to the
    input or an intermediate map (Grad-CAM, FGSM), never the weights.

    Freezing the parameters keeps a backward pass from filling (and keeping alive) a .grad for every weight;
    the caller's training and requires_grad flags are restored afterwards.
    """
    requires = [(p, p.requires_grad) for p in module.parameters()]
    with eval_mode(module):
        for p, _ in requires:
            p.requires_grad_(False)
        try:
            with torch.enable_grad():
                yield module
        finally:
            for p, flag in requires:
                p.requires_grad_(flag)


def module_device_dtype(module: nn.Module) -> tuple[torch.device, torch.dtype]:
    """Device and floating dtype of the module's first parameter (CPU float32 for a parameter-free module)."""
    for p in module.parameters():
        if p.is_floating_point():
            return p.device, p.dtype
    return torch.device("cpu"), torch.float32
