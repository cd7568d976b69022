"""Reps and their onset order, decided causally from the bursts of a glute and a hamstring channel.

A rep is the union of the overlapping bursts of both muscles (each burst detected on its own
envelope against its own rest level). Each muscle's onset is paired to the rep it falls in; a
muscle that never switches on in a rep is reported as missing, not dropped. The onset order is
decided as soon as it is decidable:

- both onsets confirmed: at the later confirmation, from the detected onsets and both
  muscles' rising edges (see :mod:`emg.analysis.lead`); a side is called only when the lead
  exceeds the margin by its uncertainty;
- only one: when no onset of the other muscle can still be reported within the margin. An
  onset is confirmed ``hold`` samples after its threshold crossing and may be refined back by at
  most ``refine`` samples, so after ``first onset + margin + hold + refine`` samples none can;
- the other muscle still active from before the rep (sustained activity): at once; it led.

A muscle whose samples were lost (its sensor dropped out) for :data:`UNRECORDED_SHARE` or more
of the stretch in which its onset was looked for, of the :data:`RISE_LOOKBACK_S` before its
onset (its sensor came back mid-burst), or of the rep, is *not recorded* in that rep, not
missing: the order and lead of the rep stay unknown, and its ratio too, so a glute sensor that
drops out raises no hamstring-first flag. So is a muscle whose filtered signal was flat over
that stretch (RMS below :data:`~emg.analysis.signal_quality.FLAT_SD_UV`, an order of magnitude
below any front end's noise: an electrode or lead that came off) or whose channel stuck at one
value there (:mod:`emg.dsp.stuck`): it could not have been seen to switch on (``no_signal``).
A channel that sticks within :data:`STUCK_AFTER_ONSET_S` after an onset (once it is known to
be stuck) is not recorded in its rep either: the "onset" was the jump to the stuck value, a
rail, not a muscle.

Every decision carries the stream sample at which it became decidable (``decided_at``), which
depends only on the signal, never on how it was split into blocks. The ratio and the levels are
computed when the rep ends.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from emg.analysis.deadlines import Deadline, DeadlineQueue
from emg.analysis.lead import (
    LEADS,
    RISE_LEVEL_S,
    RISE_LOOKBACK_S,
    LeadEstimate,
    Rise,
    estimate_lead,
    rise_of,
)
from emg.analysis.normalisation import Normalisation
from emg.analysis.rep_history import History, RestSpectrum
from emg.analysis.rep_measures import (
    burst_median_frequency,
    decide_order,
    level_before,
    rep_levels,
)
from emg.analysis.signal_quality import FLAT_SD_UV
from emg.dsp.baseline import BaselineEstimate
from emg.dsp.chain_limits import SettingError
from emg.dsp.onset import Burst, Onset
from emg.dsp.spectral import welch_power, welch_segment
from emg.dsp.stuck import stuck_run_samples
from emg.order import Order

FloatArray = npt.NDArray[np.float64]
GROUPS = ("glute", "hamstring")


#: Share of a stretch a muscle's samples must have been lost for to count as not recorded
#: there (a lost packet or two, bridged by the chain, is not).
UNRECORDED_SHARE = 0.25
#: Seconds after an onset within which its channel found stuck makes the onset the jump to
#: the stuck value (counted from where the channel is known to be stuck: the stuck run's
#: length after the onset, which the refinement may place up to this much early).
STUCK_AFTER_ONSET_S = 0.05
#: In the history of lost samples: lost in transit, and stuck at one value
_LOST, _STUCK = 1.0, 2.0
#: Offsets kept per muscle to find the one before an onset: the rep's own bursts, split by
#: dips, may have ended by the time its lead is worked out.
RECENT_OFFSETS = 8


@dataclass(frozen=True)
class RepConfig:
    """How bursts are grouped into reps (times in seconds).

    Attributes
    ----------
    margin_ms
        Onsets closer than this are ``simultaneous``.
    min_rep_s
        A rep shorter than this with a single muscle is a twitch and is ignored.
    merge_gap_s
        A muscle that switches off and on again within this gap, while the rep goes on, is
        one burst (a dip mid-rep is not a new rep).
    max_rep_s
        A rep still going after this long is closed (marked incomplete).
    tonic_s
        Times after the glutes switch off at which sustained hamstring activity is reported.
    pre_window_s
        Window before a rep in which the hamstring's rest level is checked.
    elevated_sd
        The hamstring counts as not back at rest when its mean envelope over that window
        exceeds the rest mean by this many rest SDs (the mean of ~10 independent 50 ms RMS
        values varies by about a third of an SD, so 2 SD is a clear excess).
    rise_weight
        Weight of the rise alignment in the lead (0-1; 0: the lead is the difference of the
        detected onsets), see :mod:`emg.analysis.lead`.
    start_weight
        Weight of the rises' extrapolated starts in the lead (0-1; 0: none), see
        :mod:`emg.analysis.lead` ("Rise starts").
    confidence_ms
        Scale of the lead's uncertainty margin: a side is called only when the lead exceeds
        ``margin_ms`` plus this times ``sqrt(1 / (L_g - 1) + 1 / (L_h - 1))`` (``L``: each
        muscle's envelope power at its onset's confirmation over its rest power); 0 turns
        the rule off.
    lead
        With the fitted-edge refinements (``cusum-edge``, the default, ``edge``, ``bayes``),
        where the lead comes from: ``"edges"``
        (the default), the steady lead moved towards the fitted edges' lead as far as the two
        disagree beyond noise (unbiased by slow recruitment, more scattered at 5-10 dB);
        ``"steady"``, the CUSUM change points and the rise alignment alone, the CUSUM
        refinement's lead and orders to the sample (the least scattered with alike rises; a
        slow muscle's rise makes it late). See :mod:`emg.analysis.lead`. With the other
        refinements it changes nothing.
    mdf_noise_correction
        Take the rest spectrum out of each burst's spectrum before its median frequency (the
        electrode noise's flat spectrum pulls the median up, the more so the weaker the rep).
    rest_guard_s
        Rest stretches for the rest spectrum keep this far from the end of the previous rep
        and from the onset of the next.
    rest_span_s
        At most this much rest before each rep enters the rest spectrum.
    rest_memory_s
        The rest spectrum is a running mean over about this much rest (older stretches fade).
    """

    margin_ms: float = 50.0
    min_rep_s: float = 0.3
    merge_gap_s: float = 0.25
    max_rep_s: float = 30.0
    tonic_s: tuple[float, ...] = (0.5, 1.0)
    pre_window_s: float = 0.5
    elevated_sd: float = 2.0
    rise_weight: float = 0.5
    start_weight: float = 0.25
    confidence_ms: float = 15.0
    lead: str = "edges"
    mdf_noise_correction: bool = True
    rest_guard_s: float = 0.2
    rest_span_s: float = 1.5
    rest_memory_s: float = 30.0

    def __post_init__(self) -> None:
        if not 0 <= self.rise_weight <= 1:
            raise ValueError(f"rise weight must be in [0, 1], got {self.rise_weight:g}")
        if not 0 <= self.start_weight <= 1:
            raise ValueError(f"start weight must be in [0, 1], got {self.start_weight:g}")
        if self.confidence_ms < 0:
            raise ValueError(f"confidence scale must be >= 0 ms, got {self.confidence_ms:g}")
        if self.lead not in LEADS:
            raise SettingError("lead", f"unknown lead {self.lead!r} (known: {', '.join(LEADS)})")
        if self.rest_guard_s < 0 or self.rest_span_s <= 0 or self.rest_memory_s <= 0:
            raise ValueError("rest guard must be >= 0 s, rest span and memory > 0 s")


@dataclass
class Rep:
    """One rep of a glute/hamstring pair. Sample indices count from the start of the stream.

    Attributes
    ----------
    index
        1-based rep number (per side).
    side
        ``left``, ``right`` or None.
    start, end
        First onset and end of the last burst (None while the rep goes on).
    onsets, offsets
        Per muscle group, onset and offset sample (None when it did not switch on/off).
    carried
        Groups already active from before the rep.
    under_way
        The rep was under way when detection began (the stream started mid-burst): its
        onsets are where detection began, not where the muscles switched on, so its lead and
        order stay None.
    unrecorded
        Groups whose samples were lost (:data:`UNRECORDED_SHARE` or more) where their onset
        was looked for, just before their onset, or over the rep. Found when the order is
        decided, the order and lead stay None (the group may have switched on unseen); found
        at the rep's end, the order stands. Their level and median frequency, and the ratio,
        are None (NaN level); the rep counts towards no flag or cramp-risk reason.
    no_signal
        Those of ``unrecorded`` whose signal was flat there (no samples lost, nothing
        measured).
    lead_ms, order
        Hamstring onset minus glute onset, and the order (``glute-first``,
        ``hamstring-first``, ``simultaneous``); None until decided; ``lead_ms`` stays None
        when a muscle did not switch on in the rep. The lead is estimated from the detected
        onsets and both muscles' rising edges together, so it can differ by a few ms from
        the difference of ``onsets``.
    order_margin_ms
        How far from zero the lead had to be for a side to be called: the exercise margin
        plus the lead's uncertainty (None when the order was not decided from a lead).
    decided_at
        Sample at which the order became decidable.
    levels
        Normalised mean RMS per group over the rep (see ``normalisation``).
    ratio, hamstring_share
        Glute : hamstring level, and hamstring / (glute + hamstring).
    normalisation
        ``mvc`` (levels in %MVC) or ``rest`` (multiples of the rest RMS).
    median_frequency_hz
        Per group, median frequency of the Welch spectrum of its burst, with the rest spectrum
        taken out (see ``RepConfig.mdf_noise_correction``; None if too short).
    median_frequency_se_hz
        Per group, standard error of that median frequency: the scatter it has from the
        burst's finite length alone (about 5 % for a 1 s burst), see
        :func:`emg.dsp.spectral.median_frequency_error`.
    hamstring_before
        Hamstring level (normalised) in the window before the rep, and whether it was above
        its rest level.
    completed_at
        Sample at which the rep ended (its last offset was confirmed).
    complete
        False when the stream ended (or ``max_rep_s`` passed) during the rep.
    """

    index: int
    side: str | None
    start: int
    onsets: dict[str, int | None] = field(default_factory=lambda: dict.fromkeys(GROUPS))
    offsets: dict[str, int | None] = field(default_factory=lambda: dict.fromkeys(GROUPS))
    carried: tuple[str, ...] = ()
    under_way: bool = False
    unrecorded: tuple[str, ...] = ()
    no_signal: tuple[str, ...] = ()
    end: int | None = None
    lead_ms: float | None = None
    order: Order | None = None
    order_margin_ms: float | None = None
    decided_at: int | None = None
    levels: dict[str, float] = field(default_factory=dict)
    ratio: float | None = None
    hamstring_share: float | None = None
    normalisation: str = "rest"
    median_frequency_hz: dict[str, float | None] = field(default_factory=dict)
    median_frequency_se_hz: dict[str, float | None] = field(default_factory=dict)
    hamstring_before: float | None = None
    hamstring_elevated_before: bool = False
    completed_at: int | None = None
    complete: bool = True

    def snapshot(self) -> Rep:
        """A copy as the rep stands now, to hand out: the tracker goes on changing its own.

        Every field is a number, a string, a tuple or a dict of those, so copying the dicts
        is a deep copy.
        """
        rep = copy.copy(self)
        for name in _DICT_FIELDS:
            setattr(rep, name, dict(getattr(self, name)))
        return rep

    @property
    def missing(self) -> tuple[str, ...]:
        """Groups that did not switch on in the rep (and were not already active, and were
        recorded)."""
        return tuple(
            g
            for g in GROUPS
            if self.onsets[g] is None and g not in self.carried and g not in self.unrecorded
        )


#: The fields of a :class:`Rep` that are dicts (copied by :meth:`Rep.snapshot`).
_DICT_FIELDS = tuple(f.name for f in dataclasses.fields(Rep) if str(f.type).startswith("dict"))


def _undecided(rep: Rep) -> bool:
    """Whether the order of ``rep`` is still to be decided (an order left unknown because a
    muscle was not recorded is decided: a muscle that comes back later in the rep would show
    an onset where its samples came back, not where it switched on)."""
    return rep.order is None and not rep.unrecorded


#: What a rep event says: order known, rep over, hamstring still on.
RepEventKind = Literal["decided", "completed", "tonic"]


@dataclass(frozen=True)
class RepEvent:
    """Something a rep made known.

    Attributes
    ----------
    kind
        ``decided`` (order known), ``completed`` (rep over, ratio known) or ``tonic``
        (hamstring still active ``seconds`` after the glutes switched off).
    rep
        A snapshot of the rep as it stood then; never changed afterwards.
    at
        Sample at which it became known.
    seconds
        For ``tonic``: how long the hamstring has stayed on.
    """

    kind: RepEventKind
    rep: Rep
    at: int
    seconds: float = 0.0


class RepTracker:
    """Streaming reps of one glute channel and one hamstring channel.

    Parameters
    ----------
    channels
        Chain channel index of the glute and of the hamstring.
    fs
        Sample rate in Hz.
    decision_delay
        Samples after an onset until no earlier onset can still be reported: the chain's
        onset hold plus its refinement span.
    config
        Grouping settings.
    normalisation
        MVC references (none: multiples of rest).
    side
        Side of the pair, for the output.
    settle
        Samples at the start of the stream in which the filters settle: never rest.
    envelope
        Samples in the envelope's window: for that long after a sample not recorded the
        envelope still holds it.
    """

    def __init__(
        self,
        channels: tuple[int, int],
        fs: float,
        decision_delay: int,
        config: RepConfig | None = None,
        normalisation: Normalisation | None = None,
        side: str | None = None,
        settle: int = 0,
        envelope: int = 0,
    ) -> None:
        self.channels, self.fs, self.side = channels, fs, side
        self._guard = envelope
        self.config = config or RepConfig()
        self.normalisation = normalisation or Normalisation()
        self._method = self.normalisation.method()
        self._delay = decision_delay
        self._margin = round(self.config.margin_ms / 1000 * fs)
        self._history = History(4)  # envelope and filtered signal of the glute and the hamstring
        self._lost = History(2)  # their samples not recorded (_LOST, _STUCK)
        self._stuck_run = stuck_run_samples(fs)
        self._stuck_after = self._stuck_run + self._s(STUCK_AFTER_ONSET_S)
        self._baselines: list[BaselineEstimate] = []
        self._active: dict[str, bool] = dict.fromkeys(GROUPS, False)
        self._rep: Rep | None = None
        self._last_end: int | None = None
        self._count = 0
        self._deadlines = DeadlineQueue()
        self._position = 0
        self._onsets: dict[str, Onset] = {}  # confirmed onsets of the current rep
        # each muscle's latest offsets, the last one last: for the one before a given onset (a
        # rep's lead may be worked out once its own bursts have ended)
        self._recent_offsets: dict[str, list[int]] = {}
        self._quiet_from = settle  # no rep, no twitch from here on (until the next onset)
        self._settle = settle  # the first sample at which an onset can be detected
        self._segment = welch_segment(fs)
        step = self._segment - self._segment // 2
        self._rest = RestSpectrum(max(1, round(self.config.rest_memory_s * fs / step)))

    def _s(self, seconds: float) -> int:
        return max(1, round(seconds * self.fs))

    def process(
        self,
        start: int,
        filtered: FloatArray,
        envelope: FloatArray,
        events: list[Onset | Burst],
        baselines: list[BaselineEstimate] | None = None,
        lost: npt.NDArray[np.bool_] | None = None,
        stuck: npt.NDArray[np.bool_] | None = None,
    ) -> list[RepEvent]:
        """Consume one block of the chain's output.

        Parameters
        ----------
        start
            Stream index of the block's first sample.
        filtered
            Filtered signal of all chain channels, ``(n_samples, n_channels)``.
        envelope
            RMS envelope of all chain channels, ``(n_samples, n_channels)``.
        events
            Onsets and bursts the chain confirmed in this block (all channels).
        baselines
            Baseline estimates of the RMS envelope that became valid in this block.
        lost
            Samples not recorded (lost in transit or stuck), like ``envelope`` (None: none).
        stuck
            Those of ``lost`` in which the channel was stuck at one value (None: none).

        Returns
        -------
        list of RepEvent
            Decisions, completions and sustained-activity reports, in stream order.
        """
        glute, hamstring = self.channels
        columns = [glute, hamstring]
        self._history.append(
            start, np.concatenate([envelope[:, columns], filtered[:, columns]], axis=1)
        )
        unrecorded = np.zeros((len(envelope), 2))
        if lost is not None:
            unrecorded[lost[:, columns]] = _LOST
        if stuck is not None:
            unrecorded[stuck[:, columns]] = _STUCK
        self._lost.append(start, unrecorded)
        self._baselines.extend(baselines or [])
        self._position = start + len(envelope)
        out: list[RepEvent] = []
        for event in events:
            if event.channel not in self.channels:
                continue
            self._advance(event.decided, out, inclusive=False)
            group = GROUPS[self.channels.index(event.channel)]
            if isinstance(event, Onset):
                self._on_onset(group, event, out)
            else:
                self._on_offset(group, event, out)
        self._advance(self._position - 1, out, inclusive=True)
        self._trim()
        return out

    def flush(self) -> list[RepEvent]:
        """End of stream: decide and close the rep that is still going."""
        out: list[RepEvent] = []
        self._advance(self._position - 1, out, inclusive=True)
        rep = self._rep
        if rep is not None:
            at = self._position - 1
            if _undecided(rep):
                self._decide(rep, at, out)
            self._close(rep, self._position, at, out, complete=not any(self._active.values()))
        return out

    # --- events -----------------------------------------------------------------------

    def _on_onset(self, group: str, onset: Onset, out: list[RepEvent]) -> None:
        self._active[group] = True
        rep = self._rep
        if rep is not None:
            off = rep.offsets[group]
            if rep.onsets[group] is None and group not in rep.carried:
                rep.onsets[group] = onset.index
                self._onsets[group] = onset
                rep.start = min(rep.start, onset.index)
                if _undecided(rep):
                    self._decide(rep, onset.decided, out)
                return
            if (
                off is not None
                and self._seen_dip(group, off, onset.index) <= self._s(self.config.merge_gap_s)
                and (any(self._active[g] for g in GROUPS if g != group))
            ):
                rep.offsets[group] = None  # a dip inside the rep, not a new rep
                return
            others_active = any(self._active[g] for g in GROUPS if g != group)
            offsets = [o for o in rep.offsets.values() if o is not None]
            end = onset.index if others_active or not offsets else min(max(offsets), onset.index)
            if _undecided(rep):
                self._decide(rep, onset.decided, out)
            self._close(rep, end, onset.decided, out, complete=True)
        self._open(group, onset, out)

    def _open(self, group: str, onset: Onset, out: list[RepEvent]) -> None:
        carried = tuple(g for g in GROUPS if g != group and self._active[g])
        if not carried:
            self._learn_rest(onset.index)
        self._count += 1
        rep = Rep(self._count, self.side, onset.index, carried=carried)
        rep.onsets[group] = onset.index
        self._onsets = {group: onset}
        rep.normalisation = self._method
        self._check_before(rep)
        self._rep = rep
        if carried:
            self._decide(rep, onset.decided, out)
        else:
            self._deadlines.add(Deadline(onset.index + self._margin + self._delay, "decide"))
        self._deadlines.add(Deadline(onset.index + self._s(self.config.max_rep_s), "max"))

    def _on_offset(self, group: str, burst: Burst, out: list[RepEvent]) -> None:
        self._active[group] = False
        recent = self._recent_offsets.setdefault(group, [])
        recent.append(burst.offset)
        del recent[:-RECENT_OFFSETS]
        rep = self._rep
        if rep is None:
            return
        rep.offsets[group] = burst.offset
        if group == "glute" and self._active["hamstring"]:
            for seconds in self.config.tonic_s:
                self._deadlines.add(Deadline(burst.offset + self._s(seconds), "tonic", seconds))
        if not any(self._active.values()) and not _undecided(rep):
            end = max(o for o in rep.offsets.values() if o is not None)
            self._close(rep, end, burst.decided, out, complete=burst.complete)

    # --- deadlines --------------------------------------------------------------------

    def _advance(self, now: int, out: list[RepEvent], inclusive: bool) -> None:
        while (deadline := self._deadlines.pop_due(now, inclusive)) is not None:
            self._fire(deadline, out)

    def _fire(self, deadline: Deadline, out: list[RepEvent]) -> None:
        at, kind, seconds = deadline
        rep = self._rep
        if rep is None:
            return
        if kind == "decide" and _undecided(rep):
            if not any(self._active.values()):
                end = max(o for o in rep.offsets.values() if o is not None)
                if end - rep.start < self._s(self.config.min_rep_s):
                    self._discard(end)
                    return
                self._decide(rep, at, out)
                self._close(rep, end, at, out, complete=True)
                return
            self._decide(rep, at, out)
        elif kind == "tonic":
            glute_off = rep.offsets["glute"]
            if self._active["hamstring"] and not self._active["glute"] and glute_off is not None:
                # the glutes relaxed, or their sensor dropped out: then nothing is known
                if glute_off + self._s(seconds) == at and not self._unrecorded(
                    "glute", glute_off, at + 1
                ):
                    out.append(RepEvent("tonic", rep.snapshot(), at, seconds))
        elif kind == "max" and at - rep.start >= self._s(self.config.max_rep_s):
            if _undecided(rep):
                self._decide(rep, at, out)
            self._close(rep, at, at, out, complete=False)

    def _discard(self, end: int) -> None:
        self._rep = None
        self._quiet_from = max(self._quiet_from, end)
        self._count -= 1
        self._deadlines.keep_only("tonic")

    # --- decisions --------------------------------------------------------------------

    def _decide(self, rep: Rep, at: int, out: list[RepEvent]) -> None:
        if any(o.crossing <= self._settle for o in self._onsets.values()):
            # active when detection began (the stream started mid-burst): its onset, hence
            # the order, is not known
            rep.under_way = True
            rep.decided_at = at
            out.append(RepEvent("decided", rep.snapshot(), at))
            return
        # a muscle that did not switch on may have, where its samples were lost; one whose
        # samples had been lost just before its onset switched on somewhere in the gap (its
        # sensor came back mid-burst)
        lo, lookback = rep.start - self._margin, self._s(RISE_LOOKBACK_S)
        silent = {g: self._silent(g, lo, at + 1) for g in GROUPS}
        onsets = rep.onsets
        # where each muscle's onset was looked for: the rep's start on, or the rise before it
        looked = {
            g: (lo, at + 1) if (onset := onsets[g]) is None else (onset - lookback, onset)
            for g in GROUPS
        }
        stuck = {
            g: (onset := onsets[g]) is not None
            and self._stuck_in(g, onset, min(onset + self._stuck_after, at + 1))
            for g in GROUPS
        }
        unseen = tuple(
            g
            for g in GROUPS
            if (
                silent[g]  # "active" on a flat channel: a filter's residue
                if g in rep.carried
                else (silent[g] if onsets[g] is None else stuck[g])
                or self._unrecorded(g, *looked[g])
            )
        )
        if unseen:
            rep.unrecorded = unseen
            rep.no_signal = tuple(
                g for g in unseen if silent[g] or stuck[g] or self._mostly_stuck(g, *looked[g])
            )
            rep.decided_at = at
            out.append(RepEvent("decided", rep.snapshot(), at))
            return
        decision = decide_order(
            self._lead(rep),
            rep.carried,
            rep.onsets["hamstring"] is not None,
            self.config.margin_ms,
        )
        rep.order = decision.order
        if decision.lead_ms is not None:
            rep.lead_ms, rep.order_margin_ms = decision.lead_ms, decision.margin_ms
        rep.decided_at = at
        out.append(RepEvent("decided", rep.snapshot(), at))

    def _marks(self, group: str, lo: int, hi: int) -> FloatArray:
        """``group``'s marks of samples not recorded in ``lo .. hi`` that the history still
        holds: 0 recorded, :data:`_LOST` lost in transit, :data:`_STUCK` stuck."""
        marks: FloatArray = self._lost.slice(max(lo, 0), hi)[:, GROUPS.index(group)]
        return marks

    def _unrecorded(self, group: str, lo: int, hi: int) -> bool:
        """Whether ``group``'s samples were not recorded (lost or stuck) for
        :data:`UNRECORDED_SHARE` or more of ``lo .. hi``: the samples the history still holds
        that were, over the whole stretch (a stream's first samples may not be held; they were
        not known to be lost)."""
        lost = self._marks(group, lo, hi)
        span = hi - max(lo, 0)
        return span > 0 and float(np.count_nonzero(lost)) >= UNRECORDED_SHARE * span

    def _mostly_stuck(self, group: str, lo: int, hi: int) -> bool:
        """Whether most of ``group``'s samples not recorded in ``lo .. hi`` were stuck."""
        lost = self._marks(group, lo, hi)
        stuck = int(np.count_nonzero(lost == _STUCK))
        return stuck > 0 and 2 * stuck >= int(np.count_nonzero(lost))

    def _recorded(self, group: str, lo: int, hi: int) -> npt.NDArray[np.bool_]:
        """Which of ``group``'s samples ``lo .. hi`` (those the history holds) the envelope
        shows as recorded: not lost, not stuck, neither within the envelope's window after
        such a sample nor in the start of a stuck run, which is marked only once it has
        lasted (runs known by ``hi``)."""
        start = max(lo - max(self._guard, self._stuck_run), 0)
        lost = self._marks(group, start, hi)
        index = np.arange(len(lost))
        unrecorded = lost != 0
        if (lost == _STUCK).any():  # back to where each run began
            far = len(lost) + self._stuck_run
            following = np.minimum.accumulate(np.where(lost == _STUCK, index, far)[::-1])[::-1]
            unrecorded |= following - index < self._stuck_run
        if self._guard and unrecorded.any():  # the envelope still holds them
            last = np.maximum.accumulate(np.where(unrecorded, index, -len(lost) - self._guard))
            unrecorded |= index - last <= self._guard
        recorded: npt.NDArray[np.bool_] = ~unrecorded[max(lo, 0) - start :]
        return recorded

    def _seen_dip(self, group: str, off: int, on: int) -> int:
        """Samples of ``group``'s dip from ``off`` to ``on`` in which it was recorded: a
        stretch lost or stuck inside a burst is no dip of the muscle, and the burst goes on
        after it in the same rep."""
        return on - off - int(np.count_nonzero(self._marks(group, off, on)))

    def _stuck_in(self, group: str, lo: int, hi: int) -> bool:
        """Whether ``group``'s channel was stuck anywhere in ``lo .. hi`` (as far as known)."""
        return bool((self._marks(group, lo, hi) == _STUCK).any())

    def _silent(self, group: str, lo: int, hi: int) -> bool:
        """Whether ``group``'s filtered signal, over the samples of ``lo .. hi`` that were
        not lost, has an RMS below :data:`~emg.analysis.signal_quality.FLAT_SD_UV` (not asked
        of the stretch before an onset, which a clean rest may be)."""
        column = GROUPS.index(group)
        lo = max(lo, 0)
        kept = self._marks(group, lo, hi) == 0
        filtered = self._history.slice(lo, hi)[:, 2 + column]
        if len(filtered) != len(kept) or not kept.any():
            return False
        values = filtered[kept]
        return float(np.sqrt(np.mean(values * values))) < FLAT_SD_UV

    def _lead(self, rep: Rep) -> LeadEstimate | None:
        """The lead of a rep whose muscles both switched on in it (else None)."""
        glute, hamstring = rep.onsets["glute"], rep.onsets["hamstring"]
        if glute is None or hamstring is None:
            return None
        glute_change, hamstring_change = (
            self._change("glute", glute),
            self._change("hamstring", hamstring),
        )
        return estimate_lead(
            (glute, hamstring),
            (self._rise("glute", glute), self._rise("hamstring", hamstring)),
            self.fs,
            self.config.rise_weight,
            self.config.confidence_ms,
            None
            if glute_change is None or hamstring_change is None
            else (glute_change, hamstring_change),
            follow_edges=self.config.lead == "edges",
            start_weight=self.config.start_weight,
        )

    def _change(self, group: str, index: int) -> int | None:
        """The CUSUM change point given with ``group``'s onset at ``index`` (edge refinements)."""
        onset = self._onsets.get(group)
        return onset.change if onset is not None and onset.index == index else None

    def _rise(self, group: str, index: int) -> Rise | None:
        """The rising edge of ``group``'s onset at ``index``, up to its confirmation."""
        onset = self._onsets.get(group)
        if onset is None or onset.index != index:
            return None
        column = GROUPS.index(group)
        estimate = self._estimate_at(onset.crossing)
        if estimate is None:
            return None
        channel = self.channels[column]
        rest_power = float(estimate.mean[channel] ** 2 + estimate.std[channel] ** 2)
        # from before the onset, not into the previous burst
        lookback = min(self._delay, self._s(RISE_LOOKBACK_S))
        before = [o for o in self._recent_offsets.get(group, []) if o <= onset.crossing]
        lo = max(onset.crossing - lookback, before[-1] if before else 0, 0)
        segment = self._history.slice(lo, onset.decided + 1)
        if len(segment) != onset.decided + 1 - lo:
            return None
        envelope = np.array(segment[:, column], dtype=np.float64)  # contiguous: same sums
        return rise_of(envelope, lo, rest_power, self._s(RISE_LEVEL_S))

    def _close(self, rep: Rep, end: int, at: int, out: list[RepEvent], complete: bool) -> None:
        rep.end, rep.completed_at, rep.complete = end, at, complete
        if rep.lead_ms is None and not rep.under_way and not rep.unrecorded:
            estimate = self._lead(rep)
            rep.lead_ms = estimate.lead_ms if estimate is not None else None
        hi = max(end, rep.start + 1)
        silent = {g: self._silent(g, rep.start, hi) for g in GROUPS if g not in rep.unrecorded}
        later = tuple(g for g in silent if silent[g] or self._unrecorded(g, rep.start, hi))
        rep.unrecorded += later
        rep.no_signal += tuple(
            g for g in later if silent[g] or self._mostly_stuck(g, rep.start, hi)
        )
        history = self._history.slice(rep.start, hi)
        references = tuple(
            self.normalisation.reference(group, self._rest_at(rep.start, i))
            for i, group in enumerate(GROUPS)
        )
        levels = rep_levels(history[:, :2], (references[0], references[1]))
        rep.levels["glute"], rep.levels["hamstring"] = levels.glute, levels.hamstring
        rep.ratio, rep.hamstring_share = levels.ratio, levels.hamstring_share
        if rep.unrecorded:  # a level of bridged gaps: no level, no ratio
            for group in rep.unrecorded:
                rep.levels[group] = float("nan")
            rep.ratio = rep.hamstring_share = None
        for i, group in enumerate(GROUPS):
            mdf, error = self._burst_mdf(rep, group, i, end)
            rep.median_frequency_hz[group] = mdf
            rep.median_frequency_se_hz[group] = error
        self._rep = None
        self._last_end = end
        self._quiet_from = max(self._quiet_from, end)
        self._deadlines.keep_only("tonic")
        out.append(RepEvent("completed", rep, at))  # let go of: never changed again

    def _burst_mdf(
        self, rep: Rep, group: str, column: int, end: int
    ) -> tuple[float | None, float | None]:
        """Median frequency of a muscle's whole burst in ``rep``, and its standard error."""
        onset, offset = rep.onsets[group], rep.offsets[group]
        lo = onset if onset is not None else rep.start
        hi = min(offset, end) if offset is not None else end
        if group in rep.missing or group in rep.unrecorded or hi <= lo:
            return None, None
        noise = self._rest.power if self.config.mdf_noise_correction else None
        # contiguous: the same sums whatever the layout of the history's chunks
        burst = np.ascontiguousarray(self._history.slice(lo, hi)[:, 2 + column : 3 + column])
        return burst_median_frequency(
            burst, self.fs, None if noise is None else noise[:, column : column + 1]
        )

    def _learn_rest(self, onset: int) -> None:
        """Fold the quiet stretch before a rep starting at ``onset`` into the rest spectrum.

        The stretch runs from the end of the last rep (or twitch, or offset) to the onset,
        ``rest_guard_s`` away from both and at most ``rest_span_s`` long; it lies within the
        history the tracker always keeps, so it does not depend on the blocking.
        """
        guard = round(self.config.rest_guard_s * self.fs)
        quiet = max([self._quiet_from, *(offsets[-1] for offsets in self._recent_offsets.values())])
        lo = max(quiet + guard, onset - self._s(self.config.rest_span_s))
        hi = onset - guard
        if hi - lo < self._segment:
            return
        rest = np.ascontiguousarray(self._history.slice(lo, hi)[:, 2:4])  # as in _burst_mdf
        if len(rest) != hi - lo:
            return
        _, power = welch_power(rest, self.fs, self._segment)
        step = self._segment - self._segment // 2
        self._rest.add(power, 1 + (hi - lo - self._segment) // step)

    def _rest_at(self, sample: int, column: int) -> float:
        estimate = self._estimate_at(sample)
        channel = self.channels[column]
        return float(estimate.mean[channel]) if estimate is not None else float("nan")

    def _check_before(self, rep: Rep) -> None:
        lo = rep.start - self._s(self.config.pre_window_s)
        if self._last_end is not None:
            lo = max(lo, self._last_end)
        if rep.start - lo < self._s(self.config.pre_window_s / 2) or "hamstring" in rep.carried:
            return
        before = self._history.slice(lo, rep.start)[:, 1]
        recorded = self._recorded("hamstring", lo, rep.start)
        if len(recorded) == len(before):  # only what the envelope shows of the muscle
            before = before[recorded]
        estimate = self._estimate_at(rep.start)
        if estimate is None or len(before) < self._s(self.config.pre_window_s / 2):
            return
        channel = self.channels[1]
        mean, sd = float(estimate.mean[channel]), float(estimate.std[channel])
        rep.hamstring_before, rep.hamstring_elevated_before = level_before(
            before,
            mean,
            sd,
            self.normalisation.reference("hamstring", mean),
            self.config.elevated_sd,
        )

    def _estimate_at(self, sample: int) -> BaselineEstimate | None:
        estimate = None
        for candidate in self._baselines:
            if estimate is None or candidate.valid_from <= sample:
                estimate = candidate
        return estimate

    def _trim(self) -> None:
        if not self._baselines:
            # the onsets of a stream's first bursts come only once its first noise floor is
            # known (seconds later): their reps are decided from the history kept until then
            return
        lookback = self._s(max(2.0, self.config.rest_span_s)) + self._delay + self._margin
        keep = self._position - lookback
        if self._rep is not None:
            keep = min(keep, self._rep.start - lookback)
        self._history.trim(keep)
        self._lost.trim(keep)
        while len(self._baselines) > 1 and self._baselines[1].valid_from <= keep:
            self._baselines.pop(0)
