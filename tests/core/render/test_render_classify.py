import numpy as np
import pytest

from desktop_app.core.render import Corner, RenderStyle, class_color, draw_classification

WHITE_FRAME = np.full((240, 320, 3), 255, np.uint8)


def darkened(out):
    return (out < 200).all(axis=2)


@pytest.mark.parametrize("corner", list(Corner))
def test_panel_sits_in_the_requested_corner(make_classification, corner):
    out = draw_classification(WHITE_FRAME, make_classification([0.6, 0.3, 0.1]), RenderStyle(panel_corner=corner))
    ys, xs = np.nonzero(darkened(out))
    assert len(ys) > 0
    top = corner in (Corner.TOP_LEFT, Corner.TOP_RIGHT)
    left = corner in (Corner.TOP_LEFT, Corner.BOTTOM_LEFT)
    assert (ys.max() < 160) if top else (ys.min() > 80)
    assert (xs.max() < 240) if left else (xs.min() > 80)


def test_bars_are_as_long_as_their_probability(make_classification):
    result = make_classification([0.8, 0.2], class_ids=[3, 5])
    out = draw_classification(WHITE_FRAME, result, RenderStyle(text_scale=0.5))
    lengths = []
    for class_id in (3, 5):
        in_color = (out == class_color(class_id)).all(axis=2)
        rows = np.nonzero(in_color.any(axis=1))[0]
        assert len(rows) > 0
        lengths.append(in_color[rows[len(rows) // 2]].sum())
    assert lengths[0] / lengths[1] == pytest.approx(4.0, rel=0.1)


def test_panel_is_translucent(make_classification):
    frame = np.zeros((240, 320, 3), np.uint8)
    frame[:, 30:] = 255  # the panel crosses a black/white edge
    out = draw_classification(frame, make_classification([0.9]), RenderStyle(panel_alpha=0.5))
    ys, _ = np.nonzero((out[:, 20:40] != frame[:, 20:40]).any(axis=2))
    row = ys.min() + 1  # the panel's top padding row, free of text
    assert 0 < out[row, 29, 0] < out[row, 30, 0] < 255  # darkened, yet the frame still shows through


def test_shows_at_most_top_k_rows_and_long_names_fit(make_classification):
    result = make_classification([0.3, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05],
                                 names=["x" * 80] + [f"c{i}" for i in range(6)])
    out = draw_classification(WHITE_FRAME, result, RenderStyle(top_k=2))
    assert not (out == class_color(2)).all(axis=2).any()  # third row not drawn
    assert darkened(out)[:, 240:].sum() == 0  # panel stays within 60 % of the width (+ margin)


def test_empty_classification_returns_an_equal_frame(make_classification):
    out = draw_classification(WHITE_FRAME, make_classification(np.zeros(0)))
    assert np.array_equal(out, WHITE_FRAME)
