"""The API reference builds from the docstrings, with every public name in it and no warning
(numpydoc checks that every parameter and return value is documented)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import emg

DOCS = Path(__file__).resolve().parents[1] / "docs" / "api"


def test_api_reference_builds_and_documents_every_public_name(tmp_path: Path) -> None:
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(DOCS), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    for name in emg.__all__:
        if name != "__version__":
            assert f'id="emg.{name}"' in page, name
