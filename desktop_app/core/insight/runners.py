"""Every insight concept as a pane kind: `features`, `hierarchy`, `filters`, `lesson`, `gradcam`, `fgsm`, `teach`.

Importing this module registers the kinds with `desktop_app.core.panes`, so `build_runner(PaneSpec(kind, model))`,
the CLI (`--task features`, `--pane gradcam:efficientnet-lite0`) and the GUI all reach them. It stays cheap to
import (no torch): each builder imports its runner module when a pane of that kind is first built.
"""

from __future__ import annotations

from typing import Callable

from desktop_app.core.panes import ProgressCallback, register_view
from desktop_app.core.pipeline import PaneRunner, PaneSpec


def _build(kind: str, make: Callable, *, needs_classifier: bool = False, loads_model: bool = True):
    """A builder that loads the pane's model for `kind` and hands it to `make(adapter, options)`; the model is
    released again if the runner cannot be made."""

    def builder(spec: PaneSpec, device: str, progress: ProgressCallback | None = None) -> PaneRunner:
        if not loads_model:
            return make(None, spec.options)
        from desktop_app.core.insight.runner_base import load_view_model

        adapter = load_view_model(kind, spec.model, device, progress, imgsz=spec.options.imgsz,
                                  needs_classifier=needs_classifier)
        try:
            return make(adapter, spec.options)
        except BaseException:
            adapter.close()
            raise

    return builder


def _features(adapter, options):
    from desktop_app.core.insight.feature_runners import FeaturesRunner

    return FeaturesRunner(adapter, options)


def _hierarchy(adapter, options):
    from desktop_app.core.insight.hierarchy_runner import HierarchyRunner

    return HierarchyRunner(adapter, options)


def _filters(adapter, options):
    from desktop_app.core.insight.lesson_runners import FiltersRunner

    return FiltersRunner(adapter, options)


def _lesson(adapter, options):
    from desktop_app.core.insight.lesson_runners import LessonRunner

    return LessonRunner()


def _gradcam(adapter, options):
    from desktop_app.core.insight.explain_runners import GradCamRunner

    return GradCamRunner(adapter, options)


def _fgsm(adapter, options):
    from desktop_app.core.insight.explain_runners import FgsmRunner

    return FgsmRunner(adapter, options)


def _teach(adapter, options):
    from desktop_app.core.insight.teach_runner import TeachRunner

    return TeachRunner(adapter, options)


register_view("features", _build("features", _features),
              "feature maps of one layer: its strongest channels, and its mean activation over the frame")
register_view("hierarchy", _build("hierarchy", _hierarchy),
              "early, middle and deep layers side by side: edges -> textures -> parts")
register_view("filters", _build("filters", _filters),
              "first-layer kernels as colour tiles, and one filter's response on the frame")
register_view("lesson", _build("lesson", _lesson, loads_model=False),
              "convolution, padding, 2x2 max pool and stride worked out on a patch of the frame (no model)")
register_view("gradcam", _build("gradcam", _gradcam),
              "what drove the answer: Grad-CAM for classifiers, EigenCAM for YOLO detectors")
register_view("fgsm", _build("fgsm", _fgsm, needs_classifier=True),
              "adversarial example: an FGSM perturbation and the classifier's answers before and after")
register_view("teach", _build("teach", _teach, needs_classifier=True),
              "transfer learning: capture frames of 2-5 classes, train a new head, classify live")
