"""Panes that explain or fool the model: `gradcam` (Grad-CAM for classifiers, EigenCAM for YOLO detectors) and
`fgsm` (an adversarial perturbation of the live frame, before and after).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Mapping

import cv2
import numpy as np

from desktop_app.core.errors import InsightError
from desktop_app.core.frames import Frame
from desktop_app.core.insight import compose
from desktop_app.core.insight.adversarial import FgsmResult, fgsm
from desktop_app.core.insight.cam import (CamMethod, CamResult, EigenCamHooks, default_eigencam_layers, eigen_cam,
                                          grad_cam, grad_cam_with_scores, normalised_heat)
from desktop_app.core.insight.preprocess import letterbox_geometry
from desktop_app.core.insight.compose import Box
from desktop_app.core.insight.runner_base import (ClassifierLogits, LiveSettings, is_ultralytics, model_preprocess,
                                                  own_model_input)
from desktop_app.core.insight.views import heat_overlay
from desktop_app.core.models.base import ModelAdapter, PredictOptions
from desktop_app.core.models.postprocess import top_k_classification
from desktop_app.core.models.results import Classification, Detections, StageTimes
from desktop_app.core.models.tasks import Task
from desktop_app.core.pipeline import FinishPane, PaneOutput
from desktop_app.core.pane_types import scaled_text
from desktop_app.core.render import RenderStyle, clear_of, draw_banner, scaled_result
from desktop_app.core.render.canvas import shown_frame
from desktop_app.core.render.annotate import draw_detections_into
from desktop_app.core.render.classify import draw_classification_into
from desktop_app.core.render.text import draw_text_into


def _check_class(names: Mapping[int, str], class_id: int | None) -> int | None:
    if class_id is None:
        return None
    if int(class_id) not in names:
        raise InsightError(f"class {class_id} does not exist: this model has {len(names)} classes "
                           f"(0 to {len(names) - 1})")
    return int(class_id)


@dataclass(frozen=True, slots=True)
class _CamSettings:
    class_id: int | None = None


class GradCamRunner:
    """A class-activation heatmap over the frame with the model's answer: Grad-CAM of the top (or a chosen)
    class for classifiers, gradient-free EigenCAM on the maps feeding the head for YOLO detectors."""

    kind = "gradcam"

    def __init__(self, adapter: ModelAdapter, options: PredictOptions) -> None:
        self.adapter = adapter
        self.options = options
        self._classifier = adapter.info.task is Task.CLASSIFY
        self.method = CamMethod.GRAD_CAM if self._classifier else CamMethod.EIGEN_CAM
        self._preprocess = model_preprocess(adapter, options.imgsz)
        self._module = ClassifierLogits(adapter.torch_module) if self._classifier else adapter.torch_module
        # A classifier whose adapter prepares frames in a way this view can reuse is explained and answered from
        # one pass (the CAM's forward gives the prediction); others predict, then explain.
        self._own_input = own_model_input(adapter) if self._classifier else None
        self._settings = LiveSettings(_CamSettings())
        #: Overlay style for the detections over the heat; None sizes text from the frame (the GUI sets one that
        #: stays readable when the pane is shown small, as for task panes).
        self.style: RenderStyle | None = None
        #: Where the pipeline draws this pane's HUD (pane pixels), so box labels are placed clear of it.
        self.keep_clear: tuple[int, int, int, int] | None = None
        #: The size the composed view shows this pane at, when smaller than the frame (set by the pipeline):
        #: the heat and the answer are drawn at that size. None: at frame size.
        self.display_wh: tuple[int, int] | None = None
        # A YOLO detector's EigenCAM is read from its prediction pass by hooks: one forward pass per frame.
        self._hooks: EigenCamHooks | None = None
        if not self._classifier and is_ultralytics(adapter):
            self._hooks = self._hooks_on(adapter.torch_module)

    def _hooks_on(self, module) -> EigenCamHooks:
        iw, ih = self._preprocess.input_wh
        return EigenCamHooks(module, default_eigencam_layers(module, (ih, iw)))

    @property
    def label(self) -> str:
        name = "Grad-CAM" if self._classifier else "EigenCAM"
        return f"{name} · {self.adapter.info.display_name}"

    @property
    def class_id(self) -> int | None:
        """The class explained (None: the top class of each frame)."""
        return self._settings.value.class_id

    def set_class(self, class_id: int | None) -> None:
        """Explain `class_id` from the next frame on, or the top class when None (any thread)."""
        if class_id is not None and not self._classifier:
            raise InsightError("EigenCAM explains the whole detector at once; choosing a class needs a "
                               "classification model (Grad-CAM)")
        self._settings.update(class_id=_check_class(self.adapter.info.names, class_id))

    def _cam_of_the_prediction(self, frame: Frame) -> CamResult:
        """EigenCAM of the pass that just made the prediction, mapped through that pass's letterbox."""
        started = time.perf_counter()
        heat = self._hooks.heat()
        ih, iw = self._hooks.input_hw
        geometry = letterbox_geometry((frame.image.shape[1], frame.image.shape[0]), (iw, ih))
        frame_heat = normalised_heat(geometry.heat_to_frame(heat))
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        return CamResult(CamMethod.EIGEN_CAM, frame_heat, self._hooks.layer_names, elapsed_ms=elapsed_ms)

    def _predict_and_explain(self, frame: Frame, chosen: int | None) -> tuple[Classification, CamResult]:
        """A classifier's answer and its Grad-CAM from one forward pass (and the short backward), on exactly the
        input the adapter's own `predict` would make."""
        started = time.perf_counter()
        x = self._own_input(frame.image, self.options)
        if self._preprocess.input_wh != (int(x.shape[-1]), int(x.shape[-2])):  # the image size option changed
            self._preprocess = model_preprocess(self.adapter, int(x.shape[-1]))
        geometry = self._preprocess.geometry(frame.resolution_wh)
        prepared = time.perf_counter()
        cam, probability = grad_cam_with_scores(self._module, x, geometry, class_id=chosen,
                                                candidates=self.options.classes, names=self.adapter.info.names)
        answered = time.perf_counter()
        result = top_k_classification(probability, self.adapter.info.names, frame, self.options.top_k,
                                      self.options.classes)
        timings = StageTimes((prepared - started) * 1000.0, cam.elapsed_ms, (time.perf_counter() - answered) * 1000.0)
        return dataclasses.replace(result, timings=timings), cam

    def infer(self, frame: Frame, pane_index: int) -> FinishPane:
        """Predict and compute the CAM now; the step returned draws the heat with the prediction over the frame
        (on the pipeline's draw thread)."""
        if self._hooks is not None and self._hooks.module is not self.adapter.torch_module:
            self._hooks.close()  # the adapter rebuilt its model: the hooks follow it
            self._hooks = self._hooks_on(self.adapter.torch_module)
        chosen = self._settings.value.class_id
        if self._own_input is not None:
            result, cam = self._predict_and_explain(frame, chosen)
            timings = result.timings
        else:
            result = self.adapter.predict(frame, self.options)
            if self._classifier:
                class_id = chosen if chosen is not None else (int(result.class_id[0]) if len(result) else None)
                cam = grad_cam(self._module, self._preprocess, frame.image, class_id=class_id,
                               names=self.adapter.info.names)
            elif self._hooks is not None:
                cam = self._cam_of_the_prediction(frame)
            else:
                cam = eigen_cam(self._module, self._preprocess, frame.image)
            t = result.timings
            timings = StageTimes(t.preprocess_ms, t.inference_ms + cam.elapsed_ms, t.postprocess_ms)
        style, untrained, label = clear_of(self.style, self.keep_clear), self.adapter.info.untrained, self.label
        display_wh = self.display_wh
        if display_wh is not None:
            style = scaled_text(style, display_wh[1] / frame.image.shape[0])

        def draw() -> PaneOutput:
            started = time.perf_counter()
            if display_wh is None:
                image = heat_overlay(frame.image, cam.heat, alpha=0.5)
                shown = result
            else:  # drawn at the size it is shown: the heat is resized once, straight to it
                image = heat_overlay(shown_frame(frame.image, display_wh), cam.heat, alpha=0.5)
                shown = scaled_result(result, (display_wh[0] / frame.image.shape[1],
                                               display_wh[1] / frame.image.shape[0]))
            if isinstance(shown, Detections):
                draw_detections_into(image, shown, style)
            elif isinstance(shown, Classification):
                draw_classification_into(image, shown, compose.PANEL_STYLE)
            if self._classifier:
                which = "chosen class" if chosen is not None else "top class"
                caption = f"Grad-CAM: what makes it '{cam.class_name}' (#{cam.class_id}, {which})"
            else:
                caption = "EigenCAM: main activation pattern of the maps feeding the detector head"
            level = "info"
            if untrained:
                caption, level = caption + "  -  UNTRAINED model: random weights", "warning"
            image = draw_banner(image, caption, level)
            render_ms = (time.perf_counter() - started) * 1000.0
            extras = {"view": self.kind, "method": cam.method.value, "class_id": cam.class_id,
                      "class_name": cam.class_name, "cam_layers": cam.layer_names, "heat": cam.heat}
            return PaneOutput(pane_index, image, result, label, timings, render_ms, extras=extras)

        return draw

    def run(self, frame: Frame, pane_index: int) -> PaneOutput:
        """Predict, compute the CAM, and draw the heat with the prediction over the frame."""
        return self.infer(frame, pane_index)()

    @property
    def hook_count(self) -> int:
        """Hooks this view has on the model right now."""
        return self._hooks.hook_count if self._hooks is not None else 0

    def close(self) -> None:
        if self._hooks is not None:
            self._hooks.close()
        self.adapter.close()


@dataclass(frozen=True, slots=True)
class _FgsmSettings:
    epsilon: float = 2.0 / 255.0
    target: int | None = None


class FgsmRunner:
    """FGSM on the live frame: the classifier's input before and after a perturbation of `epsilon` per pixel,
    both top-5 answers, and the perturbation magnified."""

    kind = "fgsm"

    def __init__(self, adapter: ModelAdapter, options: PredictOptions, epsilon: float = 2.0 / 255.0) -> None:
        self.adapter = adapter
        self.options = options
        self._preprocess = model_preprocess(adapter, options.imgsz)
        self._module = ClassifierLogits(adapter.torch_module)
        self._settings = LiveSettings(_FgsmSettings())
        self.set_epsilon(epsilon)
        #: The size the composed view shows this pane at, when smaller than the frame (set by the pipeline).
        self.display_wh: tuple[int, int] | None = None

    @property
    def label(self) -> str:
        return f"FGSM eps {self.epsilon * 255:.1f}/255 · {self.adapter.info.display_name}"

    @property
    def epsilon(self) -> float:
        return self._settings.value.epsilon

    def set_epsilon(self, epsilon: float) -> None:
        """Perturb by `epsilon` per pixel (0 to 1 of the pixel range; 2/255 fools most classifiers)."""
        if not 0.0 <= float(epsilon) <= 1.0:
            raise InsightError(f"epsilon must be between 0 and 1 of the pixel range (e.g. 0.008 for 2/255), "
                               f"got {epsilon}")
        self._settings.update(epsilon=float(epsilon))

    def set_target(self, class_id: int | None) -> None:
        """Push the answer towards `class_id` (targeted attack), or away from the current answer when None."""
        self._settings.update(target=_check_class(self.adapter.info.names, class_id))

    def infer(self, frame: Frame, pane_index: int) -> FinishPane:
        """Attack the frame now; the step returned draws original | perturbed | perturbation with both answers
        (on the pipeline's draw thread)."""
        settings = self._settings.value
        attack = fgsm(self._module, self._preprocess, frame, settings.epsilon, settings.target,
                      names=self.adapter.info.names, top_k=self.options.top_k)
        label, pane_wh = self.label, self.display_wh or frame.resolution_wh

        def draw() -> PaneOutput:
            started = time.perf_counter()
            image = render_fgsm(attack, pane_wh)
            render_ms = (time.perf_counter() - started) * 1000.0
            extras = {"view": self.kind, "epsilon": attack.epsilon, "fooled": attack.fooled,
                      "original": attack.original, "perturbed": attack.perturbed, "target": attack.target_class_id}
            return PaneOutput(pane_index, image, attack.perturbed, label, StageTimes(0.0, attack.elapsed_ms, 0.0),
                              render_ms, extras=extras)

        return draw

    def run(self, frame: Frame, pane_index: int) -> PaneOutput:
        """Attack the frame and draw original | perturbed | perturbation with both answers."""
        return self.infer(frame, pane_index)()

    def close(self) -> None:
        self.adapter.close()


_FOOLED = (60, 60, 235)
_HELD = (90, 200, 90)


def render_fgsm(attack: FgsmResult, pane_wh: tuple[int, int]) -> np.ndarray:
    """Three columns: the model's input, the perturbed input, the perturbation magnified; top-5 under the first
    two, the original top-1 class highlighted in both lists."""
    canvas = compose.blank(pane_wh)
    scale = compose.text_scale(canvas.shape)
    eps_255 = attack.epsilon * 255.0
    gain = 127.5 / max(eps_255, 1.0)
    verdict = ("FOOLED: top-1 changed", _FOOLED) if attack.fooled else ("top-1 unchanged", _HELD)
    columns = [
        ("original", attack.clean_bgr, attack.original, ("what the model sees", compose.DETAIL)),
        (f"perturbed, eps {eps_255:.1f}/255", attack.adversarial_bgr, attack.perturbed, verdict),
        (f"perturbation x{gain:.0f}", attack.perturbation_bgr, None, ("grey = pixel unchanged", compose.DETAIL)),
    ]
    top1 = int(attack.original.class_id[0]) if len(attack.original) else None
    caption_h = compose.lines_height(2, scale)
    for box, (title, image, answer, note) in zip(compose.split_even(Box(0, 0, *pane_wh).inset(6), 3, gap=10),
                                                 columns):
        # image on top (the HUD covers its corner as on any frame), captions under it, then the answers
        side = max(1, min(box.w, int((box.h - caption_h) * 0.55)))
        placement = compose.fit(image.shape[1::-1], Box(box.x, box.y, box.w, side), valign="bottom")
        compose.paste(canvas, image, placement, cv2.INTER_NEAREST if placement.scale > 1 else cv2.INTER_AREA)
        below = box.y + side + 6
        below += compose.draw_lines(canvas, [(title, compose.CAPTION), note], Box(box.x, below, box.w, caption_h),
                                    scale)
        if answer is not None:
            draw_top_k(canvas, Box(box.x, below + 4, box.w, box.y + box.h - below - 4), answer, scale * 0.9, top1)
    return canvas


def draw_top_k(canvas: np.ndarray, box: Box, answer: Classification, scale: float,
               highlight_id: int | None = None) -> None:
    """Class names with percentages above probability bars, in `box`, in place."""
    if len(answer) == 0 or box.h <= 0:
        return
    text_h = compose.lines_height(1, scale) - 4
    row_h = max(8, min(box.h // len(answer), int(text_h * 1.9)))
    text_h = min(text_h, int(row_h * 0.6))
    scale = min(scale, max(0.3, text_h / 26.0))
    for i, (cid, name, p) in enumerate(zip(answer.class_id, answer.class_name, answer.probability)):
        y = box.y + i * row_h
        color = compose.HIGHLIGHT if int(cid) == highlight_id else compose.CAPTION
        draw_text_into(canvas, f"{name[:28]}  {100 * float(p):.1f}%", (box.x, y + text_h), color, scale)
        bar_y = y + text_h + 3
        bar_h = max(2, row_h - text_h - 6)
        cv2.rectangle(canvas, (box.x, bar_y), (box.x + box.w - 1, bar_y + bar_h), (70, 70, 70), -1)
        cv2.rectangle(canvas, (box.x, bar_y), (box.x + int((box.w - 1) * float(p)), bar_y + bar_h), color, -1)
