"""What each pane's model selector lists: catalog models with their availability, and the user's own files.

Qt-free. Availability comes from the core catalog; whether downloads work is probed once in the background
(`set_online`), so building the lists never waits on the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.models import catalog
from desktop_app.core.models.catalog import ModelState
from desktop_app.core.models.tasks import Task


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """One entry of a model selector. `spec` is what `load_model` accepts; `why` explains a disabled entry."""

    spec: str
    label: str
    available: bool
    why: str
    untrained: bool
    tooltip: str = ""


_ORDER = {ModelState.AVAILABLE: 0, ModelState.DOWNLOADABLE: 1, ModelState.MISSING: 2}


def _choice(status: catalog.ModelStatus) -> ModelChoice:
    entry = status.entry
    label = entry.display_name
    if status.state is ModelState.DOWNLOADABLE:
        label += " · downloads on first use"
    elif status.state is ModelState.MISSING:
        label += " · not on this machine"
    available = status.state is not ModelState.MISSING
    return ModelChoice(entry.model_id, label, available, "" if available else status.message, entry.untrained,
                       f"{entry.description}. {status.message}")


class ModelChoices:
    """Model lists per pane kind, rebuilt cheaply whenever availability may have changed."""

    def __init__(self, online: bool = False):
        self._online = online
        self._user_files: list[Path] = []
        self._cache: dict[str, list[ModelChoice]] = {}

    def set_online(self, online: bool) -> bool:
        """Record whether downloads work; True when that changed the lists."""
        changed = online != self._online
        self._online = online
        if changed:
            self._cache.clear()
        return changed

    def add_user_file(self, path: Path) -> None:
        """Remember a model file the user opened, so it stays in the lists for this session."""
        path = Path(path)
        if path not in self._user_files:
            self._user_files.append(path)
            self._cache.clear()

    def refresh(self) -> None:
        """Forget cached lists (after a download or a file copied into the models folder)."""
        self._cache.clear()

    def __call__(self, kind: str) -> list[ModelChoice]:
        """The choices for pane kind `kind` (a task, or an insight view that takes any model)."""
        if kind not in self._cache:
            self._cache[kind] = self._build(kind)
        return list(self._cache[kind])

    def _build(self, kind: str) -> list[ModelChoice]:
        try:
            task = Task(kind)
        except ValueError:
            task = None  # insight views look inside any model
        statuses = [catalog.status(e, online=self._online) for e in catalog.entries(task=task)]
        # Ready models first (pretrained before untrained builds), then downloadable, then missing ones.
        statuses.sort(key=lambda s: (_ORDER[s.state], s.entry.untrained))
        files = list(dict.fromkeys([*self._user_files, *catalog.local_model_files()]))
        own = [ModelChoice(str(p), f"file: {p.name}", True, "", False, f"{p} (its task is read from the file)")
               for p in files]
        return own + [_choice(s) for s in statuses]
