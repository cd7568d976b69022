"""Analysis settings as plain data, so a session keeps the settings it was recorded with."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from emg.analysis.exercises import ExerciseConfig
from emg.analysis.normalisation import Normalisation
from emg.analysis.pipeline import AnalysisConfig
from emg.analysis.recruitment import RiskConfig
from emg.analysis.reps import RepConfig
from emg.dsp.chain import ChainConfig

T = TypeVar("T")

#: The parts of :class:`AnalysisConfig` and their types.
PARTS: dict[str, type] = {
    "chain": ChainConfig,
    "exercise": ExerciseConfig,
    "normalisation": Normalisation,
    "risk": RiskConfig,
    "reps": RepConfig,
}


def settings_to_dict(config: AnalysisConfig) -> dict[str, Any]:
    """All analysis settings as JSON-ready data (tuples become lists)."""
    return {name: _plain(dataclasses.asdict(getattr(config, name))) for name in PARTS}


def settings_from_dict(values: Mapping[str, Any]) -> AnalysisConfig:
    """Rebuild settings written by :func:`settings_to_dict`.

    Parts or fields that are missing take their defaults, so a session written by an older
    version still opens.

    Raises
    ------
    ValueError
        Naming the part and field that is unknown or has an invalid value.
    """
    unknown = set(values) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown settings part(s): {', '.join(sorted(unknown))}")
    parts: dict[str, Any] = {
        name: _build(cls, values.get(name) or {}, name) for name, cls in PARTS.items()
    }
    return AnalysisConfig(**parts)


def _build(cls: type[T], values: Mapping[str, Any], part: str) -> T:
    if not isinstance(values, Mapping):
        raise ValueError(f"settings '{part}' must be a mapping, got {type(values).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(values) - names
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(sorted(unknown))} in '{part}'")
    converted = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    try:
        return cls(**converted)
    except (TypeError, ValueError) as error:
        raise ValueError(f"invalid settings in '{part}': {error}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
