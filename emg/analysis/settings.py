"""Analysis settings as plain data, so a session keeps the settings it was recorded with.

Every setting is checked where its config is made (:mod:`emg.dsp.chain_limits` for the signal
chain, :data:`emg.analysis.pipeline.PART_LIMITS` for the rest), so settings read back from a
file and settings given in code or on the command line are refused alike; this module only
says where the value came from (``session.json`` field ``analysis.chain.hold_s``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from emg.analysis.exercises import EXERCISES, ExerciseConfig
from emg.analysis.normalisation import Normalisation
from emg.analysis.personal_band import PersonalBand
from emg.analysis.pipeline import AnalysisConfig, check_part_values
from emg.analysis.recruitment import RiskConfig
from emg.analysis.reps import RepConfig
from emg.dsp.chain import ChainConfig
from emg.dsp.chain_limits import SettingError
from emg.errors import EmgInputError
from emg.recording import Recording

T = TypeVar("T")

#: The parts of :class:`AnalysisConfig` and their types.
PARTS: dict[str, type] = {
    "chain": ChainConfig,
    "exercise": ExerciseConfig,
    "normalisation": Normalisation,
    "risk": RiskConfig,
    "reps": RepConfig,
}

#: Where the athlete's own band is kept beside the parts.
BAND = "band"

#: Longest recording ``emg record --duration`` accepts (a day, in seconds).
MAX_DURATION_S = 86_400.0

__all__ = [
    "KNOWN_EXERCISES",
    "MAX_DURATION_S",
    "PARTS",
    "SettingError",
    "check_duration",
    "recorded_exercise",
    "recorded_settings",
    "settings_from_dict",
    "settings_to_dict",
]


def settings_to_dict(config: AnalysisConfig) -> dict[str, Any]:
    """All analysis settings as JSON-ready data (tuples become lists); the athlete's own band
    under ``band`` when there is one."""
    values = {name: _plain(dataclasses.asdict(getattr(config, name))) for name in PARTS}
    if config.band is not None:
        values[BAND] = dataclasses.asdict(config.band)
    return values


def settings_from_dict(values: Mapping[str, Any]) -> AnalysisConfig:
    """Rebuild settings written by :func:`settings_to_dict`.

    Parts or fields that are missing take their defaults, so a session written by an older
    version still opens; a setting the session predates takes the value it was analysed
    with (:data:`LEGACY_VALUES`), so it replays to what it recorded.

    Raises
    ------
    SettingError
        Naming the part and field (``chain.hold_s``) that is unknown or has an invalid value.
    """
    if not isinstance(values, Mapping):
        raise SettingError(
            "analysis", f"the settings must be a mapping of parts, got {type(values).__name__}"
        )
    unknown = sorted(str(k) for k in set(values) - set(PARTS) - {BAND})
    if unknown:
        raise SettingError(
            unknown[0], f"unknown settings part(s) {', '.join(unknown)} (known: {', '.join(PARTS)})"
        )
    parts: dict[str, Any] = {
        name: _build(cls, _with_legacy(name, values.get(name) or {}), name)
        for name, cls in PARTS.items()
    }
    if values.get(BAND):
        parts[BAND] = _build(PersonalBand, values[BAND], BAND)
    return AnalysisConfig(**parts)


#: settings that sessions written before them were analysed without: the value that
#: reproduces those sessions (their default at the time), not today's default
LEGACY_VALUES: dict[str, dict[str, Any]] = {
    "chain": {
        "refinement": "cusum",
        "refine_s": 0.150,
        "remove_crosstalk": False,
        "mains_bridge": False,
    },
    "reps": {"start_weight": 0.0},
}


def _with_legacy(part: str, values: Any) -> Any:
    """``values`` of a part, with the legacy value of each setting it predates."""
    legacy = LEGACY_VALUES.get(part)
    if not legacy or not isinstance(values, Mapping) or not values:
        return values
    return {**legacy, **values}


def _build(cls: type[T], values: Mapping[str, Any], part: str) -> T:
    if not isinstance(values, Mapping):
        raise SettingError(
            part, f"settings '{part}' must be a mapping, got {type(values).__name__}"
        )
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(str(k) for k in set(values) - names)
    if unknown:
        raise SettingError(
            f"{part}.{unknown[0]}", f"unknown setting(s) {', '.join(unknown)} in '{part}'"
        )
    converted = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    check_part_values(part, converted)
    try:
        return cls(**converted)
    except SettingError as error:
        raise SettingError(f"{part}.{error.setting}", error.reason) from None
    except (TypeError, ValueError) as error:
        raise SettingError(part, f"invalid settings in '{part}': {error}") from None


def recorded_settings(recording: Recording) -> AnalysisConfig | None:
    """The analysis settings a recording was made with (``metadata["analysis"]``), if any.

    Parameters
    ----------
    recording
        As read; a session folder's settings come from its ``session.json``.

    Returns
    -------
    AnalysisConfig or None
        None when the recording keeps no settings.

    Raises
    ------
    EmgInputError
        Naming the file and the field at fault, e.g. ``session.json: field
        'analysis.chain.hold_s': the onset hold time must be from 1 ms to 5 s, got 1e+09 s``.
    """
    stored = recording.metadata.get("analysis")
    if stored is None or (isinstance(stored, Mapping) and not stored):
        return None
    key = str(recording.metadata.get("settings_key") or "analysis")  # where the file keeps them
    try:
        return settings_from_dict(stored)
    except SettingError as error:
        raise EmgInputError(
            f"field '{key}.{error.setting}': {error.reason}"
            if error.setting != "analysis"
            else f"field '{key}': {error.reason}",
            source=settings_source(recording),
        ) from None


#: The exercises a session may be recorded as: the presets, and ``custom``.
KNOWN_EXERCISES = (*EXERCISES, "custom")


def recorded_exercise(recording: Recording) -> str | None:
    """The exercise a session was recorded as, where its settings do not say one.

    ``session.json`` names the exercise (``exercise``) beside the settings (``analysis``); a
    session whose settings keep no exercise part (an older or hand-made ``session.json``
    without ``analysis``, or without ``analysis.exercise``) is analysed as the exercise it
    names. Other formats' task names (a BIDS ``TaskName``) are labels of the lab's choosing,
    not exercises: they are not taken.

    Parameters
    ----------
    recording
        As read.

    Returns
    -------
    str or None
        ``hip-thrust``, ``prone-hip-extension``, ``squat`` or ``custom``; None when the
        recording is not a session, names no exercise, or its settings keep one (those are
        the ones used).

    Raises
    ------
    EmgInputError
        Naming ``session.json`` and the field, for an exercise the toolkit does not know.
    """
    meta = recording.metadata
    if meta.get("source_format") != "native":
        return None
    stored = meta.get("analysis")
    if isinstance(stored, Mapping) and stored.get("exercise"):
        return None
    name = meta.get("exercise")
    if name is None:
        return None
    if not isinstance(name, str) or name not in KNOWN_EXERCISES:
        raise EmgInputError(
            f"exercise {name!r} is not one the toolkit knows ({', '.join(KNOWN_EXERCISES)})",
            source=settings_source(recording),
        )
    return name


def settings_source(recording: Recording) -> str | None:
    """The file a recording's settings were read from (``session.json`` of a session, the
    JSON sidecar of an export)."""
    settings_file = recording.metadata.get("settings_file")
    if settings_file:
        return str(settings_file)
    if not recording.source:
        return None
    if recording.metadata.get("source_format") == "native":
        return str(Path(recording.source) / "session.json")
    return recording.source


def check_duration(seconds: float, setting: str = "--duration") -> float:
    """Check a recording length (``emg record --duration``).

    Parameters
    ----------
    seconds
        How long to record.
    setting
        The option or field it came from, for the message.

    Returns
    -------
    float
        ``seconds``, when it is a number above 0 and at most :data:`MAX_DURATION_S`.

    Raises
    ------
    SettingError
        Naming ``setting``: NaN, infinite, zero or negative, or longer than a day.
    """
    number = isinstance(seconds, int | float) and not isinstance(seconds, bool)
    if not (number and math.isfinite(seconds) and 0 < seconds <= MAX_DURATION_S):
        raise SettingError(
            setting,
            f"the recording length must be above 0 s and at most {MAX_DURATION_S:g} s (a day), "
            f"got {seconds!r}",
        )
    return float(seconds)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
