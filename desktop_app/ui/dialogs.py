"""The few dialogs the user opens on purpose (files, folders, URLs, model files, output folder), and the rules
for what a dropped file means. Errors are never shown in dialogs: they go to the status area."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QWidget

from desktop_app.core.models.catalog import MODEL_FILE_SUFFIXES
from desktop_app.core.sources.images import IMAGE_EXTENSIONS

VIDEO_EXTENSIONS = (".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts",
                    ".gif")
MODEL_WARNING = "Model files can run code when loaded: open only files you trust"


def is_model_path(path: Path) -> bool:
    """True for files (or OpenVINO folders) that hold a model rather than pictures."""
    if path.is_dir():
        return path.name.endswith("_openvino_model")
    return path.suffix.lower() in MODEL_FILE_SUFFIXES


def _patterns(extensions) -> str:
    return " ".join(f"*{e}" for e in sorted(set(extensions)))


def ask_media_file(parent: QWidget, start: Path) -> str | None:
    """A video or image file to use as the source."""
    filters = ";;".join([
        f"Videos and images ({_patterns(VIDEO_EXTENSIONS + tuple(IMAGE_EXTENSIONS))})",
        f"Videos ({_patterns(VIDEO_EXTENSIONS)})",
        f"Images ({_patterns(IMAGE_EXTENSIONS)})",
        "All files (*)",
    ])
    path, _ = QFileDialog.getOpenFileName(parent, "Open a video or image", str(start), filters)
    return path or None


def ask_folder(parent: QWidget, start: Path, title: str = "Open a folder of images") -> str | None:
    path = QFileDialog.getExistingDirectory(parent, title, str(start))
    return path or None


def ask_url(parent: QWidget) -> str | None:
    """An RTSP or HTTP(S) stream URL."""
    text, ok = QInputDialog.getText(parent, "Open a stream", "Stream URL (rtsp://, http:// or https://):",
                                    QLineEdit.EchoMode.Normal, "rtsp://")
    text = text.strip()
    return text if ok and text and text != "rtsp://" else None


def ask_model_file(parent: QWidget, start: Path) -> str | None:
    """A model file; the dialog says that model files can run code."""
    filters = f"Model files ({_patterns(MODEL_FILE_SUFFIXES)});;All files (*)"
    dialog = QFileDialog(parent, f"Open a model file — {MODEL_WARNING}", str(start), filters)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.setLabelText(QFileDialog.DialogLabel.FileName, "Model file:")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)  # the native one hides our warning title
    dialog.setLabelText(QFileDialog.DialogLabel.LookIn, MODEL_WARNING)
    if dialog.exec() and dialog.selectedFiles():
        return dialog.selectedFiles()[0]
    return None
