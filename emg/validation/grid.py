"""Validation of the method on synthetic sets with known ground truth.

For every combination of SNR, lead and seed a set is generated and analysed through the very
pipeline used live; the detected onsets, orders, flags and cramp-risk levels are compared with
the truth. Cramp sets (a hamstring cramp episode in a glute-first set) are added per SNR and
seed. Only numbers come out; printing is the command's job.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from emg.analysis.normalisation import Normalisation
from emg.analysis.offline import OfflineResult, analyze_recording
from emg.analysis.pipeline import AnalysisConfig
from emg.analysis.reps import Rep
from emg.order import classify_order
from emg.sources.synthetic import SynthConfig, SyntheticSession, generate_session

FloatArray = npt.NDArray[np.float64]
#: onset detector for comparison: (signal, fs, rest (start, stop) samples) -> onset samples
PeerDetector = Callable[[FloatArray, float, tuple[int, int]], npt.NDArray[np.int64]]

#: a detected onset further than this from the truth is a miss (and a spurious detection)
MATCH_S = 0.25


@dataclass(frozen=True)
class ValidationGrid:
    """What to generate.

    Attributes
    ----------
    snr_db, leads_ms, seeds
        The grid; one set per combination.
    reps
        Reps per set.
    fs
        Sample rate.
    cramp_rep
        Rep at which the cramp episode starts in the cramp sets (0: no cramp sets; at most
        the last rep).
    base
        Everything else about the sets.
    """

    snr_db: tuple[float, ...] = (20.0, 10.0, 5.0)
    leads_ms: tuple[float, ...] = (-150.0, -80.0, -40.0, -20.0, 0.0, 20.0, 40.0, 80.0, 150.0)
    seeds: tuple[int, ...] = tuple(range(10))
    reps: int = 10
    fs: float = 2000.0
    cramp_rep: int = 5
    base: SynthConfig = field(default_factory=SynthConfig)

    def sets(self) -> Iterator[tuple[str, SynthConfig]]:
        """``(kind, config)`` of every set: ``lead`` sets, then ``cramp`` sets."""
        for snr in self.snr_db:
            for lead in self.leads_ms:
                for seed in self.seeds:
                    yield "lead", self._config(snr, lead, seed, 0)
        if self.cramp_rep:
            for snr in self.snr_db:
                for seed in self.seeds:
                    yield "cramp", self._config(snr, 80.0, seed, min(self.cramp_rep, self.reps))

    def _config(self, snr: float, lead: float, seed: int, cramp: int) -> SynthConfig:
        # one seed stream per grid cell, so cells are independent but reproducible
        cell_seed = int(
            np.random.SeedSequence(
                cell_entropy(seed, round(snr * 10), round(lead) + 10_000, cramp)
            ).generate_state(1)[0]
        )
        return dataclasses.replace(
            self.base,
            reps=self.reps,
            lead_ms=lead,
            snr_db=snr,
            fs=self.fs,
            seed=cell_seed,
            cramp_rep=cramp,
        )


def cell_entropy(*values: int) -> list[int]:
    """Seed entropy of a grid cell from its whole numbers, any of which may be negative (an
    SNR below 0 dB, a lead beyond -10 s); a seed sequence takes only non-negative ones.

    Cells whose numbers are all non-negative keep the entropy they always had (the values
    themselves), so their sets do not change; the others get the magnitudes followed by a
    non-zero word saying which were negative, which no all-non-negative cell has.

    Examples
    --------
    >>> cell_entropy(3, 50, 9920, 0)
    [3, 50, 9920, 0]
    >>> cell_entropy(3, -50, 9920, 0)
    [3, 50, 9920, 0, 3]
    """
    if all(v >= 0 for v in values):
        return list(values)
    signs = sum(1 << i for i, v in enumerate(values) if v < 0)
    return [abs(v) for v in values] + [1 + signs]


@dataclass
class SetOutcome:
    """What one set gave, against its truth.

    Attributes
    ----------
    kind, snr_db, lead_ms, seed
        The set.
    onset_errors_ms
        Detected minus true onset of every matched onset (both muscles).
    missed, spurious
        True onsets without a detection within ``MATCH_S``, and detections without a truth.
    orders
        ``(true order, detected order or None)`` per true rep.
    decision_delays_ms
        Decision time minus the true later onset, per detected rep matched to a true rep.
    flag_rep, flag_delay_ms
        Rep whose decision raised the order flag and the time from its true later onset to
        the flag (None if no flag).
    ratio_errors
        Relative error of the glute:hamstring ratio (normalised to the true MVC) per rep.
    risk_level
        Highest cramp-risk level reached.
    warning_before_peak_s
        Cramp sets: seconds from the first ``warning`` to the cramp's peak (None if none).
    peers
        Per peer detector: ``(errors_ms, missed, spurious)``.
    """

    kind: str
    snr_db: float
    lead_ms: float
    seed: int
    onset_errors_ms: list[float] = field(default_factory=list)
    missed: int = 0
    spurious: int = 0
    orders: list[tuple[str, str | None]] = field(default_factory=list)
    decision_delays_ms: list[float] = field(default_factory=list)
    flag_rep: int | None = None
    flag_delay_ms: float | None = None
    ratio_errors: list[float] = field(default_factory=list)
    risk_level: str = "ok"
    warning_before_peak_s: float | None = None
    peers: dict[str, tuple[list[float], int, int]] = field(default_factory=dict)


def pair_onsets(
    detected: npt.NDArray[np.float64], truth: npt.NDArray[np.float64], tolerance: float = MATCH_S
) -> tuple[list[float | None], int]:
    """Pair detected with true onsets (seconds), nearest first, within ``tolerance``.

    Returns
    -------
    errors_ms, spurious
        Per true onset, detected minus true (ms), or None when no detection paired with it;
        and the number of unpaired detections.
    """
    used = np.zeros(len(detected), dtype=bool)
    errors: list[float | None] = []
    for t in truth:
        error = None
        if len(detected):
            distance = np.where(used, np.inf, np.abs(detected - t))
            best = int(np.argmin(distance))
            if distance[best] <= tolerance:
                used[best] = True
                error = float(detected[best] - t) * 1000
        errors.append(error)
    return errors, int((~used).sum())


def match_onsets(
    detected: npt.NDArray[np.float64], truth: npt.NDArray[np.float64], tolerance: float = MATCH_S
) -> tuple[list[float], int, int]:
    """Pair detected with true onsets (seconds), nearest first, within ``tolerance``.

    Returns
    -------
    errors_ms, missed, spurious
        Detected minus true (ms) for each pair; unpaired truths; unpaired detections.
    """
    paired, spurious = pair_onsets(detected, truth, tolerance)
    errors = [e for e in paired if e is not None]
    return errors, len(truth) - len(errors), spurious


def evaluate_set(
    kind: str,
    config: SynthConfig,
    analysis: AnalysisConfig,
    peers: dict[str, PeerDetector] | None = None,
) -> SetOutcome:
    """Generate one set, analyse it and compare with the truth."""
    session = generate_session(config)
    truth = session.truth
    mvc = Normalisation({m: float(v) for m, v in truth["mvc_uv"].items()})
    result = analyze_recording(
        session.recording,
        dataclasses.replace(analysis, normalisation=mvc),
        keep_envelope=False,
    )
    lead = config.lead_ms if isinstance(config.lead_ms, float | int) else float("nan")
    outcome = SetOutcome(kind, config.snr_db, float(lead), config.seed)
    fs = result.sample_rate
    _score_onsets(outcome, result, session)
    _score_reps(outcome, result, session, analysis.exercise.margin_ms)
    _score_flag(outcome, result, session, analysis)
    _score_risk(outcome, result, session)
    if peers:
        outcome.peers["emg"] = (outcome.onset_errors_ms, outcome.missed, outcome.spurious)
    for name, detector in (peers or {}).items():
        outcome.peers[name] = _score_peer(detector, session, fs)
    return outcome


def _true_onsets(session: SyntheticSession, muscle: str) -> FloatArray:
    return np.array([rep[f"{muscle}_onset_s"] for rep in session.truth["reps"]])


def _score_onsets(outcome: SetOutcome, result: OfflineResult, session: SyntheticSession) -> None:
    fs = result.sample_rate
    for index, channel in enumerate(result.channels):
        detected = np.array([b.onset / fs for b in result.bursts_of(index)])
        errors, missed, spurious = match_onsets(detected, _true_onsets(session, channel.muscle))
        outcome.onset_errors_ms.extend(errors)
        outcome.missed += missed
        outcome.spurious += spurious


def matching_rep(reps: list[Rep], true_rep: dict[str, Any], fs: float) -> Rep | None:
    """The detected rep that starts within ``MATCH_S`` of the true rep's first onset."""
    first = min(true_rep["glute_onset_s"], true_rep["hamstring_onset_s"])
    for rep in reps:
        if abs(rep.start / fs - first) <= MATCH_S:
            return rep
    return None


def _score_reps(
    outcome: SetOutcome, result: OfflineResult, session: SyntheticSession, margin_ms: float
) -> None:
    fs = result.sample_rate
    for true_rep in session.truth["reps"]:
        rep = matching_rep(result.reps, true_rep, fs)
        outcome.orders.append(
            (classify_order(true_rep["lead_ms"], margin_ms), rep.order if rep else None)
        )
        if rep is None:
            continue
        later = max(true_rep["glute_onset_s"], true_rep["hamstring_onset_s"])
        if rep.decided_at is not None:
            outcome.decision_delays_ms.append((rep.decided_at / fs - later) * 1000)
        if rep.ratio is not None and rep.complete:
            outcome.ratio_errors.append(rep.ratio / true_rep["ratio"] - 1)


def _score_flag(
    outcome: SetOutcome, result: OfflineResult, session: SyntheticSession, analysis: AnalysisConfig
) -> None:
    flagged = analysis.exercise.flagged_order
    raised = [f for f in result.flags if f.kind == flagged]
    if not raised:
        return
    flag = raised[0]
    trigger = next((r for r in result.reps if r.decided_at == flag.at), None)
    if trigger is None:
        return
    outcome.flag_rep = trigger.index
    fs = result.sample_rate
    true_reps = session.truth["reps"]
    for true_rep in true_reps:
        if matching_rep([trigger], true_rep, fs) is trigger:
            later = max(true_rep["glute_onset_s"], true_rep["hamstring_onset_s"])
            outcome.flag_delay_ms = (flag.at / fs - later) * 1000
            break


def _score_risk(outcome: SetOutcome, result: OfflineResult, session: SyntheticSession) -> None:
    levels = [r.level for r in result.risks]
    outcome.risk_level = (
        "warning" if "warning" in levels else "watch" if "watch" in levels else "ok"
    )
    cramp = session.truth["cramp"]
    if cramp is None:
        return
    warnings = [r.at / result.sample_rate for r in result.risks if r.level == "warning"]
    after_start = [t for t in warnings if t >= cramp["start_s"]]
    if after_start:
        outcome.warning_before_peak_s = cramp["peak_s"] - after_start[0]


def _score_peer(
    detector: PeerDetector, session: SyntheticSession, fs: float
) -> tuple[list[float], int, int]:
    recording = session.recording
    rest = (round(0.5 * fs), round(session.truth["config"]["rest_s"] * fs) - round(0.2 * fs))
    errors: list[float] = []
    missed = spurious = 0
    for index, channel in enumerate(recording.channels):
        onsets = detector(recording.data[:, index].astype(np.float64), fs, rest)
        e, m, s = match_onsets(onsets / fs, _true_onsets(session, channel.muscle))
        errors.extend(e)
        missed += m
        spurious += s
    return errors, missed, spurious


def run_validation(
    grid: ValidationGrid,
    analysis: AnalysisConfig,
    peers: dict[str, PeerDetector] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[SetOutcome]:
    """Evaluate every set of ``grid``; ``progress(done, total)`` after each.

    Peers (slow, and single-channel onset detection does not depend on the lead) run on the
    sets of the first lead only, at every SNR and seed, next to ``emg`` on the same sets.
    """
    sets = list(grid.sets())
    outcomes = []
    for done, (kind, config) in enumerate(sets, 1):
        compare = kind == "lead" and config.lead_ms == grid.leads_ms[0]
        outcomes.append(evaluate_set(kind, config, analysis, peers if compare else None))
        if progress is not None:
            progress(done, len(sets))
    return outcomes


def _stats(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p95": None}
    a = np.abs(np.asarray(values))
    return {"median": round(float(np.median(a)), 1), "p95": round(float(np.percentile(a, 95)), 1)}


def summarize_validation(
    outcomes: list[SetOutcome], margin_ms: float, flagged_order: str | None
) -> dict[str, Any]:
    """Tables of a validation run as plain data.

    Returns
    -------
    dict
        ``onsets`` per SNR (median and p95 |error| ms, missed, spurious), ``peers`` (the same
        for ``emg`` and each peer on the sets they ran on), ``order`` per SNR and lead
        (accuracy, counts of each detected order),
        ``flag`` per SNR (false-flag rate on glute-first sets, hit rate, rep and delay on
        hamstring-first sets), ``decision_delay_ms``, ``ratio`` (median |relative error|) and
        ``cramp`` (warnings before the peak; clean sets left at ``ok``).
    """
    lead_sets = [o for o in outcomes if o.kind == "lead"]
    snrs = sorted({o.snr_db for o in outcomes}, reverse=True)
    leads = sorted({o.lead_ms for o in lead_sets})
    onsets = []
    for snr in snrs:
        group = [o for o in lead_sets if o.snr_db == snr]
        onsets.append(
            _onset_row(
                snr, "emg", [(o.onset_errors_ms, o.missed, o.spurious) for o in group], group
            )
        )
    peers = []
    for snr in snrs:
        group = [o for o in lead_sets if o.snr_db == snr and o.peers]
        # ours first, then by name: a set's order is not the same from one run to the next
        for name in sorted({p for o in group for p in o.peers}, key=lambda n: (n != "emg", n)):
            peers.append(_onset_row(snr, name, [o.peers[name] for o in group], group))
    order = []
    for snr in snrs:
        for lead in leads:
            pairs = [p for o in lead_sets if (o.snr_db, o.lead_ms) == (snr, lead) for p in o.orders]
            detected = [d for _, d in pairs]
            order.append(
                {
                    "snr_db": snr,
                    "lead_ms": lead,
                    "true_order": classify_order(lead, margin_ms),
                    "accuracy": round(sum(t == d for t, d in pairs) / len(pairs), 4)
                    if pairs
                    else None,
                    "reps": len(pairs),
                    **{
                        name: detected.count(name)
                        for name in ("glute-first", "simultaneous", "hamstring-first")
                    },
                    "not_found": detected.count(None),
                }
            )
    flag = []
    for snr in snrs:
        group = [o for o in lead_sets if o.snr_db == snr]
        good = [o for o in group if o.lead_ms >= 40]
        bad = [o for o in group if o.lead_ms <= -80]
        hits = [o for o in bad if o.flag_rep is not None and o.flag_rep <= 3]
        flag.append(
            {
                "snr_db": snr,
                "flagged_order": flagged_order,
                "glute_first_sets": len(good),
                "false_flags": sum(o.flag_rep is not None for o in good),
                "hamstring_first_sets": len(bad),
                "hits_by_rep_3": len(hits),
                "median_flag_rep": float(np.median([o.flag_rep for o in hits])) if hits else None,
                "median_flag_delay_ms": round(
                    float(
                        np.median([o.flag_delay_ms for o in hits if o.flag_delay_ms is not None])
                    ),
                    1,
                )
                if hits
                else None,
            }
        )
    delays = [d for o in lead_sets for d in o.decision_delays_ms]
    cramp_sets = [o for o in outcomes if o.kind == "cramp"]
    clean = [o for o in lead_sets if o.lead_ms >= 40]
    return {
        "onsets": onsets,
        "peers": peers,
        "order": order,
        "flag": flag,
        "decision_delay_ms": {
            "median": round(float(np.median(delays)), 1) if delays else None,
            "p95": round(float(np.percentile(delays, 95)), 1) if delays else None,
        },
        "ratio": _stats([e * 100 for o in lead_sets for e in o.ratio_errors]),
        "cramp": [
            {
                "snr_db": snr,
                "cramp_sets": len([o for o in cramp_sets if o.snr_db == snr]),
                "warning_before_peak": sum(
                    o.warning_before_peak_s is not None and o.warning_before_peak_s > 0
                    for o in cramp_sets
                    if o.snr_db == snr
                ),
                "median_warning_lead_s": _median(
                    [o.warning_before_peak_s for o in cramp_sets if o.snr_db == snr]
                ),
                "clean_sets": len([o for o in clean if o.snr_db == snr]),
                "clean_ok": sum(o.risk_level == "ok" for o in clean if o.snr_db == snr),
            }
            for snr in snrs
        ],
    }


def _onset_row(
    snr: float, detector: str, results: list[tuple[list[float], int, int]], sets: list[SetOutcome]
) -> dict[str, Any]:
    return {
        "snr_db": snr,
        "detector": detector,
        **_stats([e for r in results for e in r[0]]),
        "missed": sum(r[1] for r in results),
        "spurious": sum(r[2] for r in results),
        "onsets": sum(len(o.orders) * 2 for o in sets),
    }


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(float(np.median(known)), 2) if known else None
