"""The tasks a pane can perform."""

from __future__ import annotations

from enum import Enum


class Task(str, Enum):
    """What a model does with a frame. Values are the names used on the command line and in settings."""

    CLASSIFY = "classify"
    DETECT = "detect"
    SEGMENT = "segment"
    POSE = "pose"

    @classmethod
    def parse(cls, name: str) -> "Task":
        """Task from its command-line name; raises ValueError listing the valid names."""
        try:
            return cls(name.strip().lower())
        except ValueError:
            valid = ", ".join(t.value for t in cls)
            raise ValueError(f"unknown task {name!r}; choose one of: {valid}") from None
