"""``dhuman avatar --demo``: show the animated face, cycle expressions, speak a line."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from app.config.settings import Settings
from app.config.yaml_source import ConfigError


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("avatar", help="show the animated avatar on its own")
    parser.add_argument(
        "--demo", action="store_true", help="cycle expressions and speak a sample line"
    )
    parser.add_argument("--look", help="a bundled look (guide, professional) or a .yaml file")
    parser.add_argument(
        "--seconds", type=float, default=0.0, help="close after this long (default: stay open)"
    )
    parser.add_argument("--screenshot", type=Path, help="save a picture of the window here")


def run(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    if not args.demo:
        err.write("Nothing to do: add --demo to show the avatar cycling its expressions.\n")
        return 2
    from app.gui.avatar_demo import run_demo  # Qt loads only here

    try:
        result = run_demo(
            settings, look_name=args.look, seconds=args.seconds, screenshot=args.screenshot
        )
    except ConfigError as exc:
        err.write(f"{exc}\n")
        return 2
    for notice in result.notices:
        err.write(f"note: {notice}\n")
    out.write(
        f"expressions shown: {', '.join(result.expressions)}\n"
        f"spoken: {' '.join(result.spoken) or '(nothing: no voice)'}\n"
        f"render: {result.fps:.0f} frames/s, worst paint {result.worst_frame_ms:.1f} ms\n"
    )
    return 0
