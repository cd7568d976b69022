"""JSON side files (ground truth of synthetic sessions, analysis results)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from emg.errors import EmgInputError
from emg.io.read_errors import read_error

#: The key under which an export's JSON sidecar (CSV, BIDS) carries the analysis settings the
#: session was recorded with, read back as that recording's settings.
SETTINGS_KEY = "EmgAnalysisSettings"


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def to_json(data: Any) -> str:
    """Serialise plain data (numpy scalars and arrays allowed) as indented JSON."""
    return json.dumps(_plain(data), indent=2)


def read_json(path: str | Path) -> Any:
    """The JSON content of ``path``.

    Raises
    ------
    EmgInputError
        Naming the file (and the line) when it cannot be read or is not valid JSON.
    """
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise EmgInputError(
            f"not valid JSON ({error.msg})", source=str(path), line=error.lineno
        ) from None
    except OSError as error:
        raise EmgInputError(read_error(error), source=str(path)) from None
    except UnicodeDecodeError as error:
        raise EmgInputError(f"cannot read: {error}", source=str(path)) from None


def write_json(path: str | Path, data: Any) -> None:
    """Write plain data as indented JSON to ``path``."""
    Path(path).write_text(to_json(data) + "\n", encoding="utf-8")


def truth_path(csv_path: str | Path) -> Path:
    """Ground-truth file beside a synthetic CSV: ``OUT.csv`` -> ``OUT.truth.json``."""
    path = Path(csv_path)
    return path.with_name(path.stem + ".truth.json")
