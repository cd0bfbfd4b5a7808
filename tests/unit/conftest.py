"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest

from dialog.safety import SemanticCrisisCheck


@pytest.fixture(scope="session")
def semantic() -> SemanticCrisisCheck:
    """The real sentence-encoder crisis check, loaded once for every file that asks."""
    check = SemanticCrisisCheck()
    if not check.wait_ready(120):
        pytest.skip(f"sentence encoder not available: {check.problem}")
    return check
