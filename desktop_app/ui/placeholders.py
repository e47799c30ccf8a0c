"""Pane runners that stand in while a pane has no working model: loading, or failed with a reason.

They let frames flow from the very first moment (the window is alive before any model is loaded) and say on
the pane itself what is going on. Pure numpy/OpenCV drawing through the core renderer; no Qt.
"""

from __future__ import annotations

from desktop_app.core.frames import Frame
from desktop_app.core.pipeline import PaneOutput
from desktop_app.core.render import draw_banner


class MessagePane:
    """Shows the frame with a banner (e.g. "Loading yolo11n-pose…"); runs no model."""

    def __init__(self, text: str, level: str = "info"):
        self.label = text
        self.level = level

    def run(self, frame: Frame, pane_index: int) -> PaneOutput:
        image = draw_banner(frame.image, self.label, self.level)
        return PaneOutput(pane_index, image, None, self.label)

    def close(self) -> None:
        """Nothing to release."""


def loading_pane(model: str) -> MessagePane:
    return MessagePane(f"Loading {model}…", "info")


def failed_pane(model: str, reason: str) -> MessagePane:
    return MessagePane(f"Could not load {model}: {reason}", "error")
