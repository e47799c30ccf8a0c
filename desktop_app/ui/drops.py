"""What a file or address dropped on the main window does: a model file loads into the pane under the mouse,
anything else (a video, a picture, a folder, a stream address) becomes the source."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF
from PySide6.QtGui import QDropEvent

from desktop_app.core.render import pane_at
from desktop_app.ui import dialogs
from desktop_app.ui.source_menu import SourceChoice


def handle_drop(window, event: QDropEvent) -> None:
    """Act on the first dropped URL for `window` (a MainWindow)."""
    urls = event.mimeData().urls()
    if not urls:
        return
    url = urls[0]
    if not url.isLocalFile():
        window.open_source(SourceChoice(url.toString()))
        event.acceptProposedAction()
        return
    path = Path(url.toLocalFile())
    if dialogs.is_model_path(path):
        window.open_model_file(pane_under(window, event.position()), str(path))
    else:
        window.open_source(SourceChoice(str(path)))
    event.acceptProposedAction()


def pane_under(window, window_pos: QPointF) -> int:
    """The pane under a window position: a pane panel, or a cell of the picture (pane 1 otherwise)."""
    for panel in window.panels:
        if panel.isVisible() and panel.rect().contains(panel.mapFrom(window, window_pos.toPoint())):
            return panel.index
    view = window.frame_view
    pixel = view.map_to_image(QPointF(view.mapFrom(window, window_pos.toPoint())))
    image = view.current_image
    if pixel is not None and image is not None:
        index = pane_at(window.session.layout, (image.shape[1], image.shape[0]), *pixel)
        if index is not None:
            return index
    return 0
