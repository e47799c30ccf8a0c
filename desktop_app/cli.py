"""`cnnlens`: opens the GUI, or runs the core headless (`models`, `process`, `bench`).

User errors (missing file, unknown model, wrong task, offline download) end with a one-line message on stderr
and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Sequence

from desktop_app import __version__
from desktop_app.core.errors import CnnLensError

log = logging.getLogger("cnnlens")

EXIT_USER_ERROR = 2


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--imgsz", type=int, default=640, help="model input size in pixels (multiple of 32)")
    parser.add_argument("--conf", type=float, default=0.25, help="confidence threshold (0-1)")
    parser.add_argument("--iou", type=float, default=0.7, help="NMS IoU threshold (0-1)")
    parser.add_argument("--classes", type=str, default=None, help="comma-separated class ids to keep")
    parser.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N, mps")


def build_parser() -> argparse.ArgumentParser:
    from desktop_app.core.models.exports import BACKENDS

    parser = argparse.ArgumentParser(
        prog="cnnlens",
        description="See, live, what convolutional networks see. With no command, opens the desktop app.")
    parser.add_argument("--version", action="version", version=f"cnnlens {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail to stderr")
    gui = parser.add_argument_group("desktop app (no command)")
    gui.add_argument("--source", help="sample, camera:N, a video/image file, a folder or an rtsp/http URL")
    gui.add_argument("--layout", type=int, choices=(1, 2, 4), help="number of panes side by side")
    gui.add_argument("--pane", action="append", metavar="TASK:MODEL",
                     help="pane content, repeatable, e.g. pose:yolo11n-pose or features:efficientnet-lite0")
    gui.add_argument("--record", metavar="OUT.mp4", help="record the composed view until --frames are processed")
    gui.add_argument("--screenshot", metavar="OUT.png", help="save the window after --frames processed frames")
    gui.add_argument("--frames", type=int, help="with --screenshot/--record: quit after this many frames")
    gui.add_argument("--device", default=None, help="auto, cpu, cuda, cuda:N, mps")

    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    models = commands.add_parser("models", help="list the model catalog and what is available offline")
    models.add_argument("--json", action="store_true", help="print the catalog as JSON")

    process = commands.add_parser("process", help="annotate a video, image, folder or stream headless")
    process.add_argument("source", help="video/image file, folder, URL, camera:N or sample")
    process.add_argument("--task", help="classify, detect, segment, pose (or an insight view)")
    process.add_argument("--model", help="catalog id (see `cnnlens models`), YAML name or model file")
    process.add_argument("--pane", action="append", metavar="TASK:MODEL", help="tiled comparison, repeatable")
    process.add_argument("--out", metavar="OUT.mp4", help="annotated H.264 MP4 to write")
    process.add_argument("--json", metavar="OUT.json", help="write the results as JSON")
    process.add_argument("--max-frames", type=int, default=None, help="stop after this many frames")
    process.add_argument("--duration", type=float, default=10.0,
                         help="seconds to take from live or sample sources (default 10)")
    process.add_argument("--no-hud", action="store_true", help="leave the timing HUD out of the video")
    process.add_argument("--track", action="store_true", help="track detections across frames (ids on boxes)")
    _add_model_options(process)

    bench = commands.add_parser("bench", help="measure the pipeline against a plain Ultralytics predict loop")
    bench.add_argument("--source", dest="bench_source", default="sample", help="frames to measure on")
    bench.add_argument("--model", default="yolo11n-pose", help="model to measure")
    bench.add_argument("--frames", dest="bench_frames", type=int, default=60, help="frames per measurement")
    bench.add_argument("--json", metavar="OUT.json", help="also write the numbers as JSON")
    bench.add_argument("--quick", action="store_true", help="skip the slow variants (4 panes, latency)")
    bench.add_argument("--backend", default="torch", choices=BACKENDS,
                       help="run the pipeline's model through this backend (exported once, cached in models/)")
    _add_model_options(bench)
    return parser


def _parse_classes(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"--classes must be comma-separated integers, got {text!r}") from None


def _options_from_args(args: argparse.Namespace):
    from desktop_app.core.models.base import PredictOptions

    return PredictOptions(conf=args.conf, iou=args.iou, imgsz=args.imgsz, classes=_parse_classes(args.classes))


def cmd_models(args: argparse.Namespace) -> int:
    from desktop_app.core.models import catalog

    rows = catalog.describe_all()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    headers = ("model", "task", "family", "size", "status", "licence")
    widths = [max(len(h), *(len(str(r[h])) for r in rows)) for h in headers]
    print("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths)))
    for row in rows:
        print("  ".join(str(row[h]).ljust(w) for h, w in zip(headers, widths)))
    notes = sorted({row["note"] for row in rows if row.get("note")})
    for note in notes:
        print(f"\n{note}")
    return 0


def _pane_specs(args: argparse.Namespace):
    from desktop_app.core.panes import validate_kind
    from desktop_app.core.pipeline import PaneSpec

    options = _options_from_args(args)
    if args.pane:
        if args.task or args.model:
            raise ValueError("use either --task/--model or --pane, not both")
        specs = [PaneSpec.parse(text, options) for text in args.pane]
    else:
        if not args.task or not args.model:
            raise ValueError("process needs --task and --model (or one or more --pane TASK:MODEL)")
        specs = [PaneSpec(args.task.strip().lower(), args.model, options)]
    if len(specs) not in (1, 2, 3, 4):
        raise ValueError(f"between 1 and 4 panes can be tiled, got {len(specs)}")
    for spec in specs:
        validate_kind(spec.task)
    return specs


def cmd_process(args: argparse.Namespace) -> int:
    from desktop_app.core.processing import ProcessJob, run_process

    if not args.out and not args.json:
        raise ValueError("process needs --out OUT.mp4 and/or --json OUT.json")
    job = ProcessJob(source=args.source, panes=_pane_specs(args), out=Path(args.out) if args.out else None,
                     json_path=Path(args.json) if args.json else None, device=args.device,
                     max_frames=args.max_frames, duration_s=args.duration, hud=not args.no_hud, track=args.track)
    summary = run_process(job, progress=_ProgressBar(), download_progress=_ProgressBar(unit="MB", scale=2**-20))
    print(summary.format(), file=sys.stderr)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from desktop_app.core.bench import BenchConfig, run_bench

    config = BenchConfig(source=args.bench_source, model=args.model, frames=args.bench_frames,
                         device=args.device, imgsz=args.imgsz, quick=args.quick, backend=args.backend)
    report = run_bench(config, log_progress=lambda text: print(text, file=sys.stderr), display=_display_probe())
    print(report.format_table())
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2))
    return 0


def _display_probe():
    """The window's own paint of a composed frame, for the bench's `display` stage; None without Qt."""
    try:
        from desktop_app.ui.frame_view import display_probe

        return display_probe()
    except (ImportError, RuntimeError) as exc:  # Qt missing or unable to start: measure the rest
        print(f"display stage not measured: {exc}", file=sys.stderr)
        return None


class _ProgressBar:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, stream=sys.stderr, unit: str = "frames", scale: float = 1.0):
        self._stream = stream
        self._unit = unit
        self._scale = scale
        self._last = 0.0
        self._started: float | None = None  # set at the first frame, so model loading does not count

    def __call__(self, done: int, total: int | None) -> None:
        now = time.perf_counter()
        if self._started is None:
            self._started = now
        if now - self._last < 0.1 and (total is None or done < total):
            return
        self._last = now
        if self._unit == "frames":
            rate = (done - 1) / (now - self._started) if now > self._started else 0.0
            speed = f"{rate:5.1f} FPS"
        else:
            speed = f"{self._scale * done / max(now - self._started, 1e-3):5.1f} {self._unit}/s"
        count = f"{done * self._scale:.0f}" if self._unit == "frames" else f"{done * self._scale:.1f}"
        if total:
            filled = int(30 * min(done / total, 1.0))
            whole = f"{total * self._scale:.0f}" if self._unit == "frames" else f"{total * self._scale:.1f}"
            text = f"\r[{'#' * filled}{'.' * (30 - filled)}] {count}/{whole} {self._unit}  {speed}"
        else:
            text = f"\r{count} {self._unit}  {speed}"
        self._stream.write(text)
        if total and done >= total:
            self._stream.write("\n")
        self._stream.flush()


def cmd_gui(args: argparse.Namespace) -> int:
    from desktop_app.ui.app import run_gui

    return run_gui(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    handlers = {"models": cmd_models, "process": cmd_process, "bench": cmd_bench, None: cmd_gui}
    try:
        return handlers[args.command](args)
    except (CnnLensError, ValueError, FileNotFoundError, PermissionError) as exc:
        print(f"cnnlens: error: {exc}", file=sys.stderr)
        if args.verbose:
            log.exception("details")
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("cnnlens: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
