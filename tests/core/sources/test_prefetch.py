"""Reading ahead keeps every frame in order, bounds memory, passes errors on and stops promptly."""

import threading
import time

import numpy as np
import pytest

from desktop_app.core.errors import SourceError
from desktop_app.core.frames import Frame
from desktop_app.core.sources import PrefetchingReader
from desktop_app.core.sources.base import FrameSource


class CountingSource(FrameSource):
    def __init__(self, count, fail_at=None):
        super().__init__("counting")
        self.count, self.fail_at, self.next = count, fail_at, 0

    def _open(self):
        pass

    def _read(self):
        if self.next == self.fail_at:
            raise SourceError("counting: the disk went away")
        if self.next >= self.count:
            return None
        frame = Frame(np.full((4, 4, 3), self.next % 256, np.uint8), self.next, self.next / 30)
        self.next += 1
        return frame

    def _close(self):
        pass


def test_every_frame_arrives_in_order():
    with PrefetchingReader(CountingSource(50), depth=3) as reader:
        assert [f.frame_index for f in reader] == list(range(50))


def test_reads_at_most_depth_frames_ahead():
    source = CountingSource(100)
    with PrefetchingReader(source, depth=4) as reader:
        iterator = iter(reader)
        next(iterator)
        time.sleep(0.2)
        assert source.next <= 1 + 4 + 1  # one consumed, `depth` queued, one blocked in put


def test_reader_errors_reach_the_consumer_after_the_good_frames():
    seen = []
    with PrefetchingReader(CountingSource(10, fail_at=5)) as reader:
        with pytest.raises(SourceError, match="disk went away"):
            for frame in reader:
                seen.append(frame.frame_index)
    assert seen == [0, 1, 2, 3, 4]


def test_close_mid_source_stops_the_thread():
    reader = PrefetchingReader(CountingSource(10_000), depth=2)
    next(iter(reader))
    reader.close()
    assert not any(t.name.startswith("prefetch") and t.is_alive() for t in threading.enumerate())
