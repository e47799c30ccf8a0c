"""Explicit model downloads: the only network access CNN Lens makes.

A download streams into `<file>.part` and is renamed only when complete, so an interrupted download never
leaves a truncated file that looks like a model. Progress goes to a callback `(done_bytes, total_bytes)`;
`total_bytes` is 0 when the server does not say.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from desktop_app.core.errors import ModelUnavailableError
from desktop_app.core.models import catalog
from desktop_app.core.models.catalog import CatalogEntry

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]

_CHUNK_BYTES = 1 << 20
_TIMEOUT_S = 30.0
# torchvision names its files <name>-<first hex digits of the sha256>.pth; check them after downloading.
_HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,})\.pth$")
_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    # Two panes asking for the same model at once must not write the same .part file.
    with _locks_guard:
        return _locks.setdefault(path.resolve(), threading.Lock())


def _failure(destination: Path, url: str, reason: object) -> ModelUnavailableError:
    return ModelUnavailableError(
        f"could not download {destination.name} from {url}: {reason}. Copy {destination.name} into "
        f"{destination.parent} by hand, or try again when online")


def download_file(url: str, destination: Path, progress: ProgressCallback | None = None,
                  sha256_prefix: str | None = None) -> Path:
    """Stream `url` into `destination` (via a `.part` file) and return it; an existing file is kept as is.

    Raises `ModelUnavailableError` on any network, server, checksum or disk failure; nothing partial remains.
    """
    destination = Path(destination)
    with _lock_for(destination):
        if destination.is_file():
            return destination
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(destination.name + ".part")
        digest = hashlib.sha256()
        done = 0
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "cnn-lens"})
            with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response, open(partial, "wb") as out:
                total = int(response.headers.get("Content-Length") or 0)
                if progress:
                    progress(0, total)
                while chunk := response.read(_CHUNK_BYTES):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
            if total and done != total:
                raise _failure(destination, url, f"the transfer stopped after {done} of {total} bytes")
            if sha256_prefix and not digest.hexdigest().startswith(sha256_prefix):
                raise _failure(destination, url, "the file does not match its published checksum")
            os.replace(partial, destination)
        except ModelUnavailableError:
            partial.unlink(missing_ok=True)
            raise
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            partial.unlink(missing_ok=True)
            raise _failure(destination, url, getattr(exc, "reason", None) or exc) from exc
        log.info("downloaded %s (%d bytes) to %s", url, done, destination)
        return destination


def download_entry(entry: CatalogEntry, progress: ProgressCallback | None = None) -> Path:
    """Download a catalog model's official weights into the models folder and return the file.

    Raises `ModelUnavailableError` (saying how to add the file by hand) when offline or the entry has no URL.
    """
    directory = catalog.models_dir()
    destination = directory / entry.filename
    if destination.is_file():
        return destination
    if not entry.url or not catalog.is_online():
        raise ModelUnavailableError(catalog.missing_message(entry, directory))
    match = _HASH_IN_NAME.search(entry.filename)
    return download_file(entry.url, destination, progress, match.group(1) if match else None)
