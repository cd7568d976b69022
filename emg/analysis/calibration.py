"""MVC calibration: the reference amplitude of a muscle from a maximal contraction trial."""

from __future__ import annotations

from emg.analysis.normalisation import mvc_amplitude
from emg.dsp.chain import ChainConfig, SignalChain
from emg.muscles import MUSCLE_GROUPS
from emg.recording import Recording


def mvc_channel(recording: Recording, group: str) -> int:
    """Index of the channel holding ``group`` (the only channel, or the first of that group).

    Raises
    ------
    ValueError
        If the recording has several channels and none of ``group``.
    """
    if len(recording.channels) == 1:
        return 0
    for index, channel in enumerate(recording.channels):
        if MUSCLE_GROUPS.get(channel.muscle) == group:
            return index
    labels = ", ".join(c.label for c in recording.channels)
    raise ValueError(f"no {group} channel for the MVC (channels: {labels})")


def mvc_from_recording(
    recording: Recording,
    group: str,
    config: ChainConfig,
    period: tuple[float, float] | None = None,
) -> float:
    """MVC amplitude of ``group`` in a recording, through the same filter and envelope.

    Parameters
    ----------
    recording
        The MVC trial (or a session with a marked MVC segment).
    group
        ``glute`` or ``hamstring``.
    config
        Chain settings of the analysis (the MVC must see the same band-pass and envelope).
    period
        ``(start_s, end_s)`` of the contraction; the whole recording when None.

    Returns
    -------
    float
        Largest 0.5 s mean of the RMS envelope, microvolts.

    Raises
    ------
    ValueError
        If there is no such channel or the period lies outside the recording.
    """
    channel = mvc_channel(recording, group)
    fs = recording.sample_rate
    chain = SignalChain(config, fs, len(recording.channels))
    envelope = chain.process_array(recording.data.astype("float64")).envelope[:, channel]
    lo, hi = (0, len(envelope)) if period is None else (round(t * fs) for t in period)
    if not 0 <= lo < hi <= len(envelope):
        raise ValueError(
            f"MVC period {period[0]:g}-{period[1]:g} s lies outside the recording "
            f"(0-{recording.duration_s:.2f} s)"
            if period is not None
            else "empty MVC recording"
        )
    # skip the filter's settling time at the very start of the file
    settle = chain.settle if lo == 0 else 0
    return mvc_amplitude(envelope[lo + min(settle, (hi - lo) // 2) : hi], fs)
