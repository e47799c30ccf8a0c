"""Which torch device a model runs on, and at which precision.

`auto` prefers CUDA, then Apple MPS, then the CPU. An explicit device that this machine does not have is an error
the user can act on, not a silent fall-back: a HUD that says "cuda" must mean CUDA.
"""

from __future__ import annotations

import logging
import os
import re

import torch

from desktop_app.core.errors import ModelError

log = logging.getLogger(__name__)

_CUDA_RE = re.compile(r"^cuda(?::(\d+))?$")
_VALID = "auto, cpu, cuda, cuda:N or mps"


def cuda_available() -> bool:
    """True when a CUDA GPU can be used."""
    return torch.cuda.is_available()


def mps_available() -> bool:
    """True when Apple's Metal backend can be used."""
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def select_device(requested: str | int | None = "auto") -> str:
    """The torch device string to use: `cuda:N`, `mps` or `cpu`.

    `requested` is `auto` (CUDA, then MPS, then CPU), `cpu`, `cuda`, `cuda:N`, a bare GPU index, or `mps`.
    Raises `ModelError` when the requested device is unknown or not present on this machine.
    """
    name = "auto" if requested is None else str(requested).strip().lower()
    if name in ("", "auto"):
        if cuda_available():
            return "cuda:0"
        if mps_available():
            return "mps"
        return "cpu"
    if name == "cpu":
        return "cpu"
    if name == "mps":
        if not mps_available():
            raise ModelError("device 'mps' was requested but Apple MPS is not available here; use auto or cpu")
        return "mps"
    if name.isdigit():
        name = f"cuda:{name}"
    match = _CUDA_RE.match(name)
    if match is None:
        raise ModelError(f"unknown device {requested!r}; choose one of: {_VALID}")
    if not cuda_available():
        raise ModelError(f"device {requested!r} was requested but no CUDA GPU is available here; use auto or cpu")
    index = int(match.group(1) or 0)
    count = torch.cuda.device_count()
    if index >= count:
        raise ModelError(f"device {requested!r} does not exist: this machine has {count} CUDA GPU(s)")
    return f"cuda:{index}"


def precision_for(device: str) -> str:
    """`fp16` on CUDA (tensor cores, half the memory), `fp32` elsewhere (CPU half precision is slow)."""
    return "fp16" if device.startswith("cuda") else "fp32"


def prepare_device(device: str) -> None:
    """One-time tuning for a device: cuDNN autotuning on CUDA, where live frames keep one input shape."""
    if device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True


TORCH_THREADS_ENV = "CNNLENS_TORCH_THREADS"


def cpu_inference_threads() -> int | None:
    """PyTorch CPU threads the user asked for with `CNNLENS_TORCH_THREADS`, or None to keep Ultralytics' choice
    (`cores - 1`, which leaves a core for capture, encoding and the UI)."""
    override = os.environ.get(TORCH_THREADS_ENV, "").strip()
    return int(override) if override.isdigit() and int(override) > 0 else None


def use_cpu_threads(device: str) -> None:
    """Apply `CNNLENS_TORCH_THREADS` before a CPU inference. Ultralytics resets the count whenever a predictor is
    set up, so adapters call this before each frame; it costs nothing when the value is already right.

    Measured on 2 cores (docs/benchmarks.md): 2 threads make yolo11n-pose inference alone 1.8x faster and the
    headless pipeline 1.23x faster, but contend with recording and with OpenVINO panes in the same process,
    so the default stays at Ultralytics' `cores - 1`."""
    wanted = cpu_inference_threads()
    if device == "cpu" and wanted is not None and torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)


def synchronize(device: str) -> None:
    """Wait for queued GPU work so that a timing covers the work itself, not just its launch."""
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)
    elif device == "mps":
        torch.mps.synchronize()


def release_memory(device: str) -> None:
    """Return cached accelerator memory to the driver after a model is dropped."""
    if device.startswith("cuda") and torch.cuda.is_available():
        torch.cuda.empty_cache()
    elif device == "mps" and mps_available():
        torch.mps.empty_cache()


def is_out_of_memory(error: BaseException) -> bool:
    """True for an accelerator out-of-memory error (CUDA or MPS)."""
    oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(error, oom_type):
        return True
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()
