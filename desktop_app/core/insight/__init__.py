"""Seeing inside the network: layer inventory and receptive fields, feature maps captured during the prediction
pass, first-layer filters, the convolution/pooling lesson, CAMs, FGSM and Teach-mode transfer learning.

Pure core: torch, numpy and cv2 only; names load on first use (so `pane_kinds()` and start-up do not pay
for torch).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop_app.core.insight.adversarial import (  # noqa: F401
        FgsmResult,
        fgsm,
    )
    from desktop_app.core.insight.cam import (  # noqa: F401
        CamMethod,
        CamResult,
        default_eigencam_layers,
        default_gradcam_layer,
        eigen_cam,
        grad_cam,
    )
    from desktop_app.core.insight.explain_runners import (  # noqa: F401
        FgsmRunner,
        GradCamRunner,
    )
    from desktop_app.core.insight.feature_runners import CellHit, FeaturesRunner  # noqa: F401
    from desktop_app.core.insight.filters import (  # noqa: F401
        filter_response,
        first_layer_conv,
        first_layer_kernels,
    )
    from desktop_app.core.insight.hierarchy_runner import HierarchyRunner  # noqa: F401
    from desktop_app.core.insight.layers import (  # noqa: F401
        LayerInfo,
        LayerKind,
        backbone_layers,
        find_layer,
        first_conv,
        list_conv_layers,
        pick_hierarchy_layers,
    )
    from desktop_app.core.insight.lesson import (  # noqa: F401
        ConvLesson,
        LessonKernel,
        LessonStage,
        Padding,
        conv_lesson,
        render_lesson,
    )
    from desktop_app.core.insight.lesson_runners import (  # noqa: F401
        FiltersRunner,
        LessonRunner,
    )
    from desktop_app.core.insight.preprocess import (  # noqa: F401
        InputGeometry,
        Preprocess,
        ResizeMode,
        imagenet_preprocess,
        letterbox_geometry,
        yolo_preprocess,
    )
    from desktop_app.core.insight.receptive_field import (  # noqa: F401
        RFState,
        receptive_field_rect,
    )
    from desktop_app.core.insight.recorder import (  # noqa: F401
        ActivationRecorder,
        FeatureMaps,
    )
    from desktop_app.core.insight.teach import (  # noqa: F401
        PenultimateFeatures,
        TeachSession,
        TrainReport,
    )
    from desktop_app.core.insight.teach_runner import TeachRunner  # noqa: F401
    from desktop_app.core.insight.views import (  # noqa: F401
        GridLayout,
        channel_grid,
        draw_receptive_field,
        filter_tiles,
        filter_tiles_layout,
        heat_overlay,
        hierarchy_strip,
        mean_activation_overlay,
    )

_HOMES = {
    "ActivationRecorder": "recorder",
    "CamMethod": "cam",
    "CamResult": "cam",
    "CellHit": "feature_runners",
    "ConvLesson": "lesson",
    "FeatureMaps": "recorder",
    "FeaturesRunner": "feature_runners",
    "FgsmResult": "adversarial",
    "FgsmRunner": "explain_runners",
    "FiltersRunner": "lesson_runners",
    "GradCamRunner": "explain_runners",
    "GridLayout": "views",
    "HierarchyRunner": "hierarchy_runner",
    "InputGeometry": "preprocess",
    "LayerInfo": "layers",
    "LayerKind": "layers",
    "LessonKernel": "lesson",
    "LessonRunner": "lesson_runners",
    "LessonStage": "lesson",
    "Padding": "lesson",
    "PenultimateFeatures": "teach",
    "Preprocess": "preprocess",
    "RFState": "receptive_field",
    "ResizeMode": "preprocess",
    "TeachRunner": "teach_runner",
    "TeachSession": "teach",
    "TrainReport": "teach",
    "backbone_layers": "layers",
    "channel_grid": "views",
    "conv_lesson": "lesson",
    "default_eigencam_layers": "cam",
    "default_gradcam_layer": "cam",
    "draw_receptive_field": "views",
    "eigen_cam": "cam",
    "fgsm": "adversarial",
    "filter_response": "filters",
    "filter_tiles": "views",
    "filter_tiles_layout": "views",
    "find_layer": "layers",
    "first_conv": "layers",
    "first_layer_conv": "filters",
    "first_layer_kernels": "filters",
    "grad_cam": "cam",
    "heat_overlay": "views",
    "hierarchy_strip": "views",
    "imagenet_preprocess": "preprocess",
    "letterbox_geometry": "preprocess",
    "list_conv_layers": "layers",
    "mean_activation_overlay": "views",
    "pick_hierarchy_layers": "layers",
    "receptive_field_rect": "receptive_field",
    "render_lesson": "lesson",
    "yolo_preprocess": "preprocess",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    # PEP 562: import the submodule that defines `name` on first use, then cache the attribute
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
