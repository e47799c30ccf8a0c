"""OpenVINO models compiled for the shape they are actually given.

CNN Lens exports OpenVINO models with a dynamic input, so a 16:9 frame is letterboxed to 384x640 and not padded
to a square. A dynamic model is slower per frame than the same model compiled for one fixed shape (on the
AVX-512 CI host: 9.1 vs 7.6 ms for yolo11n-pose, 7.4 vs 5.8 ms for its INT8 export), because the CPU plugin
picks kernels and memory plans per call. A live source keeps one frame shape for thousands of frames, so
`StaticShapes` compiles a static copy for each shape it sees, on a background thread, and runs the dynamic model
only until that copy is ready: a new source never stalls the view for the 0.2-0.6 s a compile takes.

It takes over the `forward` of an Ultralytics `OpenVINOBackend` (its pre- and postprocessing are untouched).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable

import numpy as np

log = logging.getLogger(__name__)

#: Static copies kept per model; the least recently used one is dropped beyond this.
CACHE_SIZE = 4

_PRECISIONS = {"f32": "fp32", "bf16": "bf16", "f16": "fp16"}


def model_xml(weights: str | Path) -> Path:
    """The `.xml` of an OpenVINO export given its folder or the file itself."""
    path = Path(weights)
    return path if path.is_file() else next(path.glob("*.xml"))


def inference_precision(compiled: Any) -> str:
    """The number format OpenVINO computes in (`fp32`, `bf16`, `fp16`): on CPUs with bfloat16 support its
    default is bf16 even for a float32 model, which the HUD must say."""
    try:
        hint = compiled.get_property("INFERENCE_PRECISION_HINT")
    except Exception:  # a plugin without the property computes as the model says
        return "fp32"
    return _PRECISIONS.get(getattr(hint, "to_string", lambda: str(hint))(), str(hint))


class StaticShapes:
    """Runs an OpenVINO model compiled for each input shape, falling back to the dynamic one while it compiles.

    `compile_model(model)` compiles with the backend's own device and settings; `read_model()` reads the IR.
    `background=False` compiles on the calling thread (tests, and anything that prefers a stall to a warm-up).
    """

    def __init__(self, dynamic: Any, read_model: Callable[[], Any], compile_model: Callable[[Any], Any],
                 cache_size: int = CACHE_SIZE, background: bool = True) -> None:
        self._dynamic = dynamic
        self._read_model = read_model
        self._compile_model = compile_model
        self._cache_size = max(1, cache_size)
        self._background = background
        self._source: Any = None
        self._lock = threading.Lock()
        self._compiled: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._compiling: dict[tuple[int, ...], threading.Thread | None] = {}  # None: compiling on the caller
        self._failed: set[tuple[int, ...]] = set()
        self.static_runs = 0
        self.dynamic_runs = 0

    @property
    def shapes(self) -> tuple[tuple[int, ...], ...]:
        """The input shapes with a static copy ready, least recently used first."""
        with self._lock:
            return tuple(self._compiled)

    def compiled_for(self, shape: tuple[int, ...]) -> Any:
        """The static copy for `shape` when ready (starting its compile when not), else the dynamic model."""
        with self._lock:
            compiled = self._compiled.get(shape)
            if compiled is not None:
                self._compiled.move_to_end(shape)
                return compiled
            if shape in self._compiling or shape in self._failed:
                return self._dynamic
            task = (threading.Thread(target=self._compile, args=(shape,), daemon=True, name="cnnlens-ov-compile")
                    if self._background else None)
            self._compiling[shape] = task
        if task is None:  # compile here: the copy (or the failure) is in place on return
            self._compile(shape)
            with self._lock:
                return self._compiled.get(shape, self._dynamic)
        task.start()
        return self._dynamic

    def wait(self, timeout_s: float = 30.0) -> None:
        """Block until every compile under way has finished (tests, benchmarks)."""
        with self._lock:
            threads = list(self._compiling.values())
        for thread in threads:
            if thread is not None and thread.is_alive():
                thread.join(timeout_s)

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        compiled = self.compiled_for(tuple(int(n) for n in x.shape))
        if compiled is self._dynamic:
            self.dynamic_runs += 1
        else:
            self.static_runs += 1
        return list(compiled(x).values())

    def _compile(self, shape: tuple[int, ...]) -> None:
        try:
            with self._lock:
                if self._source is None:
                    self._source = self._read_model()
                model = self._source.clone()
            model.reshape(list(shape))
            compiled = self._compile_model(model)
        except Exception as exc:  # the dynamic model keeps running: slower, never broken
            log.warning("OpenVINO could not compile a static model for input %s, staying dynamic: %s", shape, exc)
            with self._lock:
                self._failed.add(shape)
                self._compiling.pop(shape, None)
            return
        with self._lock:
            self._compiled[shape] = compiled
            while len(self._compiled) > self._cache_size:
                self._compiled.popitem(last=False)
            self._compiling.pop(shape, None)
        log.info("OpenVINO model compiled for input %s", shape)


def use_static_shapes(backend: Any, weights: str | Path, background: bool = True) -> StaticShapes | None:
    """Make an Ultralytics `OpenVINOBackend` run static copies of its model per input shape; returns the
    `StaticShapes` in charge, or None when the model is static already, or the backend compiles per shape itself
    (Ultralytics does so for INT8 models on AMX CPUs), or this Ultralytics lays its backend out differently."""
    compiled = getattr(backend, "ov_compiled_model", None)
    compile_model = getattr(backend, "compile_model", None)
    if compiled is None or compile_model is None or getattr(backend, "read_model", None) is not None:
        return None
    try:
        dynamic = compiled.input().get_partial_shape().is_dynamic
    except Exception:
        return None
    if not dynamic:
        return None
    import openvino as ov

    xml = model_xml(weights)
    shapes = StaticShapes(compiled, lambda: ov.Core().read_model(str(xml)), compile_model, background=background)

    def forward(im, **_kwargs) -> list[np.ndarray]:
        return shapes(im.cpu().numpy().astype(np.float32, copy=False))

    backend.forward = forward  # the instance attribute shadows the class's method; AutoBackend calls it
    return shapes
