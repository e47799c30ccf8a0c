import numpy as np
import pytest

from desktop_app.core.render import ascii_safe, draw_label
from desktop_app.core.render.text import LabelBox, measure_label, place_label, truncate_to_width


@pytest.mark.parametrize("text, expected", [
    ("person", "person"),
    ("UNTRAINED \u2014 random weights", "UNTRAINED - random weights"),
    ("caf\u00e9 cr\u00e8me", "cafe creme"),
    ("\u201cquoted\u201d \u2026", '"quoted" ...'),
    ("\u732b", "?"),
])
def test_ascii_safe(text, expected):
    assert ascii_safe(text) == expected


SIZE = LabelBox(width=40, height=12, baseline=3, padding=2)


@pytest.mark.parametrize("box_xy, frame_wh, expected", [
    ((20, 50), (200, 100), (20, 38)),    # room above: label sits on the box's top edge
    ((20, 5), (200, 100), (20, 5)),      # no room above: hangs inside the box
    ((180, 50), (200, 100), (160, 38)),  # at the right edge: shifted left to stay in the frame
    ((-30, 50), (200, 100), (0, 38)),    # box starts left of the frame
    ((20, 150), (200, 100), (20, 88)),   # box below the frame: label kept at the bottom
    ((20, 50), (30, 100), (0, 38)),      # frame narrower than the label: starts at 0, cv2 clips the rest
])
def test_place_label(box_xy, frame_wh, expected):
    assert place_label(SIZE, box_xy[0], box_xy[1], frame_wh) == expected


HUD = (4, 4, 90, 40)  # a HUD box in the top-left corner


@pytest.mark.parametrize("box_xy, expected", [
    ((20, 30), (20, 40)),    # above the box would be under the HUD: just below it instead
    ((20, 5), (20, 40)),     # inside the box, under the HUD too: below it
    ((120, 30), (120, 18)),  # beside the HUD: where it always goes
    ((20, 80), (20, 68)),    # below the HUD: unchanged
])
def test_labels_step_out_from_under_the_hud(box_xy, expected):
    assert place_label(SIZE, box_xy[0], box_xy[1], (200, 100), HUD) == expected
    # In a frame too short to go below the HUD, the label still stays inside the frame.
    assert place_label(SIZE, 20, 30, (200, 45), HUD) == (20, 33)


@pytest.mark.parametrize("top_left", [(-20, -10), (150, 110), (500, 500), (-500, 40)])
def test_label_partly_or_fully_outside_the_frame_is_clipped_without_error(gray_frame, top_left):
    out = draw_label(gray_frame, "a long label that will not fit", top_left, (0, 0, 255), 0.5)
    assert out.shape == gray_frame.shape
    assert not np.shares_memory(out, gray_frame)


def test_label_background_and_contrasting_text(gray_frame):
    out = draw_label(gray_frame, "dog 0.50", (10, 10), (0, 255, 255), 0.5)
    size = measure_label("dog 0.50", 0.5)
    region = out[10:10 + size.height, 10:10 + size.width].reshape(-1, 3)
    colors = {tuple(int(v) for v in p) for p in region}
    assert (0, 255, 255) in colors  # the filled background
    assert any(sum(c) < 100 for c in colors)  # black text on the yellow background
    assert (out[10 + size.height + 2, 10] == 128).all()  # nothing below the label


def test_truncate_to_width_shortens_long_names():
    text = "trolleybus, trolley coach, trackless trolley"
    short = truncate_to_width(text, 80, 0.5)
    assert short.endswith("...") and len(short) < len(text)
    assert measure_label(short, 0.5).width <= 80
    assert truncate_to_width("bus", 80, 0.5) == "bus"
