"""``emg analyze`` of one recording: the code path every analysed file goes through.

Both ``emg analyze FILE`` and each file of a batch (:mod:`emg.commands.batch`) call
:func:`analyze_input`, so a batch gives for every file exactly what the file alone gives.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from emg.analysis.offline import analyze_recording
from emg.analysis.summary import summarize
from emg.analysis.summary_schema import SessionSummary
from emg.commands.history import with_athlete_band
from emg.commands.options import analysis_config, read_input
from emg.recording import Recording


def analyze_input(path: Path, args: argparse.Namespace) -> tuple[SessionSummary, Recording]:
    """Open a recording and analyse it with the settings of ``args``.

    Parameters
    ----------
    path
        Any readable recording (see :data:`emg.io.open_recording.READABLE`).
    args
        The parsed ``--channel``, signal-chain and recruitment options (a recorded session
        keeps the settings it was recorded with; options given change them).

    Returns
    -------
    summary, recording
        What ``emg analyze FILE --json`` prints (:func:`emg.analysis.summary.summarize`), and
        the recording it was computed from.

    Raises
    ------
    EmgInputError
        Naming the file, field or option at fault.
    """
    recording = read_input(path, args.channel, args.stream)
    config = with_athlete_band(analysis_config(args, recording), args, recording, path)
    result = analyze_recording(recording, config)
    return summarize(result, recording), recording
