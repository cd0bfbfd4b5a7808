"""Where the app's bundled data lives."""

from __future__ import annotations

import os
from pathlib import Path


def assets_dir() -> Path:
    """``assets/`` of the checkout (editable install), or ``DHUMAN_ASSETS_DIR`` when packaged."""
    override = os.environ.get("DHUMAN_ASSETS_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[1] / "assets"
