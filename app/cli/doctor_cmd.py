"""``dhuman doctor``: print what works and what is missing, with the exact fix."""

from __future__ import annotations

from typing import Any, TextIO

from app.config.settings import Settings
from app.diagnostics import run_all

_MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def add_parser(sub: Any) -> None:
    sub.add_parser("doctor", help="check dependencies, devices, models and the LLM endpoint")


def run(settings: Settings, out: TextIO) -> int:
    checks = run_all(settings)
    for check in checks:
        out.write(f"[{_MARK[check.status]}] {check.area:<9} {check.detail}\n")
        if check.fix and check.status != "ok":
            out.write(f"{'':17}fix: {check.fix}\n")
    failed = sum(c.status == "fail" for c in checks)
    warned = sum(c.status == "warn" for c in checks)
    out.write(f"\n{len(checks)} checks: {failed} failed, {warned} warnings\n")
    return 1 if failed else 0
