"""The figure of an athlete's history: per session, the share of reps the glutes started and the
median lead (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from emg.errors import EmgInputError
from emg.wording import RISK_NOTE


def history_figure(table: pd.DataFrame, athlete: str) -> Figure:
    """Two panels over the sessions in date order: glute-first share (%) and median lead (ms).

    Parameters
    ----------
    table
        :func:`emg.athlete_history.history_table` of the athlete.
    athlete
        Their name, for the title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure = Figure(figsize=(8.0, 4.8), layout="constrained")
    share_ax = figure.add_subplot(2, 1, 1)
    lead_ax = figure.add_subplot(2, 1, 2, sharex=share_ax)
    x = list(range(1, len(table) + 1))
    share = table["glute_first_share"].astype(float) * 100
    share_ax.plot(x, share, marker="o", color="#1B7837")
    share_ax.set_ylim(0, 105)
    share_ax.set_ylabel("reps glute-first (%)")
    lead_ax.axhline(0.0, color="#777777", linestyle=":", linewidth=1.0)
    lead_ax.plot(x, table["median_lead_ms"].astype(float), marker="o", color="#333333")
    lead_ax.set_ylabel("median lead (ms)\n+ glutes first")
    lead_ax.set_xlabel("session")
    lead_ax.set_xticks(x, [str(d or "?")[:10] for d in table["date"]], rotation=30, fontsize=8)
    for ax in (share_ax, lead_ax):
        ax.grid(True, color="#EEEEEE", linewidth=0.6)
    figure.suptitle(f"{athlete}: sessions ({RISK_NOTE})", fontsize=11)
    return figure


def write_history_figure(table: pd.DataFrame, path: Path, athlete: str) -> None:
    """Draw :func:`history_figure` into a file (its format from its ending, see
    :func:`check_figure_path`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    history_figure(table, athlete).savefig(path, dpi=120)


def check_figure_path(path: Path, option: str | None = None) -> Path:
    """A file a figure can be written to: its ending one matplotlib writes (``.png``,
    ``.svg``, ``.pdf`` ...; none: PNG, ``.png`` added).

    Returns
    -------
    Path
        The file the figure is written to (``.png`` added to a name without an ending).

    Raises
    ------
    EmgInputError
        For another ending (``.txt``, ``.csv``), naming ``option`` (``--plot``) when given.
    """
    formats = Figure().canvas.get_supported_filetypes()
    suffix = path.suffix.lower().removeprefix(".")
    if suffix and suffix not in formats:
        raise EmgInputError(
            f"{option or 'figure'} '{path}': matplotlib cannot write '.{suffix}' files; "
            "use one of " + ", ".join(f".{f}" for f in sorted(formats)),
            source="command line" if option else str(path),
        )
    return path if suffix else path.with_name(path.name + ".png")
