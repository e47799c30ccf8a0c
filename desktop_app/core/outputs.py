"""Output files: names that never overwrite anything, and PNG snapshots."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from desktop_app.core.errors import RecordingError


def check_writable_folder(folder: str | Path) -> Path:
    """`folder` as a Path if it exists and can be written to, else `RecordingError` saying why."""
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise RecordingError(f"Cannot save to '{folder}': the folder does not exist")
    if not folder.is_dir():
        raise RecordingError(f"Cannot save to '{folder}': it is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise RecordingError(f"Cannot save to '{folder}': permission denied")
    return folder


def unique_output_path(folder: str | Path, prefix: str, suffix: str, *, reserve: bool = True) -> Path:
    """A new file `folder/prefix-YYYYMMDD-HHMMSS[-N]suffix` that does not exist yet.

    With `reserve` the (empty) file is created atomically, so two callers in the same second can never pick
    the same name and nothing that exists is ever overwritten. Raises `RecordingError` for a bad folder.
    """
    folder = check_writable_folder(folder)
    suffix = suffix if not suffix or suffix.startswith(".") else f".{suffix}"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for attempt in range(1, 10_000):
        name = f"{prefix}-{stamp}{suffix}" if attempt == 1 else f"{prefix}-{stamp}-{attempt}{suffix}"
        candidate = folder / name
        if not reserve:
            if not candidate.exists():
                return candidate
            continue
        try:
            with open(candidate, "xb"):
                pass
        except FileExistsError:
            continue
        except OSError as error:
            raise RecordingError(f"Cannot create '{candidate}': {error.strerror or error}") from error
        return candidate
    raise RecordingError(f"Cannot find a free file name for '{prefix}' in '{folder}'")


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Save a BGR (or grayscale) uint8 image as PNG, atomically: a failure never leaves a half-written file."""
    path = Path(path).expanduser()
    check_writable_folder(path.parent)
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(image))
    if not ok:
        raise RecordingError(f"Cannot encode the image with shape {getattr(image, 'shape', None)} as PNG")
    # Written next to the target and renamed, so a full disk or a crash leaves the old state, not a stub.
    handle, temp_name = tempfile.mkstemp(prefix=".snapshot-", suffix=".png", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(encoded.tobytes())
        os.replace(temp_name, path)
    except OSError as error:
        Path(temp_name).unlink(missing_ok=True)
        raise RecordingError(f"Cannot write snapshot '{path}': {error.strerror or error}") from error
    return path
