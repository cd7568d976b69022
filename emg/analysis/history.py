"""An athlete's sessions as the history keeps them, and the trend across them (pure: no I/O).

Each session is indexed with the numbers ``emg analyze`` gives for it: per rep the lead, order,
ratio, levels, median frequencies, the flags it raised and the cramp risk at its decision
(the rows of the batch table, :func:`emg.analysis.batch.rep_rows`), and per session the share
of reps the glutes started, the median lead and ratio, the flags and the highest cramp risk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from emg.analysis.batch import SessionInfo, rep_rows
from emg.analysis.personal_band import PersonalBand
from emg.analysis.summary_schema import SessionSummary


@dataclass(frozen=True)
class RepEntry:
    """One rep as the history keeps it (see :class:`emg.analysis.summary_schema.RepRow`)."""

    index: int
    side: str | None
    lead_ms: float | None
    order: str | None
    ratio: float | None
    glute_level: float | None
    hamstring_level: float | None
    glute_median_frequency_hz: float | None
    hamstring_median_frequency_hz: float | None
    raised_flags: str
    cramp_risk: str | None


@dataclass(frozen=True)
class SessionEntry:
    """One session of an athlete.

    Attributes
    ----------
    athlete
        The athlete's name (personal data: kept on this computer only).
    folder
        The session folder (or file) the numbers come from: the source of truth.
    date
        When it was recorded (ISO 8601), or None when unknown.
    exercise
        The exercise it was analysed for.
    sensors
        The sensors' names (or the channels' devices).
    rest_s, mvc_uv
        Calibration: the rest period (s) and the MVC reference per muscle (µV).
    unit
        What the levels are in (``%MVC`` or ``x rest``).
    reps
        Every rep.
    glute_first_share
        Share of the decided reps the glutes started (None without a decided rep).
    median_lead_ms, median_ratio
        Over the reps that have one (None without).
    flags
        The kinds of the flags raised, in order.
    highest_cramp_risk
        The highest cramp-risk level reached.
    """

    athlete: str
    folder: str
    date: str | None
    exercise: str
    sensors: tuple[str, ...]
    rest_s: tuple[float, float] | None
    mvc_uv: Mapping[str, float]
    unit: str
    reps: tuple[RepEntry, ...]
    glute_first_share: float | None
    median_lead_ms: float | None
    median_ratio: float | None
    flags: tuple[str, ...]
    highest_cramp_risk: str


def session_entry(
    summary: SessionSummary,
    athlete: str,
    folder: str,
    metadata: Mapping[str, Any],
) -> SessionEntry:
    """The history's entry of one analysed session.

    Parameters
    ----------
    summary
        What ``emg analyze`` gives for it (:func:`emg.analysis.summary.summarize`).
    athlete
        Whose session it is.
    folder
        Where it is (its folder, or the file).
    metadata
        The recording's metadata: ``started_at``, ``sensors``, ``calibration``.

    Returns
    -------
    SessionEntry
    """
    rows = rep_rows(folder, summary, SessionInfo(None, ()))
    reps = tuple(
        RepEntry(
            index=rep["index"],
            side=rep["side"],
            lead_ms=rep["lead_ms"],
            order=rep["order"],
            ratio=rep["ratio"],
            glute_level=rep["glute_level"],
            hamstring_level=rep["hamstring_level"],
            glute_median_frequency_hz=rep["glute_median_frequency_hz"],
            hamstring_median_frequency_hz=rep["hamstring_median_frequency_hz"],
            raised_flags=row["raised_flags"],
            cramp_risk=row["cramp_risk"],
        )
        for rep, row in zip(summary["reps"], rows, strict=True)
    )
    orders = [r.order for r in reps if r.order is not None]
    calibration = metadata.get("calibration") or {}
    rest = calibration.get("rest_s") if isinstance(calibration, Mapping) else None
    return SessionEntry(
        athlete=athlete,
        folder=folder,
        date=str(metadata["started_at"]) if metadata.get("started_at") else None,
        exercise=summary["exercise"]["name"],
        sensors=sensor_names(metadata, [c["label"] for c in summary["channels"]]),
        rest_s=(float(rest[0]), float(rest[1])) if rest else None,
        mvc_uv=dict(summary["normalisation"]["mvc_uv"]),
        unit=summary["normalisation"]["unit"],
        reps=reps,
        glute_first_share=orders.count("glute-first") / len(orders) if orders else None,
        median_lead_ms=_median([r.lead_ms for r in reps]),
        median_ratio=_median([r.ratio for r in reps]),
        flags=tuple(f["kind"] for f in summary["flags"] if not f["kind"].endswith("-cleared")),
        highest_cramp_risk=summary["cramp_risk"]["level"],
    )


@dataclass(frozen=True)
class Trend:
    """How an athlete's sessions of one exercise changed, first to last (None with fewer
    than two).

    Attributes
    ----------
    sessions
        How many sessions it spans.
    glute_first_share, median_lead_ms, median_ratio
        Last session's value minus the first's.
    exercise
        The exercise of those sessions (another exercise's order and lead are not comparable:
        hamstring-first is normal in a prone hip extension).
    """

    sessions: int
    glute_first_share: float | None
    median_lead_ms: float | None
    median_ratio: float | None
    exercise: str | None = None


def trend(entries: Sequence[SessionEntry], exercise: str | None = None) -> Trend:
    """The change from the first to the last session (in date order) of each figure, over
    the sessions of ``exercise`` (None: the exercise of the last session)."""
    ordered = sorted(entries, key=lambda e: (e.date or "", e.folder))
    if exercise is None and ordered:
        exercise = ordered[-1].exercise
    ordered = [e for e in ordered if e.exercise == exercise]

    def change(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return round(known[-1] - known[0], 4) if len(known) >= 2 else None

    return Trend(
        sessions=len(ordered),
        glute_first_share=change([e.glute_first_share for e in ordered]),
        median_lead_ms=change([e.median_lead_ms for e in ordered]),
        median_ratio=change([e.median_ratio for e in ordered]),
        exercise=exercise,
    )


#: Fewest glute-first reps a personal band is made from.
MIN_BAND_REPS = 10
#: Narrowest half-width of the lead band, ms (the lead's own scatter at 20 dB).
MIN_LEAD_HALFWIDTH_MS = 15.0
#: Narrowest half-width of the ratio band.
MIN_RATIO_HALFWIDTH = 0.05


def personal_band(entries: Sequence[SessionEntry], exercise: str) -> PersonalBand | None:
    """The band of an athlete's glute-first reps in ``exercise`` over ``entries``.

    Centre: the median; half-width: twice the robust SD (1.4826 x the median absolute
    deviation), about 95 % of a normal spread, and never narrower than
    :data:`MIN_LEAD_HALFWIDTH_MS` (:data:`MIN_RATIO_HALFWIDTH` for the ratio).

    Returns
    -------
    PersonalBand or None
        None with fewer than :data:`MIN_BAND_REPS` glute-first reps with a lead.
    """
    sessions = [e for e in entries if e.exercise == exercise]
    reps = [r for e in sessions for r in e.reps if r.order == "glute-first"]
    leads = np.array([r.lead_ms for r in reps if r.lead_ms is not None], dtype=np.float64)
    if len(leads) < MIN_BAND_REPS:
        return None
    ratios = np.array([r.ratio for r in reps if r.ratio is not None], dtype=np.float64)
    lead, lead_spread = _centre_and_halfwidth(leads, MIN_LEAD_HALFWIDTH_MS)
    ratio = ratio_spread = None
    if len(ratios) >= MIN_BAND_REPS:
        ratio, ratio_spread = _centre_and_halfwidth(ratios, MIN_RATIO_HALFWIDTH)
    dates = sorted(e.date for e in sessions if e.date)
    return PersonalBand(
        exercise=exercise,
        lead_ms=round(lead, 1),
        lead_halfwidth_ms=round(lead_spread, 1),
        ratio=None if ratio is None else round(ratio, 3),
        ratio_halfwidth=None if ratio_spread is None else round(ratio_spread, 3),
        reps=len(leads),
        sessions=len({e.folder for e in sessions if any(r in reps for r in e.reps)}),
        since=dates[0] if dates else None,
    )


def _centre_and_halfwidth(values: np.ndarray, floor: float) -> tuple[float, float]:
    centre = float(np.median(values))
    robust_sd = 1.4826 * float(np.median(np.abs(values - centre)))
    return centre, max(2.0 * robust_sd, floor)


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(float(np.median(known)), 4) if known else None


def sensor_names(metadata: Mapping[str, Any], channel_labels: Sequence[str]) -> tuple[str, ...]:
    """The sensors a session was recorded with (their names), else its channels' labels: what
    tells whether two sessions used the same placement."""
    sensors = metadata.get("sensors")
    if isinstance(sensors, list):
        names = [str(s.get("name")) for s in sensors if isinstance(s, Mapping) and s.get("name")]
        if names:
            return tuple(names)
    return tuple(channel_labels)
