"""Shared fixtures for the model tests: real photos from the installed Ultralytics package, and a private,
offline models folder so no test touches the network or the user's files."""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

import cv2
import pytest

from desktop_app.core.frames import Frame

# Ultralytics fixes its settings folder at first import: keep it private to the test session.
os.environ.setdefault("CNNLENS_HOME", tempfile.mkdtemp(prefix="cnnlens-test-home-"))

ASSETS = Path(list(importlib.util.find_spec("ultralytics").submodule_search_locations)[0]) / "assets"


def load_frame(name: str, frame_index: int = 0) -> Frame:
    image = cv2.imread(str(ASSETS / name))
    assert image is not None, f"missing test photo {name}"
    return Frame(image, frame_index, frame_index / 30.0)


@pytest.fixture(scope="session")
def bus_frame() -> Frame:
    return load_frame("bus.jpg")


@pytest.fixture(scope="session")
def zidane_frame() -> Frame:
    return load_frame("zidane.jpg")


@pytest.fixture(autouse=True)
def private_models_dir(tmp_path, monkeypatch) -> Path:
    """An empty models folder per test, and offline unless a test says otherwise."""
    directory = tmp_path / "models"
    directory.mkdir()
    monkeypatch.setenv("CNNLENS_MODELS_DIR", str(directory))
    monkeypatch.setenv("CNNLENS_OFFLINE", "1")
    return directory
