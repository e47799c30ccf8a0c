"""Soak benchmark: 10 minutes of the live pipeline on the sample source, switching models every 5 s and toggling
recording every 7 s; prints RSS, thread count and open files over time and the growth after warm-up.

    python benchmarks/soak.py [--minutes 10] [--json soak.json]

Target (issue "Reliability"): no growth beyond warm-up (RSS under 50 MB, threads and files flat).
"""

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from desktop_app.core.soak import DEFAULT_ROTATION, run_soak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds of warm-up excluded from growth")
    parser.add_argument("--json", help="also write every sample as JSON")
    parser.add_argument("--rotation", default=",".join(DEFAULT_ROTATION),
                        help="comma-separated TASK:MODEL panes to switch between (one entry: reload the same model)")
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--panes", type=int, choices=(1, 2, 4), default=1,
                        help="panes to run side by side; switches replace them in turn and step the layout")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cnnlens-soak-") as folder:
        report = run_soak(args.minutes * 60, Path(folder), rotation=args.rotation.split(","), imgsz=args.imgsz,
                          warmup_s=args.warmup, sample_every_s=15.0, panes=args.panes,
                          on_sample=lambda s: print(f"{s.elapsed_s:6.0f} s  RSS {s.rss_mb:7.1f} MB  "
                                                    f"threads {s.threads}  files {s.open_files}  "
                                                    f"latency {s.latency_ms:.0f} ms", file=sys.stderr))
    print(report.format())
    if args.json:
        payload = {"samples": [asdict(s) for s in report.samples], "growth": report.growth_after_warmup()}
        Path(args.json).write_text(json.dumps(payload, indent=2))
    growth = report.growth_after_warmup()
    return 0 if growth["rss_mb"] < 50 and growth["threads"] <= 0 and growth["open_files"] <= 0 else 1


if __name__ == "__main__":
    sys.exit(main())
