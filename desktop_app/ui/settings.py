"""What the app remembers between runs (last source, layout, panes, thresholds, output folder, geometry).

Stored with `QSettings` in an INI file inside the app's private folder (`CNNLENS_HOME`), so tests and several
installations never share state. Every value is validated on load; a bad or stale value falls back to its
default with a logged warning instead of breaking start-up.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from desktop_app.core.env import app_data_dir
from desktop_app.core.pipeline import PaneSpec

log = logging.getLogger(__name__)

MAX_PANES = 4
LAYOUTS = (1, 2, 4)
SAMPLE_SOURCE = "sample"

# Pane 1 runs a real pretrained model that works offline, so the first screen shows a live overlay; the
# other panes fill in as the layout grows (detection and segmentation are untrained YAML builds, labelled so).
DEFAULT_PANES: tuple[PaneSpec, ...] = (
    PaneSpec("pose", "yolo11n-pose"),
    PaneSpec("classify", "efficientnet-lite0"),
    PaneSpec("detect", "yolo11n.yaml"),
    PaneSpec("segment", "yolo11n-seg.yaml"),
)


def default_output_dir() -> Path:
    """Where recordings and snapshots go until the user picks a folder."""
    if os.environ.get("CNNLENS_HOME"):
        return app_data_dir() / "captures"
    movies = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation)
    return (Path(movies) if movies else app_data_dir()) / "CNN Lens"


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """The user's working set-up. `source` is an `open_source` spec; `panes` always holds four entries."""

    source: str = SAMPLE_SOURCE
    source_options: dict = field(default_factory=dict)
    layout: int = 1
    panes: tuple[PaneSpec, ...] = DEFAULT_PANES
    output_dir: Path = field(default_factory=default_output_dir)
    device: str = "auto"
    loop: bool = True
    hud: bool = True

    def with_pane(self, index: int, spec: PaneSpec) -> "SessionSettings":
        """A copy with pane `index` replaced."""
        panes = list(self.panes)
        panes[index] = spec
        return replace(self, panes=tuple(panes))


def normalise_panes(panes: list[PaneSpec]) -> tuple[PaneSpec, ...]:
    """Exactly `MAX_PANES` specs: missing ones are taken from the defaults, extra ones dropped."""
    return tuple(list(panes[:MAX_PANES]) + list(DEFAULT_PANES[len(panes):MAX_PANES]))


def is_usable_output_dir(path: Path) -> bool:
    """True when `path` is (or can become) a folder we may write into."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK)


class SettingsStore:
    """Reads and writes `SessionSettings` and the window geometry."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path is not None else app_data_dir() / "settings.ini"
        self._qsettings = QSettings(str(self.path), QSettings.Format.IniFormat)

    def has_saved_session(self) -> bool:
        return self._qsettings.contains("session/layout")

    def load(self) -> SessionSettings:
        """The saved settings, each invalid value replaced by its default."""
        s = self._qsettings
        defaults = SessionSettings()
        source = str(s.value("session/source", defaults.source) or defaults.source)
        source_options = self._load_source_options(s.value("session/source_options", ""))
        layout = _to_int(s.value("session/layout", defaults.layout), defaults.layout)
        if layout not in LAYOUTS:
            log.warning("saved layout %r is not one of %s; using %d", layout, LAYOUTS, defaults.layout)
            layout = defaults.layout
        panes = self._load_panes(s.value("session/panes", ""))
        output_dir = Path(str(s.value("session/output_dir", "") or defaults.output_dir)).expanduser()
        if not is_usable_output_dir(output_dir):
            log.warning("saved output folder %s is not writable; using %s", output_dir, defaults.output_dir)
            output_dir = defaults.output_dir
        device = str(s.value("session/device", defaults.device) or defaults.device)
        loop = _to_bool(s.value("session/loop", defaults.loop), defaults.loop)
        hud = _to_bool(s.value("session/hud", defaults.hud), defaults.hud)
        return SessionSettings(source, source_options, layout, panes, output_dir, device, loop, hud)

    @staticmethod
    def _load_source_options(raw: object) -> dict:
        # Only the camera mode is ever saved; anything else in the file is ignored rather than trusted.
        try:
            data = json.loads(str(raw)) if raw else {}
        except ValueError:
            return {}
        if not isinstance(data, dict):
            return {}
        options: dict = {}
        mode = data.get("resolution_wh")
        if isinstance(mode, list) and len(mode) == 2 and all(isinstance(v, int) and v > 0 for v in mode):
            options["resolution_wh"] = (mode[0], mode[1])
        fps = data.get("fps")
        if isinstance(fps, (int, float)) and 0 < fps <= 1000:
            options["fps"] = float(fps)
        return options

    @staticmethod
    def _load_panes(raw: object) -> tuple[PaneSpec, ...]:
        if not raw:
            return DEFAULT_PANES
        try:
            items = json.loads(str(raw))
            if not isinstance(items, list):
                raise TypeError("expected a list")
        except (ValueError, TypeError) as exc:
            log.warning("saved panes are unreadable (%s); using the defaults", exc)
            return DEFAULT_PANES
        panes: list[PaneSpec] = []
        for index, item in enumerate(items[:MAX_PANES]):
            try:
                panes.append(PaneSpec.from_dict(item))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                log.warning("saved pane %d is invalid (%s); using the default", index + 1, exc)
                panes.append(DEFAULT_PANES[index])
        return normalise_panes(panes)

    def save(self, settings: SessionSettings) -> None:
        """Persist `settings` now."""
        s = self._qsettings
        s.setValue("session/source", settings.source)
        s.setValue("session/source_options", json.dumps(settings.source_options))
        s.setValue("session/layout", settings.layout)
        s.setValue("session/panes", json.dumps([p.to_dict() for p in settings.panes]))
        s.setValue("session/output_dir", str(settings.output_dir))
        s.setValue("session/device", settings.device)
        s.setValue("session/loop", settings.loop)
        s.setValue("session/hud", settings.hud)
        s.sync()

    def save_geometry(self, geometry: QByteArray, state: QByteArray) -> None:
        self._qsettings.setValue("window/geometry", geometry)
        self._qsettings.setValue("window/state", state)
        self._qsettings.sync()

    def geometry(self) -> tuple[QByteArray | None, QByteArray | None]:
        """Saved window geometry and dock/toolbar state (None when never saved)."""
        geometry = self._qsettings.value("window/geometry")
        state = self._qsettings.value("window/state")
        return (geometry if isinstance(geometry, QByteArray) else None,
                state if isinstance(state, QByteArray) else None)


def _to_int(value: object, default: int) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def _to_bool(value: object, default: bool) -> bool:
    # INI files give back strings: "true"/"false".
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return default
