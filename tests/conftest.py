"""Test-wide environment: headless Qt, private app state, no network, before anything else is imported."""

import os
import tempfile

_STATE = tempfile.mkdtemp(prefix="cnnlens-tests-")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["CNNLENS_HOME"] = os.path.join(_STATE, "home")
os.environ["CNNLENS_MODELS_DIR"] = os.path.join(_STATE, "models")
os.environ["CNNLENS_OFFLINE"] = "1"
os.environ["XDG_CONFIG_HOME"] = os.path.join(_STATE, "config")
os.makedirs(os.environ["CNNLENS_MODELS_DIR"], exist_ok=True)

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def ultralytics_assets():
    """Folder of the real photos that ship with Ultralytics (bus.jpg, zidane.jpg), found without importing it."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("ultralytics")
    return Path(spec.submodule_search_locations[0]) / "assets"
