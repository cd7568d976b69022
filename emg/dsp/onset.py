"""Burst onset/offset detection on an envelope: threshold with minimum duration and hysteresis.

A burst is detected when the envelope stays above the onset threshold for at least ``hold``
samples (Hodges & Bui 1996: mean + k SD of the baseline, k = 1-3, 20-100 ms). Because a
trailing envelope crosses the threshold some time after the muscle switches on (the longer the
lower the SNR), the onset is optionally refined backwards from the crossing with a one-sided
CUSUM for a variance increase on the filtered signal (Page 1954; the change-point view of
Staude et al. 2001); by default (``cusum-edge``) the onset is then the start of the rising
edge found near that change point (:mod:`emg.dsp.change_edge`). This looks only at samples
already received, so the detector stays causal; the decision is made when the run reaches
``hold`` samples. Samples that say nothing
about the muscle (NaN in the signal given for the refinement: lost in transit) count for
neither side of the change; an onset hidden among them is put at their middle. The offset is
the first sample of the first run of at least ``offset_hold`` samples below the (lower) offset
threshold.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt

from emg.dsp.aglr import aglr_step_onset
from emg.dsp.change_edge import BEFORE_CHANGE_S, EdgeSearch, change_edge_onsets
from emg.dsp.crosstalk import CORRELATION_S, crosstalk_coefficients, subtract_crosstalk
from emg.dsp.double_threshold import double_threshold_onset
from emg.dsp.edge_onset import fit_rising_edge, posterior_edge_onset

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
#: refinement hook: (channel, crossing, decided, floor) -> onset sample
RefineFn = Callable[[int, int, int, int], int]
#: how a confirmed onset is placed before its crossing
REFINEMENTS = ("cusum-edge", "cusum", "edge", "bonato", "bayes", "aglr")
#: the refinements whose onset is the start of a model of the rising edge, fitted to the
#: signal up to the confirmation; each of their onsets carries the CUSUM change point too
EDGE_REFINEMENTS = ("edge", "bayes", "cusum-edge")

#: an event as the state machine finds it: (decided, channel, onset index (negative while
#: the refinement is pending), crossing, offset (None for an onset), peak)
EventSpec = tuple[int, int, int, int, int | None, float]


@dataclass(frozen=True)
class Onset:
    """A confirmed burst onset.

    Attributes
    ----------
    channel
        Channel index.
    index
        Onset sample (refined when refinement is on, otherwise the crossing).
    crossing
        First sample of the envelope above the onset threshold.
    decided
        Sample at which the onset was confirmed (the last sample of the hold).
    change
        With the ``cusum-edge``, ``edge`` and ``bayes`` refinements, the variance change point
        (CUSUM) of the same rise: later than the edge's start by a part of the ramp, but less
        scattered, so that two muscles that rise alike are compared by it (see
        :mod:`emg.analysis.lead`); None otherwise.
    """

    channel: int
    index: int
    crossing: int
    decided: int
    change: int | None = None


@dataclass(frozen=True)
class Burst:
    """A burst of activity from onset to offset.

    Attributes
    ----------
    channel
        Channel index.
    onset
        Onset sample (see :class:`Onset`).
    crossing
        First sample above the onset threshold.
    offset
        First sample of the run below the offset threshold that ended the burst, or the end of
        the stream for a burst still open when the stream ended.
    peak
        Largest envelope value in the burst (unit of the envelope).
    decided
        Sample at which the offset was confirmed.
    complete
        False if the stream ended during the burst.
    """

    channel: int
    onset: int
    crossing: int
    offset: int
    peak: float
    decided: int
    complete: bool = True


def cusum_change_point(x: FloatArray, noise_power: float, rho: float = 3.0) -> int:
    """Start of a variance increase in ``x`` by a one-sided CUSUM (Page 1954).

    The log-likelihood ratio of variance ``rho * noise_power`` against ``noise_power`` is
    summed with the Lindley recursion ``g = max(0, g + l)``; the change point is the sample
    after the last time ``g`` was zero, i.e. after the last minimum of the running sum.
    Samples that say nothing (NaN: lost in transit) add nothing; when the minimum is a flat
    stretch of them, the change happened somewhere inside it, and its middle is taken.

    Parameters
    ----------
    x
        Signal segment ending at (or just after) the threshold crossing, 1-D.
    noise_power
        Mean square of the signal at rest.
    rho
        Variance ratio the statistic is tuned to detect.

    Returns
    -------
    int
        Index into ``x`` of the first sample of the increase (0 if the increase started
        before the segment).
    """
    if len(x) == 0 or noise_power <= 0:
        return 0
    return _change_point(x, 0.5 * (1 - 1 / rho) / noise_power, 0.5 * np.log(rho))


def _change_point(x: FloatArray, gain: float, offset: float) -> int:
    """:func:`cusum_change_point` with its constants worked out (``len(x) > 0``)."""
    llr = gain * x * x
    llr -= offset
    llr[np.isnan(llr)] = 0.0
    running = np.empty(len(x) + 1)
    running[0] = 0.0
    np.cumsum(llr, out=running[1:])
    last_minimum = len(x) - int(np.argmin(running[::-1]))
    return (int(np.argmin(running)) + last_minimum) // 2


def _change_points(
    rows: FloatArray,
    rows_start: int,
    tail: FloatArray,
    tail_start: int,
    requests: list[tuple[int, int, int, float, int]],
    offset: float,
    partners: tuple[tuple[int, ...], ...],
    rests: list[FloatArray],
    fs: float,
    fits: list[FloatArray | None] | None = None,
) -> list[int]:
    """:func:`cusum_change_point` for several segments of a channel-major signal at once.

    Parameters
    ----------
    rows
        Signal ``(n_channels, n_samples)`` whose first column is stream index ``rows_start``.
    rows_start
        Stream index of ``rows[:, 0]``.
    tail
        The signal just before ``rows``, ``(n_channels, n_tail)``.
    tail_start
        Stream index of ``tail[:, 0]`` (``rows_start - n_tail``).
    requests
        ``(channel, lo, hi, gain, reach)`` per segment: stream indices ``lo .. hi`` (``hi >
        lo``, within ``tail`` and ``rows``), the CUSUM gain ``0.5 * (1 - 1 / rho) /
        noise_power``, and how far (``reach >= hi``, the burst's confirmation) the segment
        goes on once crosstalk has been taken out of it: a crossing that crosstalk made
        early bounds the onset no more.
    offset
        ``0.5 * log(rho)``.
    partners
        For each channel, the channels whose crosstalk is taken out of its segments first
        (fitted up to ``hi``).
    rests
        Per request, every channel's rest power at its decision.
    fs
        Sample rate, Hz.
    fits
        Per request, the crosstalk coefficients to take out instead of fitting them over the
        segment (see :func:`_crosstalk_fits`).

    Returns
    -------
    list of int
        Stream index of each segment's change point (as ``lo + cusum_change_point(...)``).
    """
    channel, lo, hi = (np.array([r[i] for r in requests], dtype=np.intp) for i in range(3))
    gain = np.array([r[3] for r in requests])
    # with partners, the samples up to the confirmation too (used if crosstalk is taken out)
    reach = np.array([r[4] if partners[r[0]] else r[2] for r in requests], dtype=np.intp)
    longest = int((reach - lo).max())
    # padded at the end of shorter segments
    x = np.empty((len(requests), longest))
    inside = lo >= rows_start
    for within, source, source_start in ((inside, rows, rows_start), (~inside, tail, tail_start)):
        if not within.any():
            continue
        if source is tail:
            # segments that begin before the block: from the tail and the block's first samples
            ahead = max(int(reach[within].max()) - rows_start, 0)
            source = np.concatenate([tail, rows[:, :ahead]], axis=1)
        columns = np.minimum(
            lo[within, None] - source_start + np.arange(longest), source.shape[1] - 1
        )
        x[within] = source[channel[within, None], columns]
    lengths = hi - lo
    for i, (c, start, stop, end) in enumerate(
        zip(channel.tolist(), lo.tolist(), hi.tolist(), reach.tolist(), strict=True)
    ):
        if partners[c]:
            cleaned, took_out = _without_crosstalk(
                x[i, : end - start],
                rows,
                rows_start,
                tail,
                tail_start,
                c,
                start,
                partners[c],
                rests[i],
                upto=stop - start,
                fs=fs,
                given=None if fits is None else fits[i],
            )
            if took_out:
                x[i, : end - start] = cleaned
                lengths[i] = end - start
    llr = gain[:, None] * x * x
    llr -= offset
    llr[np.isnan(llr)] = 0.0  # samples lost in transit (NaN) are neutral
    running = np.empty((len(requests), longest + 1))
    running[:, 0] = 0.0
    np.cumsum(llr, axis=1, out=running[:, 1:])
    running[np.arange(longest + 1) > lengths[:, None]] = np.inf  # padding never the minimum
    last_minimum = longest - np.argmin(running[:, ::-1], axis=1)
    # a minimum that is a flat stretch of lost samples: its middle (as _change_point)
    found: list[int] = (lo + (np.argmin(running, axis=1) + last_minimum) // 2).tolist()
    return found


def _segment(
    rows: FloatArray,
    rows_start: int,
    tail: FloatArray,
    tail_start: int,
    channel: int,
    lo: int,
    hi: int,
) -> FloatArray:
    """Samples ``lo .. hi`` (stream indices) of one channel, from the tail and the block."""
    parts = []
    if lo < rows_start:
        parts.append(tail[channel, lo - tail_start : min(hi, rows_start) - tail_start])
    if hi > rows_start:
        parts.append(rows[channel, max(lo, rows_start) - rows_start : hi - rows_start])
    return np.concatenate(parts) if len(parts) > 1 else np.array(parts[0], dtype=np.float64)


def _without_crosstalk(
    x: FloatArray,
    rows: FloatArray,
    rows_start: int,
    tail: FloatArray,
    tail_start: int,
    channel: int,
    lo: int,
    partners: tuple[int, ...],
    rest: FloatArray,
    upto: int,
    fs: float,
    given: FloatArray | None = None,
) -> tuple[FloatArray, bool]:
    """``x``, the samples of ``channel`` from stream index ``lo``, with the crosstalk of its
    ``partners`` over the same samples taken out (fitted over ``x[:upto]``, see
    :func:`~emg.dsp.crosstalk.crosstalk_coefficients`; ``rest`` every channel's rest power,
    ``fs`` the sample rate; or with the ``given`` coefficients, fitted before), and whether
    any was."""
    others = np.array(
        [_segment(rows, rows_start, tail, tail_start, c, lo, lo + len(x)) for c in partners]
    )
    coefficients = (
        given if given is not None else _crosstalk_fit(x, others, channel, partners, rest, upto, fs)
    )
    if not coefficients.any():
        return x, False
    return subtract_crosstalk(x, others, coefficients), True


def _crosstalk_fit(
    x: FloatArray,
    others: FloatArray,
    channel: int,
    partners: tuple[int, ...],
    rest: FloatArray,
    upto: int,
    fs: float,
) -> FloatArray:
    """The crosstalk coefficients of ``channel``'s ``partners`` (their samples ``others``)
    in ``x``, fitted over ``x[:upto]`` (``rest`` every channel's rest power)."""
    own, theirs = float(rest[channel]), rest[list(partners)]
    return crosstalk_coefficients(x, others, own, theirs, upto, round(CORRELATION_S * fs))


def _crosstalk_fits(
    rows: FloatArray,
    rows_start: int,
    tail: FloatArray,
    tail_start: int,
    requests: list[tuple[int, int, int, int, float]],
    partners: tuple[tuple[int, ...], ...],
    rests: list[FloatArray],
    fs: float,
) -> list[FloatArray | None]:
    """The crosstalk coefficients of each ``(channel, lo, crossing, last, noise_power)``
    request's partners, fitted over ``lo .. crossing`` (None: the channel has no partners),
    so that the change point and the onset searched near it take out the same crosstalk."""
    fits: list[FloatArray | None] = []
    for (channel, lo, crossing, _, _), rest in zip(requests, rests, strict=True):
        if not partners[channel]:
            fits.append(None)
            continue
        hi, group = crossing + 1, partners[channel]
        x = _segment(rows, rows_start, tail, tail_start, channel, lo, hi)
        others = np.array([_segment(rows, rows_start, tail, tail_start, c, lo, hi) for c in group])
        fits.append(_crosstalk_fit(x, others, channel, group, rest, len(x), fs))
    return fits


def _segment_points(
    rows: FloatArray,
    rows_start: int,
    tail: FloatArray,
    tail_start: int,
    requests: list[tuple[int, int, int, int, float]],
    fs: float,
    method: str,
    partners: tuple[tuple[int, ...], ...],
    rests: list[FloatArray],
    changes: list[int],
    fits: list[FloatArray | None] | None = None,
) -> list[int]:
    """The onset of each ``(channel, lo, crossing, last, noise_power)`` request (from the
    samples ``lo .. last``, the crosstalk of the channel's ``partners`` taken out), as
    stream indices: with ``method`` ``"edge"`` the start of the
    fitted rising edge (:func:`~emg.dsp.edge_onset.fit_rising_edge`), with ``"bayes"`` its
    posterior median (:func:`~emg.dsp.edge_onset.posterior_edge_onset`), with
    ``"cusum-edge"`` its posterior median from :data:`~emg.dsp.change_edge.BEFORE_CHANGE_S`
    before the request's CUSUM change point in ``changes`` on
    (:func:`~emg.dsp.change_edge.change_edge_onsets`), with ``"bonato"``
    the double threshold's (:func:`~emg.dsp.double_threshold.double_threshold_onset`), with
    ``"aglr"`` the start of the variance step (:func:`~emg.dsp.aglr.aglr_step_onset`) fitted
    to the samples up to the crossing (up to ``last`` once crosstalk has been taken out);
    ``fits`` the crosstalk coefficients to take out, per request (else fitted here).
    """
    found = []
    searches: list[EdgeSearch] = []
    reach = round(BEFORE_CHANGE_S * fs)
    for k, ((channel, lo, crossing, last, power), rest) in enumerate(
        zip(requests, rests, strict=True)
    ):
        x = _segment(rows, rows_start, tail, tail_start, channel, lo, last + 1)
        bound = crossing
        if partners[channel]:
            x, took_out = _without_crosstalk(
                x, rows, rows_start, tail, tail_start, channel, lo, partners[channel], rest,
                upto=crossing - lo + 1, fs=fs, given=None if fits is None else fits[k],
            )  # fmt: skip
            if took_out:  # a crossing that crosstalk made early bounds the onset no more
                bound = last
        if method == "cusum-edge":  # placed below, with the block's others
            found.append(lo)
            searches.append(EdgeSearch(x, power, changes[k] - reach - lo, bound - lo))
        elif method == "bonato":
            found.append(lo + double_threshold_onset(x, power, crossing - lo, fs))
        elif method == "aglr":
            found.append(lo + aglr_step_onset(x[: bound - lo + 1], power, bound - lo))
        elif method == "bayes":
            found.append(lo + posterior_edge_onset(x, power, bound - lo, fs).onset)
        else:
            found.append(lo + fit_rising_edge(x, power, bound - lo, fs).onset)
    if searches:  # all together
        placed = change_edge_onsets(searches, fs)
        found = [lo + onset for lo, onset in zip(found, placed, strict=True)]
    return found


def _event(spec: EventSpec, onsets: list[int], changes: list[int]) -> Onset | Burst:
    """The event described by ``spec``, a placeholder onset index (negative) resolved (and,
    when the onsets are fitted edges, the CUSUM change point of the same rise attached)."""
    decided, channel, index, crossing, offset, peak = spec
    change = None
    if index < 0:
        if changes:
            change = changes[-1 - index]
        index = onsets[-1 - index]
    if offset is None:
        return Onset(channel, index, crossing, decided, change)
    return Burst(channel, index, crossing, offset, peak, decided)


def _runs(mask: BoolArray) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Starts and stops (exclusive) of the runs of True in ``mask``."""
    n = len(mask)
    if n == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    changes = np.flatnonzero(mask[1:] != mask[:-1]) + 1
    head = [0] if mask[0] else []
    tail = [n] if mask[-1] else []
    if head or tail:
        changes = np.concatenate(
            [np.array(head, dtype=np.intp), changes, np.array(tail, dtype=np.intp)]
        )
    return changes[0::2], changes[1::2]


class _ChannelDetector:
    """State machine of one channel; see :class:`OnsetDetector`."""

    def __init__(self, channel: int, hold: int, offset_hold: int) -> None:
        self.channel = channel
        self.hold, self.offset_hold = hold, offset_hold
        self.active = False
        self.run_start: int | None = None  # open run carried over from the previous block
        self.peak = -np.inf
        self.onset: tuple[int, int] | None = None  # (index or placeholder, crossing) if active
        self.last_offset = 0

    def process(
        self,
        start: int,
        envelope: FloatArray,
        above: BoolArray,
        below: BoolArray,
        refine: RefineFn,
    ) -> list[EventSpec]:
        n = len(envelope)
        events: list[EventSpec] = []
        above_starts, above_stops = (runs.tolist() for runs in _runs(above))
        below_starts, below_stops = (runs.tolist() for runs in _runs(below))
        position = 0
        while position < n:
            if not self.active:
                position = self._find_onset(
                    start, position, envelope, above_starts, above_stops, refine, events
                )
            else:
                position = self._find_offset(
                    start, position, envelope, below_starts, below_stops, events
                )
        return events

    def _find_onset(
        self,
        start: int,
        position: int,
        envelope: FloatArray,
        starts: list[int],
        stops: list[int],
        refine: RefineFn,
        events: list[EventSpec],
    ) -> int:
        n = len(envelope)
        for k in range(bisect_right(stops, position), len(stops)):
            run_begin, run_end = max(starts[k], position), stops[k]
            carried = run_begin == 0 and self.run_start is not None
            begin = self.run_start if carried and self.run_start is not None else start + run_begin
            if begin + self.hold <= start + run_end:
                decided = begin + self.hold - 1
                index = refine(self.channel, begin, decided, self.last_offset)
                events.append((decided, self.channel, index, begin, None, 0.0))
                self.peak = (
                    max(self.peak, float(envelope[run_begin:run_end].max())) if carried else -np.inf
                )
                self.active, self.onset, self.run_start = True, (index, begin), None
                return run_begin
            if run_end == n:
                peak = float(envelope[run_begin:run_end].max())
                self.run_start, self.peak = begin, max(self.peak, peak) if carried else peak
                return n
        self.run_start, self.peak = None, -np.inf
        return n

    def _find_offset(
        self,
        start: int,
        position: int,
        envelope: FloatArray,
        starts: list[int],
        stops: list[int],
        events: list[EventSpec],
    ) -> int:
        n = len(envelope)
        assert self.onset is not None
        for k in range(bisect_right(stops, position), len(stops)):
            run_begin, run_end = max(starts[k], position), stops[k]
            carried = run_begin == 0 and self.run_start is not None
            begin = self.run_start if carried and self.run_start is not None else start + run_begin
            if begin + self.offset_hold <= start + run_end:
                if run_begin > position:
                    self.peak = max(self.peak, float(envelope[position:run_begin].max()))
                decided = begin + self.offset_hold - 1
                index, crossing = self.onset
                events.append((decided, self.channel, index, crossing, begin, self.peak))
                self.active, self.onset, self.run_start = False, None, None
                self.peak, self.last_offset = -np.inf, begin
                return decided + 1 - start
            if run_end == n:
                self.run_start = begin
                break
        else:
            self.run_start = None
        if n > position:
            self.peak = max(self.peak, float(envelope[position:n].max()))
        return n

    def flush(self, end: int) -> list[Onset | Burst]:
        if not self.active or self.onset is None:
            return []
        index, crossing = self.onset
        burst = Burst(self.channel, index, crossing, end, self.peak, end - 1, complete=False)
        self.active, self.onset, self.run_start, self.peak = False, None, None, -np.inf
        return [burst]


def _threshold_masks(
    envelope: FloatArray,
    on_threshold: FloatArray,
    off_threshold: FloatArray,
    spans: npt.NDArray[np.intp] | None,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], list[int]]:
    """Where the envelope is above the onset and below the offset threshold.

    Returns the two masks and the ends of the thresholds' spans (one end for per-sample or
    constant thresholds, filled in by the caller).
    """
    if spans is None:
        return envelope > on_threshold, envelope < off_threshold, []
    above = np.empty(envelope.shape, dtype=np.bool_)
    below = np.empty(envelope.shape, dtype=np.bool_)
    ends: list[int] = np.cumsum(spans).tolist()
    lo = 0
    for j, hi in enumerate(ends):
        if hi > lo:
            part = envelope[:, lo:hi]
            np.greater(part, on_threshold[:, j, None], out=above[:, lo:hi])
            np.less(part, off_threshold[:, j, None], out=below[:, lo:hi])
        lo = hi
    return above, below, ends


class OnsetDetector:
    """Threshold onset/offset detection with minimum durations, over several channels.

    Parameters
    ----------
    n_channels
        Number of channels.
    hold
        Samples the envelope must stay above the onset threshold to confirm an onset.
    offset_hold
        Samples it must stay below the offset threshold to confirm an offset.
    refine_span
        How far back (samples) before the crossing the onset is searched for (the variance
        change point's own search is ``change_span`` with the edge refinements); 0 turns
        refinement off (the onset is the crossing).
    refine_rho
        Variance ratio the refining CUSUM is tuned to.
    refinement
        ``"edge"``: the start of a fitted rising edge (:mod:`emg.dsp.edge_onset`), from the
        signal up to the confirmation; ``"bayes"``: the posterior median start of a rising
        edge, averaged over its shape and ramp
        (:func:`~emg.dsp.edge_onset.posterior_edge_onset`), from the same samples;
        ``"cusum"``: a variance CUSUM up to the crossing; ``"bonato"``: Bonato's double
        threshold up to the crossing (:mod:`emg.dsp.double_threshold`); ``"aglr"``: the
        maximum-likelihood start of a variance step up to the crossing, Staude's AGLR-step
        (:mod:`emg.dsp.aglr`); ``"cusum-edge"``: the posterior median start of a rising edge
        from :data:`~emg.dsp.change_edge.BEFORE_CHANGE_S` before the CUSUM's change point up
        to the crossing (:mod:`emg.dsp.change_edge`).
    sample_rate
        Samples per second (the edge model's ramp durations are in seconds).
    change_span
        With the ``edge``, ``bayes`` and ``cusum-edge`` refinements, how far back (samples)
        the CUSUM change point given alongside each onset is searched (0: ``refine_span``).
    partners
        For each channel, the channels whose crosstalk is taken out of it before its onset
        is placed (:func:`~emg.dsp.crosstalk.remove_crosstalk`), and the onset may then be
        after the threshold crossing, up to the confirmation; None: none.
    """

    def __init__(
        self,
        n_channels: int,
        hold: int,
        offset_hold: int,
        refine_span: int = 0,
        refine_rho: float = 3.0,
        refinement: str = "cusum",
        sample_rate: float = 0.0,
        change_span: int = 0,
        partners: Sequence[Sequence[int]] | None = None,
    ) -> None:
        if hold < 1 or offset_hold < 1:
            raise ValueError("onset and offset hold must be at least one sample")
        if refinement not in REFINEMENTS:
            raise ValueError(f"refinement must be one of {', '.join(REFINEMENTS)}")
        if refinement != "cusum" and refine_span and sample_rate <= 0:
            raise ValueError(f"the {refinement} refinement needs the sample rate")
        if partners is not None and (
            len(partners) != n_channels
            or any(p == c or not 0 <= p < n_channels for c, ps in enumerate(partners) for p in ps)
        ):
            raise ValueError("partners must name, for each channel, other channels")
        self.n_channels = n_channels
        self.partners: tuple[tuple[int, ...], ...] = (
            tuple(tuple(p) for p in partners) if partners is not None else ((),) * n_channels
        )
        self.refine_span, self.refine_rho = refine_span, refine_rho
        self.refinement, self.sample_rate = refinement, sample_rate
        self.change_span = min(change_span, refine_span) if change_span > 0 else refine_span
        self._cusum_scale = 0.5 * (1 - 1 / refine_rho)  # as in cusum_change_point
        self._cusum_offset = 0.5 * np.log(refine_rho)
        self._channels = [_ChannelDetector(c, hold, offset_hold) for c in range(n_channels)]
        self._history = refine_span + hold + 1
        # the signal's last `_history` samples before the block, channel-major (zeros before
        # the stream started): all a refinement can reach back into
        self._tail = np.zeros((n_channels, self._history if refine_span else 0))
        self._position = 0

    def process(
        self,
        signal: FloatArray,
        envelope: FloatArray,
        on_threshold: FloatArray,
        off_threshold: FloatArray,
        noise_power: FloatArray,
        amplitude: FloatArray | None = None,
    ) -> list[Onset | Burst]:
        """Detect onsets and offsets in one block.

        Parameters
        ----------
        signal
            Filtered signal ``(n_samples, n_channels)``, used to refine onsets.
        envelope
            Detection envelope, same shape.
        on_threshold, off_threshold
            Thresholds per sample and channel, same shape (or broadcastable to it).
        noise_power
            Mean square of ``signal`` at rest, per sample and channel (or broadcastable).
        amplitude
            Envelope whose maximum is reported as a burst's peak (default: ``envelope``).

        Returns
        -------
        list of Onset and Burst
            Events in the order they were decided, per channel.
        """
        shape = envelope.shape

        def rows(values: FloatArray) -> FloatArray:
            values = np.asarray(values)
            if values.ndim == 2 and values.shape[0] == 1:
                return values.T  # (n_channels, 1): broadcasts over samples
            wide: FloatArray = np.broadcast_to(values, shape).T
            return wide

        return self.process_rows(
            np.asarray(signal).T,
            np.asarray(envelope).T,
            rows(on_threshold),
            rows(off_threshold),
            rows(noise_power),
            None if amplitude is None else np.asarray(amplitude).T,
        )

    def process_rows(
        self,
        signal: FloatArray,
        envelope: FloatArray,
        on_threshold: FloatArray,
        off_threshold: FloatArray,
        noise_power: FloatArray,
        amplitude: FloatArray | None = None,
        spans: npt.NDArray[np.intp] | None = None,
    ) -> list[Onset | Burst]:
        """As :meth:`process`, for channel-major arrays ``(n_channels, n_samples)``.

        Parameters
        ----------
        signal, envelope, amplitude
            As for :meth:`process`, channel-major (any strides).
        on_threshold, off_threshold, noise_power
            ``(n_channels, n_samples)`` or ``(n_channels, 1)``; with ``spans``,
            ``(n_channels, len(spans))``.
        spans
            Piecewise-constant thresholds: column ``j`` of the thresholds and of
            ``noise_power`` applies to the next ``spans[j]`` samples (they add up to the
            block's length). The same events as with the values repeated per sample.

        Returns
        -------
        list of Onset and Burst
            Events in the order they were decided, per channel.
        """
        start = self._position
        n = int(envelope.shape[1])
        if n == 0:
            return []
        amplitude = envelope if amplitude is None else amplitude
        above, below, ends = _threshold_masks(envelope, on_threshold, off_threshold, spans)
        if spans is None:
            ends = [int(noise_power.shape[1])]  # a column per sample, or one for all
        history = self._tail.shape[1]
        tail_start = start - history  # stream index of the tail's first column
        buffer_start = max(start - history, 0)

        # refinements are worked out together after the channels' state machines have run:
        # meanwhile an onset carries a placeholder index, -1 - (number of the request)
        requests: list[tuple[int, int, int, float, int]] = []
        segment_requests: list[tuple[int, int, int, int, float]] = []
        # every channel's rest power at each request's decision (for the crosstalk removal)
        rests: list[FloatArray] = []
        segment_rests: list[FloatArray] = []

        def refine(channel: int, crossing: int, decided: int, floor: int) -> int:
            if not self.refine_span:
                return crossing
            lo = max(crossing - self.refine_span, floor, buffer_start)
            if spans is None:
                column = min(decided - start, ends[0] - 1)
            else:
                column = min(bisect_right(ends, decided - start), len(ends) - 1)
            power = float(noise_power[channel, column])
            if crossing + 1 <= lo or power <= 0:
                return lo  # nothing to search: the change point is the segment's start
            rest = noise_power[:, column]
            if self.refinement in ("bonato", "aglr"):  # from the samples up to the crossing
                # (AGLR: up to the confirmation once crosstalk has been taken out)
                last = decided if self.refinement == "aglr" else crossing
                segment_requests.append((channel, lo, crossing, last, power))
                segment_rests.append(rest)
                return -len(segment_requests)
            if self.refinement in EDGE_REFINEMENTS:  # up to the confirmation; the change point too
                segment_requests.append((channel, lo, crossing, decided, power))
                segment_rests.append(rest)
                lo = max(crossing - self.change_span, lo)
            requests.append((channel, lo, crossing + 1, self._cusum_scale / power, decided + 1))
            rests.append(rest)
            return -len(requests)

        specs = self._run_channels(start, amplitude, above, below, refine)
        onsets: list[int] = []
        changes: list[int] = []
        fits = None
        if requests and segment_requests:
            # fitted edges: the change point and the edge near it take out the crosstalk
            # fitted over the edge's (longer) segment, so that both decide alike whether any
            fits = _crosstalk_fits(
                signal, start, self._tail, tail_start, segment_requests, self.partners,
                segment_rests, self.sample_rate,
            )  # fmt: skip
        if requests:
            onsets = _change_points(
                signal, start, self._tail, tail_start, requests, self._cusum_offset,
                self.partners, rests, self.sample_rate, fits,
            )  # fmt: skip
        if segment_requests:
            changes = onsets  # the CUSUM's, with fitted edges; none with bonato or aglr
            onsets = _segment_points(
                signal, start, self._tail, tail_start, segment_requests, self.sample_rate,
                self.refinement, self.partners, segment_rests, changes, fits,
            )  # fmt: skip
        if onsets:
            self._place_open_onsets(onsets)
        if len(specs) > 1:
            specs.sort(key=lambda spec: (spec[0], spec[1]))
        events = [_event(spec, onsets, changes) for spec in specs]
        self._keep_tail(signal)
        self._position += n
        return events

    def _run_channels(
        self,
        start: int,
        amplitude: FloatArray,
        above: npt.NDArray[np.bool_],
        below: npt.NDArray[np.bool_],
        refine: RefineFn,
    ) -> list[EventSpec]:
        """Each channel's state machine over the block; the events it decided."""
        specs: list[EventSpec] = []
        any_above = cast("list[bool]", above.any(axis=1).tolist())
        any_below = cast("list[bool]", below.any(axis=1).tolist())
        for c, detector in enumerate(self._channels):
            if detector.active and not any_below[c]:
                # still active through the whole block: only the peak moves
                detector.peak = max(detector.peak, float(amplitude[c].max()))
                detector.run_start = None
            elif not detector.active and not any_above[c]:
                # quiet through the whole block: no run above the onset threshold
                detector.run_start, detector.peak = None, -np.inf
            else:
                specs.extend(detector.process(start, amplitude[c], above[c], below[c], refine))
        return specs

    def _place_open_onsets(self, onsets: list[int]) -> None:
        """Give onsets still open at the block's end their refined index (was a placeholder)."""
        for detector in self._channels:
            if detector.onset is not None and detector.onset[0] < 0:
                index, crossing = detector.onset
                detector.onset = (onsets[-1 - index], crossing)

    def _keep_tail(self, signal: FloatArray) -> None:
        """Keep the last samples of the signal, which the next block's refinements look at."""
        history, n = self._tail.shape[1], signal.shape[1]
        if not history:
            return
        if n >= history:
            self._tail[...] = signal[:, n - history :]
        else:
            self._tail[:, : history - n] = self._tail[:, n:]
            self._tail[:, history - n :] = signal

    def flush(self) -> list[Onset | Burst]:
        """Close bursts still open at the end of the stream."""
        events: list[Onset | Burst] = []
        for detector in self._channels:
            events.extend(detector.flush(self._position))
        return events
