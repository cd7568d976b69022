"""The toolkit as a library: read a recording, analyse it, get tables.

>>> import emg
>>> analysis = emg.analyze("recordings/examples/hip-thrust-synthetic")  # doctest: +SKIP
>>> analysis.reps[["rep", "order", "lead_ms", "ratio"]]  # doctest: +SKIP

:func:`analyze` resolves its settings with :func:`emg.settings_resolution.resolve_settings`,
as ``emg analyze`` does, so ``emg.analyze(path).to_dict()`` is exactly what ``emg analyze PATH
--json`` prints.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from emg.analysis.offline import OfflineResult, analyze_recording
from emg.analysis.pipeline import AnalysisConfig
from emg.analysis.summary import summarize
from emg.block import Channel
from emg.errors import EmgInputError
from emg.io.channel_map import parse_channel_overrides
from emg.io.json_files import to_json
from emg.io.open_recording import open_recording
from emg.recording import Recording
from emg.settings_resolution import SettingOverrides, resolve_settings

PathLike = str | os.PathLike[str]


def read(path: PathLike, channels: Mapping[str, str] | Sequence[str] | None = None) -> Recording:
    """Read a recording in any format the toolkit reads.

    Parameters
    ----------
    path
        A session folder, a BIDS dataset, BDF/EDF(+), XDF or CSV.
    channels
        Which column is which muscle, as ``emg analyze --channel`` takes it: a mapping
        ``{"glute": "EMG1"}`` or strings ``["glute=EMG1"]``; None: from the column names.

    Returns
    -------
    Recording
        Microvolts, with its lost-sample mask, events and metadata.

    Raises
    ------
    EmgInputError
        Naming the file, field or row at fault.
    """
    if channels is None:
        overrides = None
    elif isinstance(channels, Mapping):
        overrides = parse_channel_overrides([f"{m}={c}" for m, c in channels.items()])
    else:
        overrides = parse_channel_overrides(list(channels))
    return open_recording(Path(path), overrides or None)


@dataclass(frozen=True)
class Analysis:
    """One recording analysed.

    Attributes
    ----------
    recording
        What was analysed.
    settings
        The settings it was analysed with (recorded ones, defaults and overrides resolved).
    result
        The streaming analysis's own output (sample indices).
    """

    recording: Recording
    settings: AnalysisConfig
    result: OfflineResult

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain JSON data: exactly what ``emg analyze --json`` prints."""
        data: dict[str, Any] = json.loads(to_json(summarize(self.result, self.recording)))
        return data

    @property
    def reps(self) -> pd.DataFrame:
        """One row per rep (times in seconds, leads in ms), as in ``to_dict()["reps"]``."""
        return pd.DataFrame(self.to_dict().get("reps", []))

    @property
    def bursts(self) -> pd.DataFrame:
        """One row per burst of each channel (onset, offset, peak; seconds, µV)."""
        return pd.DataFrame(self.to_dict().get("bursts", []))

    @property
    def flags(self) -> pd.DataFrame:
        """One row per change of the unexpected-order flag."""
        return pd.DataFrame(self.to_dict().get("flags", []))

    @property
    def cramp_risk(self) -> Any:
        """The cramp-risk level and its reasons at the end of the set."""
        return self.to_dict().get("cramp_risk")


def analyze(
    data: PathLike | Recording | npt.ArrayLike,
    fs: float | None = None,
    channels: Mapping[str, str] | Sequence[str] | None = None,
    *,
    exercise: str | None = None,
    mvc: Mapping[str, str | float] | None = None,
    rest: tuple[float, float] | None = None,
    mains: str | None = None,
    refinement: str | None = None,
    config: AnalysisConfig | None = None,
) -> Analysis:
    """Analyse a recording: reps, onset order, lead, ratio, flags, bursts and cramp risk.

    Parameters
    ----------
    data
        A path (any readable format), a :class:`~emg.recording.Recording`, or an array
        ``(n_samples, n_channels)`` in microvolts with ``fs`` and ``channels``.
    fs
        Sample rate (Hz) of an array.
    channels
        For an array: one muscle name per column (``"glute"``, ``"hamstring_left"``, ...).
        For a path: which column is which muscle (see :func:`read`).
    exercise
        Exercise preset (``hip-thrust``, ``squat``, ``prone-hip-extension``); None: as
        recorded, else the hip thrust.
    mvc
        MVC reference per muscle group, in µV or as ``emg analyze --mvc`` takes a source
        (``"trial.csv"``, ``"trial.csv:2-5"``, ``"2-5"``, ``"310uv"``).
    rest
        Quiet period ``(start_s, end_s)`` for the noise floor.
    mains
        ``auto``, ``off``, ``50`` or ``60``; None: as recorded, else ``auto``.
    refinement
        Onset refinement (``cusum``, ``edge``, ``bonato``); None: as recorded or the default.
    config
        Complete settings to use as they are (nothing above is then resolved).

    Returns
    -------
    Analysis

    Raises
    ------
    EmgInputError
        Naming the file, field or setting at fault.
    """
    recording = _recording(data, fs, channels)
    if config is None:
        overrides = SettingOverrides(
            chain={"rest": rest},
            refinement=refinement,
            mains=mains,
            exercise=exercise,
            mvc=dict(mvc or {}),
        )
        config = resolve_settings(recording, overrides)
    return Analysis(recording, config, analyze_recording(recording, config))


def _recording(
    data: PathLike | Recording | npt.ArrayLike,
    fs: float | None,
    channels: Mapping[str, str] | Sequence[str] | None,
) -> Recording:
    if isinstance(data, Recording):
        return data
    if isinstance(data, str | os.PathLike):
        return read(data, channels)
    samples = np.asarray(data, dtype=np.float32)
    if samples.ndim != 2:
        raise EmgInputError(
            f"an array must be (n_samples, n_channels), not {samples.shape}", field="data"
        )
    if fs is None or channels is None or isinstance(channels, Mapping):
        raise EmgInputError("an array needs fs and a list of channel names", field="fs")
    names = list(channels)
    if len(names) != samples.shape[1]:
        raise EmgInputError(
            f"{len(names)} channel names for {samples.shape[1]} columns", field="channels"
        )
    try:
        described = tuple(Channel.from_name(name) for name in names)
    except KeyError as error:
        raise EmgInputError(str(error.args[0]), field="channels") from None
    return Recording(samples, float(fs), described, source="array")
