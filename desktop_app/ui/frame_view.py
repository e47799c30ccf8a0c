"""The live picture: stores only the newest composed frame and converts it to a `QImage` when Qt paints.

Qt merges repeated `update()` calls into one paint, so frames that arrive faster than the screen refreshes are
dropped for free and nothing queues on the UI thread.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

BACKGROUND = QColor(18, 18, 22)
PLACEHOLDER_TEXT = QColor(200, 200, 210)
NOTICE_BACKGROUND = QColor(179, 107, 0, 210)


def fit_rect(image_wh: tuple[int, int], area: QRectF) -> QRectF:
    """The largest rectangle with the image's aspect ratio centred in `area`."""
    width, height = image_wh
    if width <= 0 or height <= 0 or area.width() <= 0 or area.height() <= 0:
        return QRectF()
    scale = min(area.width() / width, area.height() / height)
    w, h = width * scale, height * scale
    return QRectF(area.x() + (area.width() - w) / 2, area.y() + (area.height() - h) / 2, w, h)


def bgr_to_qimage(image: np.ndarray) -> QImage:
    """Wrap a C-contiguous (H, W, 3) uint8 BGR array as a QImage without copying.

    The QImage points into the array's memory: the caller keeps the array alive while the image is used.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {image.shape} {image.dtype}")
    if not image.flags["C_CONTIGUOUS"]:
        raise ValueError("image must be C-contiguous")
    height, width = image.shape[:2]
    return QImage(image.data, width, height, image.strides[0], QImage.Format.Format_BGR888)


class DisplayBuffer:
    """A frame in Qt's native 32-bit layout, converted by OpenCV into one reused buffer.

    `Format_RGB32` pixels are 0xffRRGGBB words: on a little-endian machine their bytes are B, G, R, 255, which is
    OpenCV's BGRA. Qt scales and draws that 2-2.5x faster than 24-bit BGR (1.87 vs 0.78 ms for a 720p frame into
    1600x900 here), and the conversion costs ~0.15 ms. Big-endian machines keep the 24-bit path.
    """

    def __init__(self) -> None:
        self._buffer: np.ndarray | None = None

    def qimage(self, image: np.ndarray) -> QImage:
        """`image` (H, W, 3) uint8 BGR as a QImage over this buffer (valid until the next call)."""
        if sys.byteorder != "little":
            return bgr_to_qimage(image)
        height, width = image.shape[:2]
        if self._buffer is None or self._buffer.shape[:2] != (height, width):
            self._buffer = np.empty((height, width, 4), np.uint8)
        cv2.cvtColor(image, cv2.COLOR_BGR2BGRA, dst=self._buffer)
        return QImage(self._buffer.data, width, height, width * 4, QImage.Format.Format_RGB32)


def paint_frame(painter: QPainter, image: np.ndarray, area: QRectF, buffer: DisplayBuffer) -> QRectF:
    """Draw a BGR frame into `area`, aspect ratio kept and smoothly scaled, as the view shows it; returns where."""
    target = fit_rect((image.shape[1], image.shape[0]), area)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    painter.drawImage(target, buffer.qimage(image))
    return target


def display_probe(view_wh: tuple[int, int] = (1600, 900)) -> Callable[[np.ndarray], None]:
    """For `cnnlens bench`: a function doing for one composed frame what the window does to show it, on a
    `view_wh` surface in the format of a window's backing store (RGB32): wrap it as a QImage, scale and draw it.
    Starts an offscreen QGuiApplication when none runs."""
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        display_probe.app = QGuiApplication([])  # kept alive with the function
    surface = QImage(view_wh[0], view_wh[1], QImage.Format.Format_RGB32)
    area = QRectF(0, 0, view_wh[0], view_wh[1])
    buffer = DisplayBuffer()

    def show(image: np.ndarray) -> None:
        painter = QPainter(surface)
        painter.fillRect(area, BACKGROUND)
        paint_frame(painter, image, area, buffer)
        painter.end()

    show.surface = surface  # what was painted last, for tests
    return show


class FrameView(QWidget):
    """Shows the newest composed frame, aspect ratio kept, on a dark background.

    `painted(tag, paint_monotonic_s)` fires after a new frame reached the screen, so the caller can measure
    capture-to-display latency at the moment of display.
    """

    painted = Signal(object, float)
    clicked = Signal(float, float)  # (x, y) pixel of the frame on screen that was clicked

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._image: np.ndarray | None = None
        self._display = DisplayBuffer()
        self._tag: object = None
        self._tag_painted = True
        self._placeholder = "Starting…"
        self._notice: str | None = None
        self.paint_count = 0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def sizeHint(self) -> QSize:
        return QSize(1280, 720)

    def set_frame(self, image: np.ndarray, tag: object = None) -> None:
        """Store `image` (H, W, 3) uint8 BGR as the frame to show next; older, unpainted frames are dropped."""
        if not image.flags["C_CONTIGUOUS"]:
            image = np.ascontiguousarray(image)
        self._image = image
        self._tag = tag
        self._tag_painted = False
        self.update()

    def set_placeholder(self, text: str) -> None:
        """Text shown while there is no frame (and after `clear()`)."""
        self._placeholder = text
        if self._image is None:
            self.update()

    def set_notice(self, text: str | None) -> None:
        """A banner over the picture (e.g. "camera 0: reconnecting…"); None removes it."""
        if text != self._notice:
            self._notice = text
            self.update()

    @property
    def notice(self) -> str | None:
        return self._notice

    def clear(self, placeholder: str | None = None) -> None:
        """Drop the current frame, e.g. when the source changes."""
        self._image = None
        self._tag = None
        self._tag_painted = True
        if placeholder is not None:
            self._placeholder = placeholder
        self.update()

    @property
    def has_frame(self) -> bool:
        return self._image is not None

    @property
    def current_image(self) -> np.ndarray | None:
        """The frame on screen (read-only use)."""
        return self._image

    @property
    def current_tag(self) -> object:
        """The tag given with the frame on screen (the session passes its `DisplayFrame`)."""
        return self._tag

    def image_rect(self) -> QRectF:
        """Where the frame is drawn, in widget coordinates (empty without a frame)."""
        if self._image is None:
            return QRectF()
        height, width = self._image.shape[:2]
        return fit_rect((width, height), QRectF(self.rect()))

    def map_to_image(self, pos: QPointF) -> tuple[float, float] | None:
        """Widget position -> (x, y) pixel of the frame, or None outside the drawn frame."""
        rect = self.image_rect()
        if rect.isEmpty() or not rect.contains(pos) or self._image is None:
            return None
        height, width = self._image.shape[:2]
        x = (pos.x() - rect.x()) * width / rect.width()
        y = (pos.y() - rect.y()) * height / rect.height()
        return x, y

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        pixel = self.map_to_image(event.position())
        if pixel is not None and event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(*pixel)
        super().mousePressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        image = self._image  # keep a local reference: the QImage borrows this array's memory
        if image is None:
            painter.setPen(PLACEHOLDER_TEXT)
            font = painter.font()
            font.setPointSizeF(max(font.pointSizeF(), 9.0) * 1.4)
            painter.setFont(font)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder)
            painter.end()
            return
        target = paint_frame(painter, image, QRectF(self.rect()), self._display)
        if self._notice:
            self._paint_notice(painter, target)
        painter.end()
        self.paint_count += 1
        if not self._tag_painted:
            self._tag_painted = True
            self.painted.emit(self._tag, time.monotonic())

    def _paint_notice(self, painter: QPainter, target: QRectF) -> None:
        metrics = painter.fontMetrics()
        height = metrics.height() * 2
        band = QRectF(target.x(), target.y(), target.width(), height)
        painter.fillRect(band, NOTICE_BACKGROUND)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(band, Qt.AlignmentFlag.AlignCenter, self._notice or "")
