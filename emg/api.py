"""The toolkit as a library: read a recording, analyse it, get tables.

>>> import emg
>>> analysis = emg.analyze("recordings/examples/hip-thrust-synthetic")  # doctest: +SKIP
>>> analysis.reps[["rep", "order", "lead_ms", "ratio"]]  # doctest: +SKIP

:func:`analyze` resolves its settings with :func:`emg.settings_resolution.resolve_settings`,
as ``emg analyze`` does, so ``emg.analyze(path).to_dict()`` is exactly what ``emg analyze PATH
--json`` prints.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from emg.analysis.offline import OfflineResult, analyze_recording
from emg.analysis.pipeline import AnalysisConfig
from emg.analysis.summary import summarize
from emg.analysis.summary_schema import BurstRow, FlagRow, RepRow
from emg.dsp.chain_limits import SettingError
from emg.errors import EmgInputError
from emg.io.json_files import to_json
from emg.io.library_input import (
    LIBRARY_OPTIONS,
    channel_overrides,
    checked_recording,
    recording_from_array,
    recording_path,
    stream_name,
)
from emg.io.open_recording import open_recording
from emg.real_number import is_real_number
from emg.recording import Recording
from emg.settings_resolution import (
    SettingOverrides,
    default_settings,
    given_config,
    library_overrides,
    resolve_settings,
)
from emg.sources.synthetic import DEMO_SET, SynthConfig, generate_session
from emg.validation.families import check_truth_within, parse_truth, truth_summary

__all__ = [
    "DEMO_SET",
    "Analysis",
    "Scoring",
    "analyze",
    "read",
    "score",
    "simulate",
    "validate",
]

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PathLike = str | os.PathLike[str]


def read(
    path: PathLike,
    channels: Mapping[str, str] | Sequence[str] | None = None,
    stream: str | None = None,
) -> Recording:
    """Read a recording in any format the toolkit reads.

    Parameters
    ----------
    path
        A session folder, a BIDS dataset, BDF/EDF(+), XDF or CSV.
    channels
        Which column is which muscle, as ``emg analyze --channel`` takes it: a mapping
        ``{"glute": "EMG1"}`` or strings ``["glute=EMG1"]``; None: from the column names.
    stream
        In an XDF file with several EMG streams, the name (or source id) of the one to read,
        as ``emg analyze --stream`` takes it.

    Returns
    -------
    Recording
        Microvolts, with its lost-sample mask, events and metadata.

    Raises
    ------
    EmgInputError
        Naming the file, field or row at fault, or the argument (``path``, ``channels``,
        ``stream``) that is not one.
    """
    return open_recording(
        recording_path(path),
        channel_overrides(channels),
        stream_name(stream),
        options=LIBRARY_OPTIONS,
    )


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

    @cached_property
    def _json(self) -> str:
        """The summary as JSON text, worked out once."""
        return to_json(summarize(self.result, self.recording))

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain JSON data.

        Returns
        -------
        dict
            Exactly what ``emg analyze --json`` prints; a new dict at every call.
        """
        data: dict[str, Any] = json.loads(self._json)
        return data

    @property
    def reps(self) -> pd.DataFrame:
        """One row per rep (times in seconds, leads in ms), as in ``to_dict()["reps"]``; its
        columns (:class:`~emg.analysis.summary_schema.RepRow`) even without a rep."""
        return pd.DataFrame(self.to_dict().get("reps", []), columns=list(RepRow.__annotations__))

    @property
    def bursts(self) -> pd.DataFrame:
        """One row per burst of each channel: ``channel``, then the burst's fields as in
        ``to_dict()["bursts"][channel]`` (onset, offset, peak; seconds, µV); these columns
        even without a burst."""
        per_channel: dict[str, list[dict[str, Any]]] = self.to_dict().get("bursts", {})
        rows = [
            {"channel": channel, **burst}
            for channel, bursts in per_channel.items()
            for burst in bursts
        ]
        return pd.DataFrame(rows, columns=["channel", *BurstRow.__annotations__])

    @property
    def flags(self) -> pd.DataFrame:
        """One row per change of the unexpected-order flag; its columns
        (:class:`~emg.analysis.summary_schema.FlagRow`) even without a flag."""
        return pd.DataFrame(self.to_dict().get("flags", []), columns=list(FlagRow.__annotations__))

    @property
    def cramp_risk(self) -> Any:
        """The cramp-risk level and its reasons at the end of the set."""
        return self.to_dict().get("cramp_risk")

    def plot(self) -> dict[str, Figure]:
        """The session report's figures (``emg report``), as matplotlib figures.

        Returns
        -------
        dict
            ``envelopes`` (one panel per rep, onsets and thresholds), ``lead`` (per rep,
            with the margin), ``ratio`` (the trend over the set) — each only when there are
            reps — and ``timeline`` (reps, flags, cramp risk, lost samples).
        """
        from emg.report.content import build_content
        from emg.report.figures import report_matplotlib_figures

        result = analyze_recording(self.recording, self.settings, keep_envelope=True)
        content = build_content(self.recording, result, "as resolved by emg.analyze")
        return {name: figure for name, _, _, figure in report_matplotlib_figures(result, content)}


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
    lead: str | None = None,
    config: AnalysisConfig | None = None,
    athlete: str | None = None,
    db: PathLike | None = None,
    reuse_mvc: bool = False,
) -> Analysis:
    """Analyse a recording: reps, onset order, lead, ratio, flags, bursts and cramp risk.

    Parameters
    ----------
    data
        A path (any readable format), a :class:`~emg.recording.Recording`, or an array
        ``(n_samples, n_channels)`` of real numbers in microvolts with ``fs`` and ``channels``
        (copied; checked as the readers check a file: no NaN or infinite sample, none beyond
        :data:`~emg.block.MAX_SAMPLE_UV`). A lost sample is given as a ``Recording`` with its
        ``lost`` mask.
    fs
        Sample rate (Hz) of an array; a file and a recording have their own.
    channels
        For an array: a list of one muscle name per column (``"glute"``,
        ``"hamstring_left"``, ...), each muscle once. For a path: which column is which muscle
        (see :func:`read`). A recording has its own.
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
        Onset refinement (``cusum-edge``, the default, ``cusum``, ``edge``, ``bayes``,
        ``bonato``, ``aglr``); None: as recorded or the default.
    lead
        With the edge refinements, where the lead comes from: ``steady`` (the change points
        and rises) or ``edges`` (moved towards the fitted edges'); None: as recorded or the
        default (:attr:`emg.analysis.reps.RepConfig.lead`).
    config
        Complete settings to use as they are (an
        :class:`~emg.analysis.pipeline.AnalysisConfig`, as ``Analysis.settings`` holds);
        none of the settings above is then given.
    athlete
        Index the session under this athlete in the database beside the recording (as
        ``emg analyze PATH --athlete NAME``); ``data`` must then be a path.
    db
        With ``athlete``: the athletes' database; None: ``athletes.sqlite`` beside the
        recording.
    reuse_mvc
        With ``athlete`` and no ``mvc``: normalise to the MVC of the athlete's latest earlier
        session recorded with the same sensors (as ``--reuse-mvc``; the settings used are in
        ``Analysis.settings``).

    Returns
    -------
    Analysis

    Raises
    ------
    EmgInputError
        Naming the file, field or setting at fault, or the argument (``data``, ``fs``,
        ``channels``) that is not one, or one given where it would be ignored (``fs`` or
        ``channels`` with a recording that has its own).
    SettingError
        Naming the setting (``mains``, ``mvc``, ``config``, ...) that is not one, one that
        ``config`` would leave unused, or ``db`` without ``athlete``.
    """
    given: dict[str, Any] = {"exercise": exercise, "mvc": mvc, "rest": rest, "mains": mains}
    given |= {"refinement": refinement, "lead": lead}
    overrides = library_overrides(**given) if config is None else None
    if config is not None:
        config = given_config(config, given)
    if athlete is not None and not isinstance(data, str | os.PathLike):
        raise SettingError("athlete", "indexes a recording on disk: give its path as data")
    if reuse_mvc and athlete is None:
        raise SettingError("reuse_mvc", "needs an athlete whose earlier session to take it from")
    if db is not None and athlete is None:
        raise SettingError("db", "is where an athlete's sessions are indexed: give the athlete")
    recording = _recording(data, fs, channels)
    if config is None:
        config = resolve_settings(recording, overrides)
    if athlete is not None:
        from emg.athlete_history import recording_settings

        store = None if db is None else Path(db)
        config, _ = recording_settings(config, athlete, recording, str(data), store, reuse_mvc)
    analysis = Analysis(recording, config, analyze_recording(recording, config))
    if athlete is not None:
        from emg.athlete_history import index_session

        index_session(summarize(analysis.result, recording), recording, athlete, str(data), store)
    return analysis


@dataclass(frozen=True)
class Scoring:
    """An analysis scored against the recording's true onsets.

    Attributes
    ----------
    summary
        Exactly what ``emg validate --truth FILE RECORDING --json`` prints, without the two
        file names: counts, onset errors (median, signed median, p95, how many more than 20 ms
        early, missed, spurious), lead error, order accuracy, near-zero leads called
        hamstring-first, false flags, per rep.
    """

    summary: dict[str, Any]

    @property
    def reps(self) -> pd.DataFrame:
        """Per true rep: its lead, the analysis's lead, the lead's error and the order, and each
        muscle's onset error (ms)."""
        return pd.DataFrame(self.summary["reps"])


def score(analysis: Analysis, truth: PathLike | Mapping[str, Any]) -> Scoring:
    """Score an analysis against annotated onsets (a lab's own, or ``emg.simulate``'s truth).

    Parameters
    ----------
    analysis
        From :func:`analyze`.
    truth
        A truth JSON file in the format ``emg synth`` writes, or its parsed contents: ``reps``,
        each with ``glute_onset_s`` and ``hamstring_onset_s`` (seconds from the start).

    Returns
    -------
    Scoring

    Raises
    ------
    EmgInputError
        Naming ``analysis`` when it is not an :class:`Analysis`, ``truth`` when it is neither
        a path nor a mapping, else the file and field of the truth at fault: one that cannot
        be read, or a true onset past the end of the recording analysed (another recording's
        truth, or times in milliseconds), as ``emg validate --truth`` refuses it.
    """
    if not isinstance(analysis, Analysis):
        raise EmgInputError(
            f"must be what emg.analyze returns (an Analysis), got {type(analysis).__name__}",
            source="analysis",
        )
    if isinstance(truth, Mapping):
        data, source = dict(truth), "truth"
    elif isinstance(truth, str | os.PathLike):
        source = str(truth)
        try:
            data = json.loads(Path(truth).read_text(encoding="utf-8"))
        except OSError as error:
            raise EmgInputError(f"cannot read: {error.strerror}", source=source) from None
        except UnicodeDecodeError:
            raise EmgInputError("not a JSON text file", source=source) from None
        except json.JSONDecodeError as error:
            raise EmgInputError(
                f"not valid JSON: {error.msg}", source=source, line=error.lineno
            ) from None
    else:
        raise EmgInputError(
            "must be a truth file's path or its parsed contents (a mapping with 'reps'), got "
            f"{type(truth).__name__}",
            source="truth",
        )
    true_reps = parse_truth(data, source)
    check_truth_within(true_reps, analysis.recording.duration_s, source)
    summary = truth_summary(analysis.result, true_reps, analysis.settings)
    return Scoring(json.loads(to_json(summary)))


def simulate(config: SynthConfig | None = None, **options: Any) -> tuple[Recording, dict[str, Any]]:
    """A synthetic hip-thrust set with its ground truth, as ``emg synth`` writes it.

    Parameters
    ----------
    config
        The set to start from (:data:`DEMO_SET` is the built-in one); None: the generator's
        defaults.
    **options
        :class:`~emg.sources.synthetic.SynthConfig` fields to change: ``reps``, ``lead_ms``
        (one value, or one per rep; negative: hamstrings first), ``snr_db``, ``fs``,
        ``seed``, ``sides``, ``ramp_s``, ``noise_uv``, ``mains_hz``, ``mains_uv``,
        ``artefact_uv``, ``crosstalk``, ``fatigue``, ``cramp_rep``, ``loss`` ... (what each
        may be: :mod:`emg.sources.synthetic_limits`).

    Returns
    -------
    recording, truth
        The set (microvolts) and its truth (``reps`` with each muscle's true onset, the lead
        and the order; the truth file's contents).

    Raises
    ------
    EmgInputError
        For a ``config`` that is not a :class:`~emg.sources.synthetic.SynthConfig`, an option
        the generator does not have, or a value it refuses (of the wrong type, out of its
        range, or one that does not fit the others: a rest below 0, a level of 0), naming it
        and saying what it may be.
    """
    if config is not None and not isinstance(config, SynthConfig):
        raise EmgInputError(
            f"config must be a SynthConfig (emg.DEMO_SET is one) or None, got "
            f"{type(config).__name__}: give the set's settings as keywords instead"
        )
    base = config or SynthConfig()
    known = {f.name for f in dataclasses.fields(SynthConfig)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise EmgInputError(f"no such option of the synthetic set: {', '.join(unknown)}")
    leads = options.get("lead_ms")
    if isinstance(leads, list | tuple | np.ndarray):
        # numbers as floats, as emg synth gives them; anything else the generator refuses
        options["lead_ms"] = tuple(float(v) if is_real_number(v) else v for v in leads)
    try:
        session = generate_session(dataclasses.replace(base, **options))
    except ValueError as error:
        raise EmgInputError(str(error)) from None
    return session.recording, session.truth


def validate(
    family: str | None = None,
    *,
    snr_db: Sequence[float] | float | None = None,
    leads_ms: Sequence[float] | float | None = None,
    seeds: int | None = None,
    reps: int | None = None,
    fs: Sequence[float] | float | None = None,
    exercise: str | None = None,
    refinement: str | None = None,
    lead: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Accuracy of the method on synthetic sets with known ground truth, as tables.

    Parameters
    ----------
    family
        None: the project's grid (``emg validate``); a simulator family (``own``,
        ``spectral``, ``motor-unit``) or ``all``: the family validation (``emg validate
        --family``).
    snr_db, leads_ms, seeds, reps, fs
        The grid (None: the command's defaults): SNRs (dB), leads (ms) and sample rates (Hz)
        each a list of numbers or one number (the project's grid takes one rate);
        ``seeds`` (how many per cell) and ``reps`` (per set) whole numbers. A family
        validation sets its own SNRs: ``snr_db`` is refused with ``family``, as ``emg validate
        --family`` refuses ``--snr-db``.
    exercise, refinement, lead
        As :func:`analyze` takes them.

    Returns
    -------
    dict of str to pandas.DataFrame
        The grid: ``onsets``, ``order``, ``flag``, ``cramp``, ``decision_delay_ms`` and
        ``ratio``. A family validation: ``conditions`` (one row per family and condition,
        nested figures flattened as ``onset.median`` ...), ``first_burst``, ``targets``
        (each target on its worst family and condition) and ``hamstring_first_calls`` (one
        row: missed and false hamstring-first calls over every condition). The same
        numbers ``emg validate --json`` prints.

    Raises
    ------
    EmgInputError
        Naming the setting at fault (a :class:`~emg.dsp.chain_limits.SettingError`): an
        unknown family, a value out of range or of the wrong kind (text where numbers are
        wanted, a fraction for a count), or one that does not apply.
    """
    from emg.validation.runs import family_grid, validate_families, validate_grid, validation_grid

    given = SettingOverrides(refinement=refinement, exercise=exercise, lead=lead)
    settings = default_settings(given)
    if family is None:
        grid = validation_grid(snr_db=snr_db, leads_ms=leads_ms, seeds=seeds, reps=reps, fs=fs)
        summary = validate_grid(grid, settings)
        return {
            key: pd.DataFrame(value) if isinstance(value, list) else pd.DataFrame([value])
            for key, value in summary.items()
            if key not in ("peers", "grid")
        }
    families = family_grid(family, leads_ms=leads_ms, fs=fs, seeds=seeds, reps=reps, snr_db=snr_db)
    (summary,) = validate_families(families, settings)
    return {
        "conditions": pd.json_normalize(summary["conditions"]),
        "first_burst": pd.json_normalize(summary["first_burst"]),
        "targets": pd.DataFrame(summary["targets"]),
        "hamstring_first_calls": pd.DataFrame([summary["hamstring_first_calls"]]),
    }


def _recording(
    data: PathLike | Recording | npt.ArrayLike,
    fs: float | None,
    channels: Mapping[str, str] | Sequence[str] | None,
) -> Recording:
    """What ``data`` is, checked: a recording (its rate and channels its own), a path (read,
    ``channels`` naming its columns) or an array (copied, with ``fs`` and ``channels``)."""
    if isinstance(data, Recording | str | os.PathLike) and fs is not None:
        what = "a Recording" if isinstance(data, Recording) else "a file"
        raise EmgInputError(
            f"{what} has its own sample rate: give fs only with an array", source="fs"
        )
    if isinstance(data, Recording):
        if channels is not None:
            raise EmgInputError(
                "a Recording has its channels named: give channels only with an array or a path",
                source="channels",
            )
        return checked_recording(data)
    if isinstance(data, str | os.PathLike):
        return read(data, channels)
    return recording_from_array(data, fs, channels)
