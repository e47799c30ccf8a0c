"""Thread helpers for the background work that must yield to the live path."""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)


def yield_to_live_path(niceness: int = 5) -> None:
    """Lower the calling thread's CPU priority by `niceness` (Linux: threads have their own nice value), so on a
    busy machine the inference and drawing threads run first and this thread uses the gaps between them.

    For work with a bounded backlog that needs a fraction of a core on average (encoding, decoding ahead): it
    still gets its share, only later. Elsewhere, or when refused, the priority stays as it was."""
    if not sys.platform.startswith("linux") or niceness <= 0:
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + niceness)
    except OSError as exc:
        log.debug("thread priority unchanged: %s", exc)
