"""Seeing inside the network: layer inventory and receptive fields, feature maps captured during the prediction
pass, first-layer filters, the convolution/pooling lesson, CAMs, FGSM and Teach-mode transfer learning.

Pure core: torch, numpy and cv2 only; `pytorch_grad_cam` is imported on the first CAM (it pulls in scikit-learn).
"""

from desktop_app.core.insight.adversarial import FgsmResult, fgsm
from desktop_app.core.insight.cam import (
    CamMethod,
    CamResult,
    default_eigencam_layers,
    default_gradcam_layer,
    eigen_cam,
    grad_cam,
)
from desktop_app.core.insight.filters import filter_response, first_layer_conv, first_layer_kernels
from desktop_app.core.insight.layers import (
    LayerInfo,
    LayerKind,
    backbone_layers,
    find_layer,
    first_conv,
    list_conv_layers,
    pick_hierarchy_layers,
)
from desktop_app.core.insight.lesson import ConvLesson, LessonKernel, LessonStage, Padding, conv_lesson, render_lesson
from desktop_app.core.insight.preprocess import (
    InputGeometry,
    Preprocess,
    ResizeMode,
    imagenet_preprocess,
    letterbox_geometry,
    yolo_preprocess,
)
from desktop_app.core.insight.receptive_field import RFState, receptive_field_rect
from desktop_app.core.insight.recorder import ActivationRecorder, FeatureMaps
from desktop_app.core.insight.teach import PenultimateFeatures, TeachSession, TrainReport
from desktop_app.core.insight.views import (
    GridLayout,
    channel_grid,
    draw_receptive_field,
    filter_tiles,
    filter_tiles_layout,
    heat_overlay,
    hierarchy_strip,
    mean_activation_overlay,
)

__all__ = [
    "ActivationRecorder", "CamMethod", "CamResult", "ConvLesson", "FeatureMaps", "FgsmResult", "GridLayout",
    "InputGeometry", "LayerInfo", "LayerKind", "LessonKernel", "LessonStage", "Padding", "PenultimateFeatures",
    "Preprocess", "RFState", "ResizeMode", "TeachSession", "TrainReport", "backbone_layers", "channel_grid",
    "conv_lesson", "default_eigencam_layers", "default_gradcam_layer", "draw_receptive_field",
    "eigen_cam", "fgsm", "filter_response", "filter_tiles", "filter_tiles_layout",
    "find_layer", "first_conv", "first_layer_conv", "first_layer_kernels", "grad_cam", "heat_overlay",
    "hierarchy_strip", "imagenet_preprocess", "letterbox_geometry", "list_conv_layers", "mean_activation_overlay",
    "pick_hierarchy_layers", "receptive_field_rect", "render_lesson", "yolo_preprocess",
]
