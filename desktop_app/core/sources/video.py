"""Video files decoded with PyAV: every frame in presentation order, with the container's timestamps."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import cv2
import numpy as np

from desktop_app.core.errors import SourceError
from desktop_app.core.frames import Frame
from desktop_app.core.sources.base import FrameSource, clamp_index

if TYPE_CHECKING:
    import av

log = logging.getLogger(__name__)

# Beyond this many undecodable packets in a row the file is treated as ending there: a truncated or
# garbage tail should end playback with a warning, not spin through megabytes of noise.
_MAX_CONSECUTIVE_DECODE_ERRORS = 50


_ROTATIONS = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}


class VideoFileSource(FrameSource):
    """Any container and codec FFmpeg reads. `timestamp_s` is the frame's presentation time from the
    container, relative to the stream start, so variable-frame-rate files keep their real timing.

    A truncated or partly corrupt file plays up to the damage and then ends with a logged warning. Phone
    videos stored sideways with a display rotation come out upright.
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__(Path(path).name)
        self.path = Path(path)
        self.decode_errors = 0
        self._container: av.container.InputContainer | None = None
        self._stream: av.VideoStream | None = None
        self._frames: Iterator[av.VideoFrame] | None = None
        self._pending: av.VideoFrame | None = None
        self._next_index = 0
        self._start_pts = 0
        self._time_base = 0.0

    @property
    def is_seekable(self) -> bool:
        return True

    def _open(self) -> None:
        import av

        if not self.path.exists():
            raise SourceError(f"Cannot open '{self.path}': the file does not exist")
        if self.path.is_dir():
            raise SourceError(f"Cannot open '{self.path}' as a video: it is a folder")
        try:
            container = av.open(str(self.path), mode="r")
        except av.error.FFmpegError as error:
            reason = error.strerror or str(error)
            raise SourceError(f"'{self.path}' is not a video FFmpeg can read ({reason})") from error
        if not container.streams.video:
            container.close()
            raise SourceError(f"'{self.path}' is not a video: it has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        self._container, self._stream = container, stream
        self._time_base = float(stream.time_base) if stream.time_base else 0.0
        self._start_pts = stream.start_time or 0
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        self.fps = float(rate) if rate else None
        self.frame_count = self._count_frames(container, stream)
        self._next_index = 0
        self._restart_decoding()
        self._pending = self._next_decoded()
        if self._pending is None:
            container.close()
            self._container = None
            raise SourceError(f"'{self.path}' contains no decodable video frames (corrupt or truncated file)")
        height, width = self._to_bgr(self._pending).shape[:2]
        self.resolution_wh = (width, height)

    def _count_frames(self, container: av.container.InputContainer, stream: av.VideoStream) -> int | None:
        if stream.frames:
            return int(stream.frames)
        # Fragmented MP4, MKV and streams do not record a frame count: estimate it from the duration.
        duration_s = None
        if stream.duration and stream.time_base:
            duration_s = float(stream.duration * stream.time_base)
        elif container.duration:
            duration_s = container.duration / 1_000_000
        if duration_s and self.fps:
            return max(1, round(duration_s * self.fps))
        return None

    def _restart_decoding(self) -> None:
        assert self._container is not None and self._stream is not None
        self._frames = self._decode(self._container, self._stream)
        self._pending = None

    def _decode(self, container: av.container.InputContainer, stream: av.VideoStream) -> Iterator[av.VideoFrame]:
        import av

        consecutive_errors = 0
        try:
            for packet in container.demux(stream):
                try:
                    decoded = packet.decode()
                except av.error.FFmpegError as error:
                    self.decode_errors += 1
                    consecutive_errors += 1
                    if self.decode_errors == 1:
                        log.warning("%s: skipping undecodable data (%s)", self.name, error.strerror or error)
                    if consecutive_errors >= _MAX_CONSECUTIVE_DECODE_ERRORS:
                        log.warning("%s: too much corrupt data, stopping at frame %d", self.name, self._next_index)
                        return
                    continue
                consecutive_errors = 0
                yield from decoded
        except av.error.FFmpegError as error:
            log.warning("%s: stopped reading at frame %d (%s)", self.name, self._next_index, error.strerror or error)

    def _next_decoded(self) -> av.VideoFrame | None:
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return frame
        assert self._frames is not None
        return next(self._frames, None)

    def _read(self) -> Frame | None:
        decoded = self._next_decoded()
        if decoded is None:
            return None
        index = self._next_index
        self._next_index += 1
        return Frame(self._to_bgr(decoded), index, self._timestamp_s(decoded, index))

    @staticmethod
    def _to_bgr(decoded: av.VideoFrame) -> np.ndarray:
        image = decoded.to_ndarray(format="bgr24")
        # The display matrix says how far to turn the stored picture counter-clockwise to show it upright.
        turn = _ROTATIONS.get(round(getattr(decoded, "rotation", 0) or 0) % 360)
        return np.ascontiguousarray(cv2.rotate(image, turn)) if turn is not None else image

    def _timestamp_s(self, decoded: av.VideoFrame, index: int) -> float:
        if decoded.pts is not None and self._time_base:
            return max(0.0, (decoded.pts - self._start_pts) * self._time_base)
        return index / self.fps if self.fps else float(index)

    def _close(self) -> None:
        self._frames = None
        self._pending = None
        if self._container is not None:
            self._container.close()
            self._container = None

    def seek(self, frame_index: int) -> None:
        """Position on frame `frame_index`: a keyframe seek, then decoding forward to the exact frame."""
        import av

        if not self._is_open:
            self.open()
        assert self._container is not None and self._stream is not None
        target = clamp_index(frame_index, self.frame_count)
        if target > 0 and self.fps and self._time_base:
            target_pts = self._start_pts + int(target / self.fps / self._time_base)
            try:
                self._container.seek(target_pts, stream=self._stream, backward=True, any_frame=False)
            except av.error.FFmpegError as error:
                log.debug("%s: keyframe seek failed (%s), decoding from the start", self.name, error)
            else:
                self._restart_decoding()
                self._skip_by_timestamp(target)
                return
        self._reopen_from_start()
        self._skip_sequentially(target)

    def _reopen_from_start(self) -> None:
        self._close()
        self._is_open = False
        self.open()
        self._next_index = 0

    def _skip_sequentially(self, target: int) -> None:
        while self._next_index < target:
            decoded = self._next_decoded()
            if decoded is None:
                return
            self._next_index += 1

    def _skip_by_timestamp(self, target: int) -> None:
        assert self.fps
        while (decoded := self._next_decoded()) is not None:
            index = round(self._timestamp_s(decoded, target) * self.fps)
            if index >= target:
                self._pending = decoded
                self._next_index = index
                return
        self._next_index = target
