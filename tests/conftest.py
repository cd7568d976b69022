"""Test setup: headless Qt, no hypothesis deadlines, paths to the example recordings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# No test may depend on how loaded the machine is: hypothesis's per-example deadline (200 ms)
# is a timing check, and the suite runs on every core beside whatever else the machine does.
settings.register_profile("any-load", deadline=None)
settings.load_profile("any-load")

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = ROOT / "recordings" / "public"


@pytest.fixture
def public_dir() -> Path:
    """Folder of the public real recordings shipped with the project."""
    return PUBLIC
