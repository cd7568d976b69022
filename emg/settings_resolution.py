"""The analysis settings of one recording: the one place they are decided.

A recording is analysed with the settings it was recorded with (a session keeps them), else
with the defaults (the README's "How it works"); the overrides given change them; the mains
notch is picked from the recording (``auto``) unless it was recorded or given; MVC references
are measured from the trials or segments named. ``emg analyze``, ``emg report``, ``emg
replay``, ``emg validate --truth``, the batch and :func:`emg.analyze` all call
:func:`resolve_settings`, so one recording gives the same numbers whichever way it is
analysed. A setting that cannot be used raises :class:`~emg.dsp.chain_limits.SettingError`
naming it; the command line names the option that gave it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emg.analysis.calibration import mvc_channel, mvc_from_recording
from emg.analysis.exercises import ExerciseConfig, exercise_preset
from emg.analysis.normalisation import MIN_MVC_UV, Normalisation
from emg.analysis.offline import check_recording, mains_choice, resolve_mains
from emg.analysis.pipeline import AnalysisConfig, check_part_values
from emg.analysis.reps import RepConfig
from emg.analysis.settings import (
    recorded_exercise,
    recorded_settings,
    settings_source,
    settings_to_dict,
)
from emg.dsp.chain import ChainConfig
from emg.dsp.chain_limits import SettingError
from emg.dsp.onset import EDGE_REFINEMENTS
from emg.errors import EmgInputError
from emg.io.open_recording import open_recording
from emg.order import ExpectedOrder
from emg.real_number import real_number
from emg.recording import Recording

#: Signal-chain settings an override may change (seconds and hertz, as in ChainConfig).
CHAIN_OVERRIDES = ("highpass_hz", "lowpass_hz", "envelope_s", "detector", "k", "hold_s", "rest")


@dataclass(frozen=True)
class SettingOverrides:
    """Settings given for an analysis, each None (or empty) when not given.

    Attributes
    ----------
    chain
        Signal-chain settings by :data:`CHAIN_OVERRIDES` name (e.g. ``{"hold_s": 0.08}``).
        Setting ``k`` also lowers the offset threshold to it when it is below the default's.
    refinement
        Onset refinement (``cusum-edge``, the default, ``cusum``, ``edge``, ``bayes``,
        ``bonato``, ``aglr``), with its own search span.
    mains
        ``auto`` (picked from the recording), ``off``, ``50`` or ``60`` (the numbers 50 and 60
        are taken for these); None: as recorded, else ``auto``; anything else is refused
        (:func:`~emg.analysis.offline.mains_choice`).
    exercise
        Exercise preset name, or ``custom`` (then ``expected_order`` is needed).
    expected_order, margin_ms, flag
        Overrides of the exercise's rule (``flag``: at least N of the last M reps).
    mvc
        MVC reference per muscle group: a number (µV), or a source as ``--mvc`` takes it
        (``FILE``, ``FILE:START-END``, ``START-END`` of the recording, ``310uv``).
    lead
        Where the lead comes from with the edge refinements (``steady`` or ``edges``,
        :attr:`emg.analysis.reps.RepConfig.lead`); the others give the steady lead only, and
        ``edges`` is refused with them (:func:`check_lead`).
    """

    chain: Mapping[str, Any] = field(default_factory=dict)
    refinement: str | None = None
    mains: str | None = None
    exercise: str | None = None
    expected_order: ExpectedOrder | None = None
    margin_ms: float | None = None
    flag: tuple[int, int] | None = None
    mvc: Mapping[str, str | float] = field(default_factory=dict)
    lead: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "mains", mains_choice(self.mains))


#: The settings a library call takes by name (:func:`library_overrides`).
LIBRARY_SETTINGS = ("exercise", "mvc", "rest", "mains", "refinement", "lead")


def library_overrides(
    *,
    exercise: str | None = None,
    mvc: Mapping[str, str | float] | None = None,
    rest: tuple[float, float] | None = None,
    mains: str | None = None,
    refinement: str | None = None,
    lead: str | None = None,
) -> SettingOverrides:
    """The overrides of :func:`emg.analyze`'s and :func:`emg.analyze_many`'s keyword
    settings (each None when not given).

    Raises
    ------
    SettingError
        ``mvc`` when it is not a mapping of muscle group to MVC, ``mains`` when it is none of
        the choices.
    """
    if mvc is not None and not isinstance(mvc, Mapping):
        raise SettingError(
            "mvc",
            "expects one MVC per muscle group, e.g. {'glute': 310.0, 'hamstring': "
            f"'trial.csv'}}, got {mvc!r}",
        )
    return SettingOverrides(
        chain={"rest": _rest_pair(rest)},
        refinement=refinement,
        mains=mains,
        exercise=exercise,
        mvc=dict(mvc or {}),
        lead=lead,
    )


def _rest_pair(rest: object) -> object:
    """A rest period given as any pair of numbers (a list, an array) as the ``(start, end)``
    the chain takes; anything else as given, for the chain's check to refuse by name."""
    if isinstance(rest, str | bytes) or not isinstance(rest, Sequence | np.ndarray):
        return rest
    pair = [real_number(value) for value in list(rest)]
    if len(pair) != 2 or None in pair:
        return rest
    return (pair[0], pair[1])


def given_config(config: object, given: Mapping[str, object]) -> AnalysisConfig:
    """Complete settings given to a library call, to use as they are.

    Parameters
    ----------
    config
        The settings (``Analysis.settings`` holds those of an analysis).
    given
        The call's other settings by name (:data:`LIBRARY_SETTINGS`), None when not given:
        with ``config`` they would be ignored, so none may be given.

    Returns
    -------
    AnalysisConfig
        ``config``.

    Raises
    ------
    SettingError
        ``config`` when it is not an :class:`~emg.analysis.pipeline.AnalysisConfig`, or the
        first setting given besides it.
    """
    if not isinstance(config, AnalysisConfig):
        raise SettingError(
            "config",
            "expects complete settings, an emg.analysis.pipeline.AnalysisConfig (as "
            f"Analysis.settings holds), got {type(config).__name__}",
        )
    for name, value in given.items():
        if value is not None:
            raise SettingError(
                name,
                "would be ignored: config is used as it is; set it in config, or leave config out",
            )
    return config


def resolve_settings(
    recording: Recording, overrides: SettingOverrides | None = None
) -> AnalysisConfig:
    """All analysis settings for ``recording``.

    Parameters
    ----------
    recording
        The recording to analyse (a session keeps the settings it was recorded with).
    overrides
        Settings given; None for none.

    Returns
    -------
    AnalysisConfig
        The recorded settings (else the defaults) with the overrides applied and the mains
        notch resolved on the recording. A session whose settings keep no exercise is
        analysed as the exercise its ``session.json`` names
        (:func:`~emg.analysis.settings.recorded_exercise`), unless one is given.

    Raises
    ------
    SettingError
        A setting given that is out of range, cannot run at the recording's sample rate or
        (the rest period) lies beyond the recording's end, naming it.
    EmgInputError
        Damaged recorded settings (naming the file and field), a recorded exercise the toolkit
        does not know, a recorded rest period beyond the recording's end, or a recording too
        short or sampled too slowly for the analysis
        (:func:`~emg.analysis.offline.check_recording`).
    """
    given = overrides or SettingOverrides()
    stored = recorded_settings(recording)
    base = stored or AnalysisConfig()
    given = _with_recorded_exercise(given, recording)
    chain = chain_settings(given, base.chain)
    check_lead(given, chain)
    _check_rate(chain, recording, given, stored is not None)
    _check_rest(chain, recording, given, stored is not None)
    check_recording(recording, chain)
    mains = given.mains if given.mains is not None else (None if stored else "auto")
    if mains is not None:
        chain = resolve_mains(recording, chain, mains)
    return dataclasses.replace(
        base,
        chain=chain,
        exercise=exercise_settings(given, base.exercise),
        reps=rep_settings(given, base.reps),
        normalisation=(
            normalisation(given.mvc, recording, chain) if given.mvc else base.normalisation
        ),
    )


def with_settings_to_export(recording: Recording) -> Recording:
    """The recording as an export of it is to carry it: a session whose settings keep no
    exercise (a ``session.json`` without ``analysis``, or without its exercise) gets the
    settings it is analysed with, resolved as :func:`resolve_settings` resolves them, so that
    the export (its sidecar) is analysed as the session is. Others as they are, and so is a
    session that cannot be analysed (too short): the export still carries its samples.

    Parameters
    ----------
    recording
        As read.

    Returns
    -------
    Recording
        ``recording``, or a copy whose ``metadata["analysis"]`` are those settings.
    """
    if recorded_exercise(recording) is None:
        return recording
    try:
        config = resolve_settings(recording)
    except (EmgInputError, SettingError):
        return recording
    metadata = {**recording.metadata, "analysis": settings_to_dict(config)}
    return dataclasses.replace(recording, metadata=metadata)


def _with_recorded_exercise(given: SettingOverrides, recording: Recording) -> SettingOverrides:
    """``given`` with the exercise the session was recorded as, when none is given and its
    settings keep none (:func:`~emg.analysis.settings.recorded_exercise`).

    Raises
    ------
    EmgInputError
        Naming ``session.json``: an exercise the toolkit does not know, or ``custom`` with no
        expected order given (its rule is kept in ``analysis.exercise``, which it lacks).
    """
    if given.exercise is not None:
        return given
    name = recorded_exercise(recording)
    if name is None:
        return given
    if name == "custom" and given.expected_order is None:
        raise EmgInputError(
            "exercise 'custom' is recorded without its rule (no 'analysis.exercise'): give the "
            "expected order (glute-first, hamstring-first or any), or another exercise",
            source=settings_source(recording),
        )
    return dataclasses.replace(given, exercise=name)


#: Mains frequency of a live stream whose source does not know it (nothing can be looked up
#: ahead in a stream; 60 Hz regions give it).
LIVE_MAINS_HZ = 50.0


def resolve_live_settings(
    overrides: SettingOverrides | None = None, source_mains_hz: float | None = None
) -> AnalysisConfig:
    """All analysis settings of a live stream, which has no recording to look ahead in.

    Parameters
    ----------
    overrides
        Settings given; ``mains`` ``auto`` (or none) takes ``source_mains_hz`` if the source
        knows it, else :data:`LIVE_MAINS_HZ`.
    source_mains_hz
        The mains frequency the source reports, if any.

    Returns
    -------
    AnalysisConfig

    Raises
    ------
    SettingError
        Naming the setting at fault; ``mvc`` for a segment of the input (there is no
        recording yet: a calibration file or a value is needed).
    """
    given = overrides or SettingOverrides()
    chain = chain_settings(given, None)
    check_lead(given, chain)
    if given.mains in (None, "auto"):
        mains: float | None = source_mains_hz or LIVE_MAINS_HZ
    else:
        mains = None if given.mains == "off" else float(given.mains)
    chain = dataclasses.replace(chain, mains_hz=mains)
    return AnalysisConfig(
        chain=chain,
        exercise=exercise_settings(given),
        reps=rep_settings(given),
        normalisation=normalisation(given.mvc, None, chain),
    )


def chain_settings(given: SettingOverrides, base: ChainConfig | None = None) -> ChainConfig:
    """``base`` (default: the defaults) with the chain overrides and refinement given.

    Raises
    ------
    SettingError
        Naming the setting (``chain.NAME``) out of range or unknown.
    """
    base = base or ChainConfig()
    unknown = sorted(set(given.chain) - set(CHAIN_OVERRIDES))
    if unknown:
        raise SettingError(
            f"chain.{unknown[0]}", f"not a setting that can be given ({', '.join(CHAIN_OVERRIDES)})"
        )
    changes = {name: value for name, value in given.chain.items() if value is not None}
    if changes.get("k") is not None:
        changes["offset_k"] = min(ChainConfig.offset_k, changes["k"])
    with _named_in("chain"):
        config = dataclasses.replace(base, **changes)
        return config if given.refinement is None else config.with_refinement(given.refinement)


def default_settings(given: SettingOverrides) -> AnalysisConfig:
    """The defaults with the chain, exercise and rep overrides given: the settings of
    sets that have no recording to take settings from (synthetic validation), whose mains
    and MVC are worked out per set.

    Raises
    ------
    SettingError
        Naming the setting at fault.
    """
    chain = chain_settings(given)
    check_lead(given, chain)
    return AnalysisConfig(chain=chain, exercise=exercise_settings(given), reps=rep_settings(given))


def check_lead(given: SettingOverrides, chain: ChainConfig) -> None:
    """Refuse a lead given that the refinement cannot give.

    The lead is ``edges`` or ``steady`` only with the refinements that fit rising edges
    (:data:`~emg.dsp.onset.EDGE_REFINEMENTS`); the others have no edge to move the lead
    towards, so their lead is always the steady one: ``steady`` is what they give anyway,
    ``edges`` would be ignored.

    Parameters
    ----------
    given
        The settings given (only an explicit ``lead`` is checked: the default ``edges`` of
        the rep settings is what every refinement starts from).
    chain
        The signal-chain settings resolved, with the refinement in use.

    Raises
    ------
    SettingError
        ``reps.lead``, for ``edges`` with a refinement that fits no edge.
    """
    if given.lead == "edges" and chain.refinement not in EDGE_REFINEMENTS:
        raise SettingError(
            "reps.lead",
            "'edges' moves the lead towards the fitted rising edges, which only the "
            f"{', '.join(EDGE_REFINEMENTS)} refinements fit; with {chain.refinement} the lead "
            "is always the steady one: leave the lead out or choose one of those refinements",
        )


def rep_settings(given: SettingOverrides, base: RepConfig | None = None) -> RepConfig:
    """``base`` (default: the defaults) with the lead given.

    Raises
    ------
    SettingError
        Naming ``reps.lead`` when it is not known.
    """
    base = base or RepConfig()
    if given.lead is None:
        return base
    with _named_in("reps"):
        return dataclasses.replace(base, lead=given.lead)


def exercise_settings(
    given: SettingOverrides, base: ExerciseConfig | None = None
) -> ExerciseConfig:
    """The exercise: the preset named (else ``base``, else the hip thrust), with the
    overrides of its rule.

    Raises
    ------
    SettingError
        Naming the setting (``exercise``, ``exercise.margin_ms``, ...) at fault.
    """
    if given.exercise == "custom":
        if given.expected_order is None:
            raise SettingError(
                "exercise",
                "custom needs an expected order (glute-first, hamstring-first or any)",
            )
        base = ExerciseConfig("custom", given.expected_order)
    elif given.exercise is not None:
        try:
            base = exercise_preset(given.exercise)
        except KeyError as error:
            raise SettingError("exercise", str(error.args[0])) from None
    base = base or ExerciseConfig()
    changes: dict[str, object] = {}
    if given.expected_order is not None:
        changes["expected_order"] = given.expected_order
    if given.margin_ms is not None:
        changes["margin_ms"] = given.margin_ms
    if given.flag is not None:
        changes["flag_count"], changes["flag_window"] = given.flag
    with _named_in("exercise"):
        # each value against its range first, so that a refusal names its field
        check_part_values("exercise", {**dataclasses.asdict(base), **changes})
        config = dataclasses.replace(base, **changes)  # type: ignore[arg-type]
    return config


@contextmanager
def _named_in(part: str) -> Iterator[None]:
    """Refusals of a part's settings as :class:`SettingError` naming ``part.field`` (a
    ``ValueError`` without a field names the part)."""
    try:
        yield
    except SettingError as error:
        if "." in error.setting:
            raise
        raise SettingError(f"{part}.{error.setting}", error.reason) from None
    except ValueError as error:
        raise SettingError(part, str(error)) from None


def normalisation(
    mvc: Mapping[str, str | float], recording: Recording | None, config: ChainConfig
) -> Normalisation:
    """MVC references per muscle group (see :attr:`SettingOverrides.mvc`); ``recording``
    (None while recording live) is the one a segment ``START-END`` is taken from.

    Raises
    ------
    SettingError
        ``mvc``: an unknown muscle group or a source that cannot be read as one.
    EmgInputError
        A trial file that cannot be read, naming it.
    """
    values: dict[str, float] = {}
    for group, source in mvc.items():
        name = group.strip().lower() if isinstance(group, str) else None
        if name not in ("glute", "hamstring") or source == "":
            raise SettingError(
                "mvc", f"expects glute=SOURCE or hamstring=SOURCE, got '{group}={source}'"
            )
        number = real_number(source)
        if number is not None:
            values[name] = number
        elif isinstance(source, str):
            values[name] = _mvc_value(name, source.strip(), recording, config)
        else:
            raise SettingError(
                "mvc",
                f"{name}: expects a number of µV or a source as --mvc takes it (FILE, "
                f"FILE:START-END, START-END, 310uv), got {source!r}",
            )
    try:
        result = Normalisation(values)
        result.method()
    except ValueError as error:
        raise SettingError("mvc", str(error)) from None
    return result


def parse_period(text: str) -> tuple[float, float]:
    """``START-END`` in seconds.

    Raises
    ------
    ValueError
        Saying what was expected.
    """
    try:
        start, stop = (float(v) for v in text.split("-", 1))
    except ValueError:
        raise ValueError(f"expected START-END in seconds, e.g. 0-3, got '{text}'") from None
    if stop <= start:
        raise ValueError(f"period end must be after its start: '{text}'")
    return start, stop


def _mvc_value(group: str, source: str, recording: Recording | None, config: ChainConfig) -> float:
    if re.fullmatch(r"(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*uv", source, flags=re.IGNORECASE):
        return float(source[:-2])  # its range is checked with the settings
    period: tuple[float, float] | None = None
    path_text = source
    match = re.fullmatch(r"(?:(.*):)?([\d.]+-[\d.]+)", source)
    if match:
        path_text = match[1] or ""
        if not path_text and recording is None:
            raise SettingError(
                "mvc",
                f"{group}={source}: a segment of the input needs a recording; while "
                f"recording, give a calibration file ({group}=FILE) or a value ({group}=310uv)",
            )
        try:
            period = parse_period(match[2])
        except ValueError as error:
            raise SettingError("mvc", str(error)) from None
    if (
        path_text
        and not Path(path_text).exists()
        and re.fullmatch(r"[-+]?(\d[\d.e+-]*|nan|inf)\s*(uv)?", path_text, flags=re.IGNORECASE)
    ):
        raise SettingError(
            "mvc",
            f"{group}={source}: an MVC amplitude is a positive number of microvolts, "
            f"e.g. {group}=310uv (or give a calibration file, or a segment START-END)",
        )
    if path_text and not Path(path_text).exists():
        raise SettingError(
            "mvc",
            f"{group}={source}: no such file or folder (an MVC is a calibration recording, "
            f"a value such as {group}=310uv, or a segment of the input START-END)",
        )
    trial = open_recording(Path(path_text)) if path_text or recording is None else recording
    trial_config = resolve_mains(trial, config, "auto") if path_text else config
    try:
        value = mvc_from_recording(trial, group, trial_config, period)
    except ValueError as error:
        raise EmgInputError(
            f"MVC of {group}: {error}", source=path_text or trial.source or None
        ) from None
    _refuse_no_signal(value, group, source, trial, period)
    return value


def _refuse_no_signal(
    value: float,
    group: str,
    source: str,
    trial: Recording,
    period: tuple[float, float] | None,
) -> None:
    """Refuse an MVC amplitude of ``group`` taken from a channel with no signal (below
    :data:`~emg.analysis.normalisation.MIN_MVC_UV`), naming the source as given, the
    recording and the channel."""
    if value >= MIN_MVC_UV:
        return
    label = trial.channels[mvc_channel(trial, group)].label
    where = f" from {period[0]:g} to {period[1]:g} s" if period is not None else ""
    raise SettingError(
        "mvc",
        f"{group}={source}: channel '{label}' of {trial.source or 'the recording'} has no "
        f"signal{where} (MVC amplitude {value:.2g} uV: flat, or its electrode was off); give "
        f"a trial in which the muscle contracts, or a value ({group}=310uv)",
    )


def _check_rate(
    chain: ChainConfig, recording: Recording, given: SettingOverrides, recorded: bool
) -> None:
    """The band-pass at the recording's rate, blamed on the setting given, else on the
    recorded settings, else on the recording."""
    try:
        chain.check_rate(recording.sample_rate)
    except SettingError as error:
        for name in ("highpass_hz", "lowpass_hz"):
            if given.chain.get(name) is not None:
                raise SettingError(f"chain.{name}", error.reason) from None
        if recorded:
            raise EmgInputError(
                f"field 'analysis.chain.{error.setting}': {error.reason}",
                source=settings_source(recording),
            ) from None
        raise EmgInputError(error.reason, source=recording.source or None) from None
    except EmgInputError as error:
        raise EmgInputError(error.detail, source=recording.source or None) from None


def _check_rest(
    chain: ChainConfig, recording: Recording, given: SettingOverrides, recorded: bool
) -> None:
    """The rest period within the recording, blamed on the setting given, else on the recorded
    settings (a period past the end gave no baseline, and was told as too little data)."""
    if chain.rest is None:
        return
    reason = _rest_beyond_end(chain.rest, recording)
    if reason is None:
        return
    if given.chain.get("rest") is not None or not recorded:
        raise SettingError("chain.rest", reason)
    raise EmgInputError(f"field 'analysis.chain.rest': {reason}", source=settings_source(recording))


def _rest_beyond_end(rest: tuple[float, float], recording: Recording) -> str | None:
    """Why the rest period ``(start_s, end_s)`` cannot be taken from ``recording`` (it starts
    or ends after the recording's end), naming the period, the recording and its duration;
    None when it lies within."""
    start, end = rest
    duration = recording.duration_s
    if end <= duration:
        return None
    where = "starts" if start >= duration else "ends"
    name = recording.source or "the recording"
    return (
        f"the rest period {start:g}-{end:g} s {where} after the end of {name}, which is "
        f"{duration:.2f} s long; give a quiet period within 0-{duration:.2f} s"
    )
