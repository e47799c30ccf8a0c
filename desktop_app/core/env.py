"""Privacy-preserving Ultralytics environment, applied before Ultralytics is first imported.

Ultralytics syncs usage analytics, auto-installs packages and fetches fonts unless told otherwise. CNN Lens
keeps every frame and statistic on the machine: it points Ultralytics at a private settings folder (so the
user's own settings file is never read or touched), switches analytics off, and allows network access only
for an explicit model download.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

_APPLIED = False
_INTEGRATIONS = ("clearml", "comet", "dvc", "mlflow", "neptune", "raytune", "tensorboard", "wandb", "hub")


def app_data_dir() -> Path:
    """The folder where CNN Lens keeps its private state (override with `CNNLENS_HOME`)."""
    override = os.environ.get("CNNLENS_HOME")
    if override:
        return Path(override)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cnnlens"


def ultralytics_config_dir() -> Path:
    """The private `YOLO_CONFIG_DIR` CNN Lens gives Ultralytics."""
    return app_data_dir() / "ultralytics"


def configure_ultralytics_environment(allow_downloads: bool = False) -> None:
    """Set the Ultralytics environment variables; call before `import ultralytics`.

    `allow_downloads` keeps `YOLO_OFFLINE` unset so that an explicit catalog download can reach the hub.
    Calling it again after Ultralytics was imported only has an effect on the offline flag that Ultralytics
    reads at call time; the settings folder is fixed at first import.
    """
    global _APPLIED
    config_dir = ultralytics_config_dir()
    config_dir.mkdir(parents=True, exist_ok=True)
    os.environ["YOLO_CONFIG_DIR"] = str(config_dir)
    os.environ["YOLO_AUTOINSTALL"] = "false"
    os.environ["YOLO_VERBOSE"] = os.environ.get("YOLO_VERBOSE", "false")
    if allow_downloads:
        os.environ.pop("YOLO_OFFLINE", None)
    else:
        os.environ["YOLO_OFFLINE"] = "true"
    _APPLIED = True


def import_ultralytics():
    """Import Ultralytics with the private environment applied and analytics switched off; return the module."""
    if "ultralytics" not in sys.modules and not _APPLIED:
        configure_ultralytics_environment()
    import ultralytics
    from ultralytics.utils import SETTINGS

    # Analytics off, and no third-party logger integrations that could phone home or write run folders.
    wanted = {key: False for key in _INTEGRATIONS if key in SETTINGS}
    wanted["sync"] = False
    wanted["runs_dir"] = str(app_data_dir() / "runs")
    if any(SETTINGS.get(key) != value for key, value in wanted.items()):
        SETTINGS.update(wanted)
    return ultralytics


def read_private_settings() -> dict:
    """The Ultralytics settings CNN Lens runs with (for diagnostics and tests)."""
    path = ultralytics_config_dir() / "Ultralytics" / "settings.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def settle_opencv_threads() -> None:
    """Give OpenCV the thread setting Ultralytics imposes on import (`cv2.setNumThreads(0)`), before any
    thread of ours runs OpenCV. Resizing OpenCV's pool while another thread is inside a parallel OpenCV call
    crashes the process (SIGFPE in `warpAffine`); with the value already set, Ultralytics' later call is a
    no-op, whichever thread imports it."""
    import cv2

    cv2.setNumThreads(0)
