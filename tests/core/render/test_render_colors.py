import numpy as np
import pytest

from desktop_app.core.render import PALETTE, ColorBy, class_color, detection_colors, readable_text_color, track_color
from desktop_app.core.render.colors import BLACK, WHITE, contrast_ratio, palette_indices


def test_class_colors_are_stable_and_distinct_across_the_palette():
    assert [class_color(c) for c in range(50)] == [class_color(c) for c in range(50)]
    first_cycle = [class_color(c) for c in range(len(PALETTE))]
    assert len(set(first_cycle)) == len(PALETTE)
    assert class_color(3) == class_color(3 + len(PALETTE))


def test_consecutive_track_ids_get_different_colors():
    colors = [track_color(t) for t in range(len(PALETTE))]
    assert len(set(colors)) == len(PALETTE)
    assert all(a != b for a, b in zip(colors, colors[1:]))


@pytest.mark.parametrize("color_by, with_tracks, expected", [
    (ColorBy.AUTO, False, "class"),
    (ColorBy.AUTO, True, "track"),
    (ColorBy.CLASS, True, "class"),
    (ColorBy.TRACK, True, "track"),
    (ColorBy.TRACK, False, "class"),  # nothing to track by: fall back to the class
])
def test_color_by_picks_class_or_track(make_detections, color_by, with_tracks, expected):
    det = make_detections([[0, 0, 5, 5], [5, 5, 9, 9]], class_id=[2, 2],
                          track_id=[4, 9] if with_tracks else None)
    colors = detection_colors(det, color_by)
    want = [track_color(t) for t in (4, 9)] if expected == "track" else [class_color(2)] * 2
    assert [tuple(int(v) for v in c) for c in colors] == want
    assert palette_indices(det, color_by).shape == (2,)


def test_same_class_same_color_in_different_frames(make_detections):
    a = make_detections([[0, 0, 5, 5]], class_id=[7])
    b = make_detections([[50, 50, 90, 90], [1, 1, 2, 2]], class_id=[1, 7])
    assert tuple(detection_colors(a)[0]) == tuple(detection_colors(b)[1])


@pytest.mark.parametrize("background, expected", [
    ((0, 255, 255), BLACK),  # yellow
    ((255, 255, 255), BLACK),
    ((120, 20, 0), WHITE),  # dark blue
    ((0, 0, 0), WHITE),
])
def test_readable_text_color(background, expected):
    assert readable_text_color(background) == expected


def test_every_palette_color_gets_a_readable_label_text():
    # WCAG AA for large text is 3:1; black or white on any palette colour must reach it.
    ratios = [contrast_ratio(c, readable_text_color(c)) for c in PALETTE]
    assert min(ratios) >= 3.0, ratios
    assert np.isclose(contrast_ratio(BLACK, WHITE), 21.0)
