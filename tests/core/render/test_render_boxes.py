import numpy as np
import pytest

from desktop_app.core.render import RenderStyle, annotate, box_label, class_color, draw_boxes, track_color
from desktop_app.core.render.text import measure_label

NO_TEXT = RenderStyle(line_width=2, show_labels=False, show_confidence=False, show_track_id=False)


def test_box_edges_have_the_class_color_and_everything_else_is_untouched(make_detections, noise_frame):
    det = make_detections([[20, 30, 60, 80]], class_id=[3])
    out = draw_boxes(noise_frame, det, NO_TEXT)
    color = class_color(3)
    # Exactly 2 px wide, lying inside the half-open box [20, 60) x [30, 80).
    for x, y in [(20, 50), (21, 50), (59, 50), (58, 50), (40, 30), (40, 31), (40, 79), (40, 78)]:
        assert tuple(out[y, x]) == color, (x, y)
    changed = (out != noise_frame).any(axis=2)
    ring = np.zeros_like(changed)
    ring[30:80, 20:60] = True
    ring[32:78, 22:58] = False
    assert not (changed & ~ring).any()  # outside the box and the box interior keep their pixels


@pytest.mark.parametrize("names, conf, track, style, expected", [
    (("person",), 0.873, None, RenderStyle(), "person 0.87"),
    (("person",), 0.873, [12], RenderStyle(), "person 0.87 #12"),
    (("person",), 0.873, [12], RenderStyle(show_confidence=False), "person #12"),
    (("person",), 0.873, [12], RenderStyle(show_track_id=False), "person 0.87"),
    (("person",), 0.873, None, RenderStyle(show_labels=False), "0.87"),
    (("person",), 0.873, None, RenderStyle(show_labels=False, show_confidence=False), ""),
])
def test_box_label_text(make_detections, names, conf, track, style, expected):
    det = make_detections([[0, 0, 10, 10]], confidence=[conf], names=names, track_id=track)
    assert box_label(det, 0, style) == expected


def test_label_sits_above_the_box_in_the_box_color(make_detections, gray_frame):
    det = make_detections([[40, 60, 120, 110]], class_id=[1])
    out = draw_boxes(gray_frame, det, RenderStyle(line_width=1, text_scale=0.4))
    size = measure_label(box_label(det, 0), 0.4)
    label = out[60 - size.height:60, 40:40 + size.width]
    assert (label.reshape(-1, 3) == class_color(1)).all(axis=1).mean() > 0.5
    assert (out[62:100, 45:115] == 128).all()  # box interior clear


def test_label_goes_inside_the_box_when_there_is_no_room_above(make_detections, gray_frame):
    det = make_detections([[40, 2, 120, 110]], class_id=[1])
    out = draw_boxes(gray_frame, det, RenderStyle(line_width=1, text_scale=0.4))
    size = measure_label(box_label(det, 0), 0.4)
    label = out[2:2 + size.height, 40:40 + size.width]
    assert (label.reshape(-1, 3) == class_color(1)).all(axis=1).mean() > 0.5


def test_track_color_used_when_tracking(make_detections, gray_frame):
    det = make_detections([[20, 30, 60, 80]], class_id=[3], track_id=[5])
    out = draw_boxes(gray_frame, det, NO_TEXT)
    assert tuple(out[50, 20]) == track_color(5) != class_color(3)


@pytest.mark.parametrize("xyxy", [
    [[-50, -40, 30, 20]],            # off the top-left corner
    [[140, 100, 400, 300]],          # off the bottom-right corner
    [[500, 500, 600, 600]],          # entirely outside
    [[10, 10, 10, 10]],              # zero size
    [[np.nan, 5, 20, 20]],           # not drawable
    [[-1e12, -1e12, 1e12, 1e12]],    # absurd coordinates
])
def test_boxes_and_labels_at_or_past_the_frame_edges_draw_without_error(make_detections, gray_frame, xyxy):
    det = make_detections(xyxy, names=["a rather long class name"])
    out = annotate(gray_frame, det)
    assert out.shape == gray_frame.shape and out.dtype == np.uint8


def test_most_confident_object_is_drawn_on_top(make_detections, gray_frame):
    det = make_detections([[20, 20, 80, 80], [20, 20, 80, 80]], class_id=[1, 2], confidence=[0.9, 0.4])
    out = draw_boxes(gray_frame, det, NO_TEXT)
    assert tuple(out[50, 20]) == class_color(1)


def test_empty_detections_return_an_equal_new_frame(make_detections, gray_frame):
    det = make_detections(np.zeros((0, 4)))
    out = draw_boxes(gray_frame, det)
    assert np.array_equal(out, gray_frame) and out is not gray_frame and out.flags.writeable
