"""Test setup: headless Qt, paths to the example recordings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = ROOT / "recordings" / "public"


@pytest.fixture
def public_dir() -> Path:
    """Folder of the public real recordings shipped with the project."""
    return PUBLIC
