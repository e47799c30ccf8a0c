import numpy as np
import pytest

from desktop_app.core.models.tasks import Task
from desktop_app.core.render import RenderStyle, annotate, class_color


def test_segmentation_result_gets_masks_and_boxes(make_detections, gray_frame):
    mask = np.zeros((1, 120, 160), bool)
    mask[0, 40:80, 40:80] = True
    det = make_detections([[40, 40, 80, 80]], class_id=[2], task=Task.SEGMENT, mask=mask)
    out = annotate(gray_frame, det, RenderStyle(line_width=2, mask_alpha=0.5))
    assert tuple(out[60, 40]) == class_color(2)  # box / outline edge
    inside = np.round(128 * 0.5 + np.asarray(class_color(2)) * 0.5)
    assert np.abs(out[60, 60] - inside).max() <= 1  # blended interior
    assert (out[100, 150] == 128).all()


def test_classification_result_gets_the_panel(make_classification, gray_frame):
    out = annotate(gray_frame, make_classification([0.7, 0.3]))
    assert not np.array_equal(out, gray_frame)


def test_style_toggles_switch_overlays_off(make_detections, gray_frame):
    mask = np.ones((1, 120, 160), bool)
    keypoints = np.full((1, 17, 3), 50, np.float32)
    det = make_detections([[10, 10, 100, 100]], task=Task.POSE, mask=mask, keypoints=keypoints)
    off = RenderStyle(show_boxes=False, show_labels=False, show_confidence=False, show_masks=False,
                      show_keypoints=False, show_skeleton=False)
    assert np.array_equal(annotate(gray_frame, det, off), gray_frame)


@pytest.mark.parametrize("task", [Task.DETECT, Task.SEGMENT, Task.POSE])
def test_empty_detections_return_an_equal_new_frame(make_detections, gray_frame, task):
    det = make_detections(np.zeros((0, 4)), task=task)
    out = annotate(gray_frame, det)
    assert np.array_equal(out, gray_frame) and not np.shares_memory(out, gray_frame)


def test_input_frame_is_never_modified(make_detections, make_classification):
    frame = np.random.default_rng(3).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    before = frame.copy()
    mask = np.zeros((1, 120, 160), bool)
    mask[0, 10:50, 10:50] = True
    det = make_detections([[10, 10, 50, 50]], task=Task.SEGMENT, mask=mask,
                          keypoints=np.full((1, 17, 3), 30, np.float32))
    annotate(frame, det)
    annotate(frame, make_classification([0.5, 0.5]))
    assert np.array_equal(frame, before)


@pytest.mark.parametrize("image", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32),
                                   np.zeros((10, 10, 4), np.uint8)])
def test_non_bgr_frames_are_rejected(make_detections, image):
    with pytest.raises(ValueError, match="uint8"):
        annotate(image, make_detections(np.zeros((0, 4))))


def test_unknown_result_type_is_rejected(gray_frame):
    with pytest.raises(TypeError, match="Classification or Detections"):
        annotate(gray_frame, "not a result")


@pytest.mark.parametrize("kwargs", [{"mask_alpha": 1.5}, {"keypoint_threshold": -0.1}, {"line_width": 0},
                                    {"text_scale": 0}, {"top_k": 0}, {"color_by": "rainbow"}])
def test_invalid_style_is_rejected(kwargs):
    with pytest.raises(ValueError):
        RenderStyle(**kwargs)


@pytest.mark.parametrize("shape, line_width, text_scale", [
    ((720, 1280), 3, 0.6), ((1080, 1920), 4, 0.9), ((64, 64), 1, 0.35),
])
def test_sizes_follow_the_frame(shape, line_width, text_scale):
    style = RenderStyle()
    assert style.line_width_px(shape) == line_width
    assert style.text_scale_for(shape) == pytest.approx(text_scale)


def _segment_and_pose(make_detections, height, width, *, masks=True, keypoints=True):
    mask_stack = np.zeros((2, height, width), bool)
    mask_stack[0, 100:300, 200:400] = True
    mask_stack[1, 50:150, 600:700] = True
    points = np.zeros((2, 17, 3), np.float32)
    points[:, :, 2] = 0.9
    points[0, :, 0], points[0, :, 1] = np.linspace(210, 390, 17), np.linspace(110, 290, 17)
    points[1, :, 0], points[1, :, 1] = np.linspace(610, 690, 17), np.linspace(60, 140, 17)
    return make_detections([[200, 100, 400, 300], [600, 50, 700, 150]], class_id=[0, 5], task=Task.SEGMENT,
                           mask=mask_stack if masks else None, keypoints=points if keypoints else None)


@pytest.mark.parametrize("content", ["boxes", "masks", "pose", "all"])
def test_drawing_at_the_shown_size_matches_drawing_big_and_shrinking(make_detections, content):
    from desktop_app.core.render import annotate_at, resize_for_display

    height, width, size = 720, 1280, (958, 539)
    frame = np.random.default_rng(3).integers(60, 200, (height, width, 3), dtype=np.uint8)
    det = _segment_and_pose(make_detections, height, width, masks=content in ("masks", "all"),
                            keypoints=content in ("pose", "all"))
    # text sizes round differently at two sizes; the geometry must agree
    style = RenderStyle(show_labels=False, show_boxes=content in ("boxes", "all"))
    small = annotate_at(frame, det, size, style)
    shrunk = resize_for_display(annotate(frame, det, style), size)
    plain = resize_for_display(frame, size)
    assert small.shape == (539, 958, 3)
    changed_small = (small != plain).any(axis=2)
    changed_shrunk = np.abs(shrunk.astype(int) - plain).max(axis=2) > 8
    # the same pixels are drawn on, up to the one-pixel seams of resampling
    assert changed_shrunk.sum() > 500
    assert (changed_small & changed_shrunk).sum() > 0.7 * changed_shrunk.sum()
    assert (changed_small & ~changed_shrunk).sum() < 0.3 * changed_small.sum()
    if content == "masks":  # inside the first mask, away from its outline, the blend is the same colour
        assert np.abs(small[130, 180].astype(int) - shrunk[130, 180]).max() <= 12


def test_drawing_at_the_shown_size_leaves_the_frame_and_result_as_they_were(make_detections):
    from desktop_app.core.render import annotate_at

    frame = np.full((720, 1280, 3), 90, np.uint8)
    frame.setflags(write=False)
    det = _segment_and_pose(make_detections, 720, 1280)
    before = (det.xyxy.copy(), det.keypoints.copy())
    annotate_at(frame, det, (640, 360))
    assert np.array_equal(det.xyxy, before[0]) and np.array_equal(det.keypoints, before[1])
    assert annotate_at(frame, det, (1280, 720)).shape == (720, 1280, 3)  # at frame size: the plain annotate
