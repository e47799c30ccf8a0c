"""Insight views in a 4-pane layout lay themselves out and draw at the size the composed view shows them, and
their clicks still land on the right place of the frame."""

from __future__ import annotations

import pytest

from desktop_app.core.frames import Frame
from desktop_app.core.models.base import PredictOptions
from desktop_app.core.pipeline import PaneSpec, Pipeline, display_sizes_wh
from desktop_app.core.render import Layout

pytestmark = pytest.mark.slow


def test_views_in_four_panes_draw_at_their_shown_size_and_clicks_map_to_the_frame():
    from desktop_app.core.panes import build_runner
    from insight_helpers import bus_on_grey

    image, _ = bus_on_grey((1280, 720), scale=0.9, top_left=(200, 60))
    options = PredictOptions(imgsz=320)
    specs = [PaneSpec("features", "yolo11n-pose", options), PaneSpec("hierarchy", "yolo11n-pose", options),
             PaneSpec("gradcam", "efficientnet-lite0", options), PaneSpec("fgsm", "efficientnet-lite0", options)]
    runners = [build_runner(spec, "cpu") for spec in specs]
    pipeline = Pipeline(runners, Layout.FOUR)
    try:
        out = pipeline.process(Frame(image, 0, 0.0))
        size = display_sizes_wh((1280, 720), Layout.FOUR)[0]
        assert size[0] < 1280
        for pane in out.panes:
            assert pane.error is None, pane.error
            assert pane.image.shape == (size[1], size[0], 3), pane.label
        # the Grad-CAM heat stays a frame-sized map for anyone who reads it; only the picture is smaller
        assert out.panes[2].extras["heat"].shape == (720, 1280)
        # a click at the centre of the features pane's picture of the frame is the frame's centre
        features = runners[0]
        view = features._layout.view
        hit = features.receptive_field_at(view.box.x + view.box.w / 2, view.box.y + view.box.h / 2)
        x0, y0, x1, y1 = hit.rect_xyxy
        assert abs((x0 + x1) / 2 - 640) < 40 and abs((y0 + y1) / 2 - 360) < 40
        # the filters, the convolution lesson and teach mode too
        pipeline.swap_runner(1, build_runner(PaneSpec("filters", "efficientnet-lite0", options), "cpu"))
        pipeline.swap_runner(3, build_runner(PaneSpec("lesson", "none", options), "cpu"))
        pipeline.swap_runner(2, build_runner(PaneSpec("teach", "efficientnet-lite0", options), "cpu"))
        out = pipeline.process(Frame(image, 1, 0.0))
        for pane in out.panes:
            assert pane.error is None, pane.error
            assert pane.image.shape == (size[1], size[0], 3), pane.label
        filters = pipeline.runners[1]
        tile = filters._layout
        x, y = tile.grid.cell_origin(2)
        assert filters.filter_at(tile.origin[0] + x + 2, tile.origin[1] + y + 2) == 2  # a click on tile 2, as shown
        # the same frame in one pane: drawn at frame size
        pipeline.set_layout(Layout.ONE)
        single = pipeline.process(Frame(image, 2, 0.0))
        assert single.panes[0].image.shape == (720, 1280, 3)
    finally:
        pipeline.close()
