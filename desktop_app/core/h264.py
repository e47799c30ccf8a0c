"""H.264 in a fragmented MP4 through PyAV: which encoder this installation can open, and a container and stream
set up for live recording (flushed at every keyframe, so a killed process leaves a playable file).
"""

from __future__ import annotations

import logging
import os
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.core.errors import RecordingError

if TYPE_CHECKING:
    import av

log = logging.getLogger(__name__)

#: Presentation timestamps are counted in 1/90000 s, the MPEG clock: fine enough for any capture rate.
TIME_BASE = Fraction(1, 90_000)
# Preferred first: software x264 is everywhere and best; the others are platform hardware encoders.
_H264_ENCODERS = (
    "libx264", "h264_videotoolbox", "h264_mf", "h264_nvenc", "h264_qsv", "h264_amf", "h264_vaapi",
    "libopenh264", "h264_v4l2m2m",
)
_FRAGMENTED_MP4 = {"movflags": "frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"}
_encoder_cache: str | None = None


def pick_h264_encoder() -> str:
    """The best H.264 encoder this PyAV build can open (libx264 when present); `RecordingError` if none."""
    global _encoder_cache
    if _encoder_cache is not None:
        return _encoder_cache
    import av

    for name in _H264_ENCODERS:
        if name not in av.codecs_available:
            continue
        try:
            context = av.CodecContext.create(name, "w")
            context.width, context.height, context.pix_fmt = 64, 64, "yuv420p"
            context.time_base = TIME_BASE
            context.open()
        except Exception as error:  # noqa: BLE001 - hardware encoders fail in many ways when absent
            log.debug("H.264 encoder %s unusable: %s", name, error)
            continue
        _encoder_cache = name
        return name
    raise RecordingError("This installation of PyAV has no working H.264 encoder (install the 'av' wheel)")


def open_h264_stream(path: Path, encoder: str, width: int, height: int, *, fps: float, keyframe_interval_s: float,
                     preset: str, crf: int,
                     bitrate: int | None) -> tuple[av.container.OutputContainer, av.VideoStream]:
    """A fragmented MP4 at `path` with one H.264 stream for `width` x `height` BGR frames (odd sides padded to
    even), timed in `TIME_BASE` units, a keyframe every `keyframe_interval_s`. x264 takes `preset` and `crf`
    (or `bitrate`); hardware encoders, which have no CRF mode, take `bitrate` or about 0.1 bit per pixel."""
    import av

    container = av.open(str(path), mode="w", format="mp4", options=dict(_FRAGMENTED_MP4))
    options = {}
    if encoder == "libx264":
        # zerolatency: no lookahead or B-frames, so each frame reaches the file within a fragment.
        # threads: half the cores, so encoding never competes with inference for all of them (on 2 cores,
        # x264's automatic threading cost the live pipeline ~18 % of its frame rate).
        options = {"preset": preset, "tune": "zerolatency", "threads": str(encoder_threads())}
        if bitrate is None:
            options["crf"] = str(crf)
    stream = container.add_stream(encoder, rate=Fraction(fps).limit_denominator(1001), options=options)
    # H.264 in yuv420p needs even dimensions: odd frames get one replicated pixel row/column.
    stream.width, stream.height = width + width % 2, height + height % 2
    stream.pix_fmt = "yuv420p"
    stream.time_base = TIME_BASE
    stream.codec_context.time_base = TIME_BASE
    stream.codec_context.gop_size = max(1, round(fps * keyframe_interval_s))
    if bitrate is not None or encoder != "libx264":
        stream.codec_context.bit_rate = bitrate or _default_bitrate(width, height, fps)
    return container, stream


def encoder_threads() -> int:
    """Encoder threads: half the machine's cores, at least one."""
    return max(1, (os.cpu_count() or 2) // 2)


def _default_bitrate(width: int, height: int, fps: float) -> int:
    """About 0.1 bit per pixel per frame: good quality for hardware encoders that have no CRF mode."""
    return int(max(1_000_000, width * height * fps * 0.1))
