"""Guided calibration before a set: a pure state machine driven by stream time.

The live window shows one step at a time, each with a prompt, a countdown and a progress bar:

``quality``
    The athlete sits still; at the end the rest signal-quality check
    (:mod:`emg.analysis.signal_quality`) runs. Problems are shown with their remedies and the
    step is repeated after a longer pause to fix them.
``rest``
    The baseline: the athlete relaxes completely (at least 2 s of explicit rest;
    5 s by default). A jump of the band-passed RMS within the rest (a twitch, tensing up) or
    movement below 20 Hz repeats the step.
``mvc-glute``, ``mvc-hamstring`` (optional)
    A maximal voluntary contraction of one muscle, the reference for %MVC. A push that does
    not rise clearly above the rest level repeats the step.

Every step starts with a get-ready countdown, and a step is repeated at most
``max_repeats`` times (automatically, or by :meth:`CalibrationGuide.restart_step`); after
that the last attempt is kept and a warning says so. Time is stream time: the guide is fed
the stream index reached (and, to run its checks, the raw samples) with
:meth:`CalibrationGuide.advance`; a step boundary inside a block splits it, so any block size
gives the same sample ranges and the same decisions.

The result gives exactly what the analysis takes: the rest period for
:attr:`emg.dsp.chain.ChainConfig.rest` (seconds from the start of the stream) and per muscle
group an MVC period for :func:`emg.analysis.calibration.mvc_from_recording`, whose MVC value
(the best 0.5 s mean of the RMS envelope) makes the :class:`Normalisation`.

No Qt, no I/O: the window and the session writer do the showing and the storing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from emg.analysis.calibration import mvc_from_recording
from emg.analysis.normalisation import MVC_WINDOW_S, Normalisation
from emg.analysis.signal_quality import (
    QualityConfig,
    QualityReport,
    check_signal_quality,
    motion_ratio_db,
    rest_filtered,
    rest_rms,
)
from emg.block import Channel
from emg.dsp.chain import ChainConfig
from emg.dsp.filters import bandpass_edges
from emg.events import Event
from emg.muscles import MUSCLE_GROUPS
from emg.recording import Recording
from emg.wording import PAUSE_TEXT, STEP_TEXT

FloatArray = npt.NDArray[np.float64]

QUALITY = "quality"
REST = "rest"
MVC_STEPS = {"glute": "mvc-glute", "hamstring": "mvc-hamstring"}


@dataclass(frozen=True)
class GuideConfig:
    """Durations and checks of the guided calibration; each default with its reason.

    Attributes
    ----------
    get_ready_s
        Countdown before every step: time to read the prompt and get into position.
    quality_s
        Still rest over which the signal-quality check runs: five 1 s Welch segments (nine
        with half overlap) for a steady spectrum, and a 0.5 s filter settling cut off.
    rest_s
        The baseline rest, at least 2 s: 5 s gives the mean and SD of the 50 ms RMS envelope
        from ~100 independent windows, and is short enough to stay still.
    mvc
        Include the MVC steps (for %MVC); without them the analysis normalises to rest.
    mvc_contractions, mvc_contraction_s, mvc_pause_s
        Pushes per muscle, their length and the rest between them. Default: one 5 s push.
        An isometric MVC is usually held 3-5 s, building up over the first 1-2 s rather than
        jerking (Konrad 2005, "The ABC of EMG"); 5 s leaves a plateau of ~3 s, several times
        the 0.5 s window whose best mean is the MVC value
        (:data:`emg.analysis.normalisation.MVC_WINDOW_S`). Lab protocols repeat the trial
        (often 3 times) with a minute or so of rest in between for reliability (Burden 2010,
        J Electromyogr Kinesiol 20:1023, reviews normalisation methods); before a working set
        that would add several minutes and pre-fatigue the very muscles being measured, so
        one push is the default and more can be asked for (the best 0.5 s of all pushes
        counts).
    fix_s
        Pause before repeating a failed quality check: time to press an electrode down or
        move away from a charger (a get-ready countdown is too short for that).
    max_repeats
        Times a step may be repeated (automatically or on request) before the last attempt
        is kept with a warning: two repeats catch a fidget without trapping the athlete.
    rest_window_s, rest_jump_ratio
        The rest is disturbed when the band-passed RMS of any 0.5 s window exceeds the median
        window RMS by this factor on any channel. A window of 0.5 s holds >= 100 samples even
        at 200 Hz, so the RMS of steady noise varies by < 10 % between windows; a 3x jump
        (+9.5 dB) is far outside that and is what a twitch or tensing up produces.
    mvc_min_ratio
        A push whose band-passed RMS is not at least this multiple of the rest RMS on some
        channel of the muscle is no maximal contraction (no push, or the sensor is not on that
        muscle): a real MVC is tens of times the rest noise; 5x (14 dB) is below even a
        moderate contraction at the toolkit's default SNR.
    quality
        Thresholds of the signal-quality check.
    """

    get_ready_s: float = 3.0
    quality_s: float = 5.0
    rest_s: float = 5.0
    mvc: bool = True
    mvc_contractions: int = 1
    mvc_contraction_s: float = 5.0
    mvc_pause_s: float = 30.0
    fix_s: float = 10.0
    max_repeats: int = 2
    rest_window_s: float = 0.5
    rest_jump_ratio: float = 3.0
    mvc_min_ratio: float = 5.0
    quality: QualityConfig = field(default_factory=QualityConfig)

    def __post_init__(self) -> None:
        if self.rest_s < 2.0:
            raise ValueError(
                f"the rest must last at least 2 s (for a baseline), got {self.rest_s:g}"
            )
        if self.quality_s < self.quality.min_duration_s + self.quality.settle_s:
            raise ValueError(
                "the quality step must be longer than the check's minimum plus its settling "
                f"({self.quality.min_duration_s + self.quality.settle_s:g} s)"
            )
        if self.rest_s < self.quality.settle_s + 3 * self.rest_window_s:
            raise ValueError("the rest must hold at least 3 RMS windows after settling")
        if self.mvc_contractions < 1:
            raise ValueError("mvc_contractions must be at least 1")
        if self.mvc_contraction_s < 2 * MVC_WINDOW_S:
            raise ValueError(f"an MVC push must last at least {2 * MVC_WINDOW_S:g} s")
        if self.max_repeats < 0 or min(self.get_ready_s, self.fix_s, self.mvc_pause_s) < 0:
            raise ValueError("repeats and pauses must not be negative")


@dataclass(frozen=True)
class Phase:
    """One stretch of a step.

    Attributes
    ----------
    kind
        ``get-ready``, ``fix`` (get ready after a failed quality check), ``record`` (the
        quality or rest segment), ``push`` (an MVC contraction) or ``pause`` (between pushes).
    samples
        Length in samples.
    prompt
        What the athlete reads.
    """

    kind: str
    samples: int
    prompt: str

    @property
    def recorded(self) -> bool:
        """True for the phases whose samples the step keeps (record, push)."""
        return self.kind in ("record", "push")


@dataclass(frozen=True)
class GuideStatus:
    """What the live window shows now.

    Attributes
    ----------
    step
        Current step, None once done.
    phase
        Current phase kind, ``done`` once done.
    prompt
        The instruction to show.
    seconds_left
        Countdown of the current phase.
    progress
        Fraction (0-1) of the current attempt of the step that has passed.
    step_number, step_count
        "Step 2 of 4".
    attempt
        1 for the first try of the step, 2 for its first repeat, ...
    notice
        Why the step is being repeated, or a warning, if any.
    done
        True when the calibration has finished.
    """

    step: str | None
    phase: str
    prompt: str
    seconds_left: float
    progress: float
    step_number: int
    step_count: int
    attempt: int
    notice: str | None
    done: bool


@dataclass(frozen=True)
class GuideEvent:
    """Something the guide decided, at a stream index.

    Attributes
    ----------
    kind
        ``phase`` (a phase began; message = its prompt), ``quality`` (the check ran),
        ``retry`` (the step starts over; message = why), ``warning`` (kept despite a problem),
        ``step-done``, ``skipped`` (MVC steps left out) or ``done``.
    step
        The step it concerns (None for ``done``).
    index
        Stream index at which it happened.
    message
        Plain text for the athlete.
    data
        JSON-ready detail (sample ranges, the quality report ...).
    """

    kind: str
    step: str | None
    index: int
    message: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": self.kind,
            "step": self.step,
            "index": self.index,
            "message": self.message,
            "data": dict(self.data),
        }

    def session_event(self, sample_rate: float) -> Event:
        """The session event (kind ``calibration``) for the recording.

        Parameters
        ----------
        sample_rate
            Of the stream, to turn the index into seconds.

        Returns
        -------
        Event
            At the start of the step's samples with their duration for ``step-done``,
            otherwise at :attr:`index`.
        """
        start, stop = self.index, self.index
        ranges = self.data.get("ranges")
        if self.kind == "step-done" and ranges:
            start, stop = ranges[0][0], ranges[-1][1]
        description = f"{self.step or 'calibration'} {self.kind}"
        return Event(
            start / sample_rate,
            "calibration",
            description,
            duration_s=(stop - start) / sample_rate,
            data=self.to_dict(),
        )


@dataclass(frozen=True)
class CalibrationResult:
    """What the calibration found, in the form the analysis takes.

    Indices are stream sample indices (those given to :meth:`CalibrationGuide.advance`);
    seconds count from stream index 0, as the signal chain does.

    Attributes
    ----------
    sample_rate
        Of the stream.
    rest
        The rest period ``(start, stop)``, samples.
    mvc
        Per muscle group the MVC period ``(start, stop)``, samples: from the first push's
        start to the last push's end (the best 0.5 s within it is the MVC value).
    contractions
        Per muscle group each push ``(start, stop)``.
    quality
        The signal-quality report of the accepted (or last) quality step; None when the guide
        was driven without samples.
    rest_rms_uv
        Band-passed RMS of the accepted rest, per channel label (empty without samples).
    attempts
        Attempts per step (1 = right first time).
    warnings
        Problems the calibration went on with.
    """

    sample_rate: float
    rest: tuple[int, int]
    mvc: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    contractions: Mapping[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    quality: QualityReport | None = None
    rest_rms_uv: Mapping[str, float] = field(default_factory=dict)
    attempts: Mapping[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def rest_s(self) -> tuple[float, float]:
        """The rest period in seconds, for :attr:`ChainConfig.rest`."""
        return self.rest[0] / self.sample_rate, self.rest[1] / self.sample_rate

    @property
    def mvc_s(self) -> dict[str, tuple[float, float]]:
        """MVC periods in seconds, for :func:`mvc_from_recording`'s ``period``."""
        fs = self.sample_rate
        return {group: (start / fs, stop / fs) for group, (start, stop) in self.mvc.items()}

    def chain_config(self, base: ChainConfig) -> ChainConfig:
        """``base`` with this rest period as the baseline.

        Parameters
        ----------
        base
            The analysis's chain settings.

        Returns
        -------
        ChainConfig
            A copy whose ``rest`` is :attr:`rest_s`.
        """
        return dataclasses.replace(base, rest=self.rest_s)

    def normalisation(self, recording: Recording, config: ChainConfig) -> Normalisation:
        """MVC references measured in the recording of the stream the guide ran on.

        Parameters
        ----------
        recording
            The session, from stream index 0.
        config
            Chain settings of the analysis (the MVC must see the same filter and envelope).

        Returns
        -------
        Normalisation
            %MVC per group with an MVC step; empty (multiples of rest) without.
        """
        return Normalisation(
            {
                group: mvc_from_recording(recording, group, config, period)
                for group, period in self.mvc_s.items()
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for the session metadata (``rest_s`` as the session stores it)."""
        return {
            "sample_rate": self.sample_rate,
            "rest": list(self.rest),
            "rest_s": list(self.rest_s),
            "mvc": {group: list(period) for group, period in self.mvc.items()},
            "mvc_s": {group: list(period) for group, period in self.mvc_s.items()},
            "contractions": {
                group: [list(push) for push in pushes]
                for group, pushes in self.contractions.items()
            },
            "quality": None if self.quality is None else self.quality.to_dict(),
            "rest_rms_uv": dict(self.rest_rms_uv),
            "attempts": dict(self.attempts),
            "warnings": list(self.warnings),
        }


@dataclass
class _Attempt:
    """The attempt of a step in progress."""

    step: str
    phases: list[Phase]
    start: int
    phase_index: int = 0
    phase_start: int = 0
    ranges: list[tuple[int, int]] = field(default_factory=list)
    data: list[FloatArray] = field(default_factory=list)  # per recorded phase
    chunks: list[FloatArray] = field(default_factory=list)  # of the recorded phase under way
    complete: bool = True  # every recorded sample came with its values

    @property
    def phase(self) -> Phase:
        return self.phases[self.phase_index]

    @property
    def phase_end(self) -> int:
        return self.phase_start + self.phase.samples

    @property
    def total(self) -> int:
        return sum(p.samples for p in self.phases)


class CalibrationGuide:
    """The guided calibration: quality check, rest baseline and optional MVCs.

    Parameters
    ----------
    channels
        The stream's channels (labels for the report, muscles for the MVC steps).
    sample_rate
        Samples per second.
    config
        Durations and checks; the documented defaults when None.
    start_index
        Stream index at which the guide starts (the first get-ready countdown begins).
    adc_range
        The sensor's ``(min, max)`` in microvolts, for the clipping check (all channels, or
        per label).

    Notes
    -----
    The first get-ready phase begins at construction: it is in :attr:`history` and
    :attr:`status` from the start; :meth:`advance` returns only what happens after.
    """

    def __init__(
        self,
        channels: Sequence[Channel],
        sample_rate: float,
        config: GuideConfig | None = None,
        start_index: int = 0,
        adc_range: tuple[float, float] | Mapping[str, tuple[float, float]] | None = None,
    ) -> None:
        self.channels = tuple(channels)
        self.fs = sample_rate
        self.config = config or GuideConfig()
        self.start_index = start_index
        self.adc_range = adc_range
        self._groups = {
            group: [i for i, c in enumerate(self.channels) if MUSCLE_GROUPS.get(c.muscle) == group]
            for group in MVC_STEPS
        }
        self._plan = [QUALITY, REST]
        if self.config.mvc:
            self._plan += [MVC_STEPS[g] for g in MVC_STEPS if self._groups[g]]
        self._position = start_index
        self._step_number = 0
        self._attempts = dict.fromkeys(self._plan, 1)
        self._accepted: dict[str, list[tuple[int, int]]] = {}
        self._quality: QualityReport | None = None
        self._rest_rms: FloatArray | None = None
        self._warnings: list[str] = []
        self._notice: str | None = None
        self._history: list[GuideEvent] = []
        self._result: CalibrationResult | None = None
        self._attempt: _Attempt | None = None
        self._history += self._begin_step(QUALITY, first="get-ready")

    # ---------------------------------------------------------------- state for the window

    @property
    def position(self) -> int:
        """Stream index of the next sample the guide expects."""
        return self._position

    @property
    def done(self) -> bool:
        """True once every step is finished."""
        return self._result is not None

    @property
    def plan(self) -> tuple[str, ...]:
        """The steps, in order (MVC steps only for muscles with a channel, unless skipped)."""
        return tuple(self._plan)

    @property
    def history(self) -> tuple[GuideEvent, ...]:
        """Every event so far, in order."""
        return tuple(self._history)

    @property
    def result(self) -> CalibrationResult | None:
        """The result once done, else None."""
        return self._result

    @property
    def can_restart(self) -> bool:
        """True when the current step may still be repeated."""
        attempt = self._attempt
        return attempt is not None and self._attempts[attempt.step] <= self.config.max_repeats

    @property
    def status(self) -> GuideStatus:
        """Prompt, countdown and progress of the current step."""
        attempt = self._attempt
        if attempt is None:
            return GuideStatus(
                step=None,
                phase="done",
                prompt="Calibration done.",
                seconds_left=0.0,
                progress=1.0,
                step_number=len(self._plan),
                step_count=len(self._plan),
                attempt=0,
                notice=self._notice,
                done=True,
            )
        return GuideStatus(
            step=attempt.step,
            phase=attempt.phase.kind,
            prompt=attempt.phase.prompt,
            seconds_left=(attempt.phase_end - self._position) / self.fs,
            progress=(self._position - attempt.start) / attempt.total,
            step_number=self._step_number,
            step_count=len(self._plan),
            attempt=self._attempts[attempt.step],
            notice=self._notice,
            done=False,
        )

    # ---------------------------------------------------------------- driving

    def advance(self, stream_index: int, samples: npt.ArrayLike | None = None) -> list[GuideEvent]:
        """Move stream time on to ``stream_index``.

        Parameters
        ----------
        stream_index
            Index one past the last sample seen (a block's ``stop``).
        samples
            The raw samples from :attr:`position` up to ``stream_index``, microvolts,
            ``(n, n_channels)``; without them the steps run on time alone and their checks
            are skipped (with a warning).

        Returns
        -------
        list of GuideEvent
            What happened, in order.

        Raises
        ------
        ValueError
            If time goes backwards or the samples do not fit.
        """
        data = self._samples_for(stream_index, samples)
        events: list[GuideEvent] = []
        offset = 0
        while self._position < stream_index and self._attempt is not None:
            attempt = self._attempt
            take = min(stream_index, attempt.phase_end) - self._position
            if attempt.phase.recorded:
                self._keep(attempt, None if data is None else data[offset : offset + take])
            offset += take
            self._position += take
            if self._position == attempt.phase_end:
                events += self._end_phase(attempt)
        self._position = stream_index
        self._history += events
        return events

    def restart_step(self, reason: str = "Starting this step again.") -> list[GuideEvent]:
        """Repeat the current step from a new get-ready countdown (e.g. the athlete moved).

        Parameters
        ----------
        reason
            Shown to the athlete and stored.

        Returns
        -------
        list of GuideEvent
            The retry and the new phase; empty when done or the step was repeated
            ``max_repeats`` times already (see :attr:`can_restart`).
        """
        if not self.can_restart or self._attempt is None:
            return []
        events = self._retry(self._attempt.step, reason, first="get-ready")
        self._history += events
        return events

    def skip_mvc(self) -> list[GuideEvent]:
        """Leave out the MVC steps (the analysis then normalises to rest).

        An MVC step in progress is dropped; if the rest is done, the calibration ends here.

        Returns
        -------
        list of GuideEvent
            ``skipped`` and, when that ends the calibration, ``done``.
        """
        skipped = [step for step in self._plan if step in MVC_STEPS.values()]
        if not skipped or self.done:
            return []
        self._plan = [step for step in self._plan if step not in skipped]
        events = [
            GuideEvent("skipped", None, self._position, "MVC steps skipped.", {"steps": skipped})
        ]
        if self._attempt is not None and self._attempt.step in skipped:
            events += self._finish()
        self._history += events
        return events

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record of the calibration (settings, events, result) for the session."""
        return {
            "sample_rate": self.fs,
            "start_index": self.start_index,
            "channels": [c.label for c in self.channels],
            "config": dataclasses.asdict(self.config),
            "plan": list(self._plan),
            "done": self.done,
            "position": self._position,
            "events": [e.to_dict() for e in self._history],
            "result": None if self._result is None else self._result.to_dict(),
        }

    # ---------------------------------------------------------------- steps and phases

    def _samples_for(self, stream_index: int, samples: npt.ArrayLike | None) -> FloatArray | None:
        n_new = stream_index - self._position
        if n_new < 0:
            raise ValueError(
                f"stream index {stream_index} is before the guide's position {self._position}"
            )
        if samples is None:
            return None
        data = np.asarray(samples, dtype=np.float64)
        if data.shape != (n_new, len(self.channels)):
            raise ValueError(
                f"samples shaped {data.shape} do not cover stream indices {self._position}-"
                f"{stream_index} of {len(self.channels)} channels"
            )
        return data

    @staticmethod
    def _keep(attempt: _Attempt, chunk: FloatArray | None) -> None:
        if chunk is None:
            attempt.complete = False
        elif attempt.complete:
            attempt.chunks.append(chunk.copy())  # the caller may reuse its buffer

    def _samples(self, seconds: float) -> int:
        return max(1, round(seconds * self.fs))

    def _phases(self, step: str, first: str) -> list[Phase]:
        """The phases of one attempt of ``step``, starting with ``first`` (get-ready/fix)."""
        config = self.config
        ready, instruction = STEP_TEXT[step]
        if first == "fix":
            head = Phase("fix", self._samples(config.fix_s), f"{self._notice} {ready}")
        else:
            head = Phase("get-ready", self._samples(config.get_ready_s), ready)
        if step == QUALITY:
            return [head, Phase("record", self._samples(config.quality_s), instruction)]
        if step == REST:
            return [head, Phase("record", self._samples(config.rest_s), instruction)]
        pushes = config.mvc_contractions
        phases = [head]
        for k in range(pushes):
            label = f"Push {k + 1} of {pushes}: " if pushes > 1 else ""
            if k:
                phases.append(Phase("pause", self._samples(config.mvc_pause_s), PAUSE_TEXT))
            phases.append(
                Phase("push", self._samples(config.mvc_contraction_s), label + instruction)
            )
        return phases

    def _begin_step(self, step: str, first: str) -> list[GuideEvent]:
        attempt = _Attempt(step, self._phases(step, first), self._position)
        attempt.phase_start = self._position
        self._attempt = attempt
        self._step_number = self._plan.index(step) + 1
        return [self._phase_event(attempt)]

    def _phase_event(self, attempt: _Attempt) -> GuideEvent:
        phase = attempt.phase
        return GuideEvent(
            "phase",
            attempt.step,
            self._position,
            phase.prompt,
            {
                "phase": phase.kind,
                "seconds": phase.samples / self.fs,
                "attempt": self._attempts[attempt.step],
            },
        )

    def _end_phase(self, attempt: _Attempt) -> list[GuideEvent]:
        if attempt.phase.recorded:
            attempt.ranges.append((attempt.phase_start, attempt.phase_end))
            if attempt.complete:
                attempt.data.append(np.concatenate(attempt.chunks))
            attempt.chunks = []
        if attempt.phase_index + 1 < len(attempt.phases):
            attempt.phase_index += 1
            attempt.phase_start = self._position
            return [self._phase_event(attempt)]
        return self._end_step(attempt)

    def _end_step(self, attempt: _Attempt) -> list[GuideEvent]:
        """Run the step's check; accept it, or repeat it while repeats are left."""
        events, problem = self._check(attempt)
        if problem is not None:
            if self._attempts[attempt.step] <= self.config.max_repeats:
                first = "fix" if attempt.step == QUALITY else "get-ready"
                return events + self._retry(attempt.step, problem, first)
            warning = f"{attempt.step}: kept after {self._attempts[attempt.step]} tries: {problem}"
            self._warnings.append(warning)
            events.append(GuideEvent("warning", attempt.step, self._position, warning))
        return events + self._accept(attempt)

    def _retry(self, step: str, reason: str, first: str) -> list[GuideEvent]:
        self._attempts[step] += 1
        self._notice = reason
        retry = GuideEvent("retry", step, self._position, reason, {"attempt": self._attempts[step]})
        return [retry, *self._begin_step(step, first)]

    def _accept(self, attempt: _Attempt) -> list[GuideEvent]:
        self._accepted[attempt.step] = list(attempt.ranges)
        self._notice = None
        done = GuideEvent(
            "step-done",
            attempt.step,
            self._position,
            f"{attempt.step} done.",
            {"ranges": [list(r) for r in attempt.ranges], "attempts": self._attempts[attempt.step]},
        )
        following = self._plan.index(attempt.step) + 1
        if following < len(self._plan):
            return [done, *self._begin_step(self._plan[following], first="get-ready")]
        return [done, *self._finish()]

    def _finish(self) -> list[GuideEvent]:
        self._attempt = None
        self._result = self._make_result()
        return [
            GuideEvent("done", None, self._position, "Calibration done.", self._result.to_dict())
        ]

    def _make_result(self) -> CalibrationResult:
        rest = self._accepted[REST][0]
        pushes = {
            group: tuple(self._accepted[step])
            for group, step in MVC_STEPS.items()
            if step in self._accepted and step in self._plan
        }
        labels = [c.label for c in self.channels]
        rest_rms = (
            {}
            if self._rest_rms is None
            else dict(zip(labels, self._rest_rms.tolist(), strict=True))
        )
        return CalibrationResult(
            sample_rate=self.fs,
            rest=rest,
            mvc={group: (p[0][0], p[-1][1]) for group, p in pushes.items()},
            contractions=pushes,
            quality=self._quality,
            rest_rms_uv=rest_rms,
            attempts={step: self._attempts[step] for step in self._plan},
            warnings=tuple(self._warnings),
        )

    # ---------------------------------------------------------------- checks

    def _check(self, attempt: _Attempt) -> tuple[list[GuideEvent], str | None]:
        """Events of the step's check and the problem that repeats it (None: fine)."""
        if not attempt.complete:
            warning = f"{attempt.step}: not checked (the guide was given no samples)"
            self._warnings.append(warning)
            return [GuideEvent("warning", attempt.step, self._position, warning)], None
        if attempt.step == QUALITY:
            return self._check_quality(attempt.data[0])
        if attempt.step == REST:
            return [], self._check_rest(attempt.data[0])
        group = next(g for g, step in MVC_STEPS.items() if step == attempt.step)
        return [], self._check_mvc(group, attempt.data)

    def _check_quality(self, x: FloatArray) -> tuple[list[GuideEvent], str | None]:
        labels = [c.label for c in self.channels]
        report = check_signal_quality(x, self.fs, labels, self.config.quality, self.adc_range)
        self._quality = report
        event = GuideEvent("quality", QUALITY, self._position, report.verdict(), report.to_dict())
        if report.ok:
            return [event], None
        remedies = " ".join(report.remedies())
        return [event], f"{report.verdict()} What to do: {remedies}"

    def _check_rest(self, x: FloatArray) -> str | None:
        """Why the rest is unusable (a jump of the RMS, movement), or None."""
        config, quality = self.config, self.config.quality
        mains = self._quality.mains_hz if self._quality is not None else quality.mains_hz
        rms = rest_rms(x, self.fs, quality, mains)
        self._rest_rms = rms
        jumps = rms_jumps(
            rest_filtered(x, self.fs, quality, mains), self._samples(config.rest_window_s)
        )
        worst = int(np.argmax(jumps))
        if jumps[worst] >= config.rest_jump_ratio:
            return (
                f"You moved or tensed up during the rest (the {self.channels[worst].label} "
                f"signal jumped {jumps[worst]:.1f}x). Relax completely and keep still."
            )
        band = bandpass_edges(self.fs, quality.highpass_hz, quality.lowpass_hz)
        motion = motion_ratio_db(x, self.fs, mains, band, quality)
        worst = int(np.argmax(motion))
        if motion[worst] > quality.motion_max_db:
            return (
                f"The {self.channels[worst].label} sensor or its cable moved during the rest. "
                "Keep still, and tape or clip the cable."
            )
        return None

    def _check_mvc(self, group: str, pushes: list[FloatArray]) -> str | None:
        """Why the pushes are no MVC (no clear rise above rest), or None."""
        if self._rest_rms is None:
            return None
        quality = self.config.quality
        mains = self._quality.mains_hz if self._quality is not None else quality.mains_hz
        channels = self._groups[group]
        push_rms = np.max([rest_rms(p, self.fs, quality, mains) for p in pushes], axis=0)
        ratios = push_rms[channels] / np.maximum(self._rest_rms[channels], 1e-12)
        if float(ratios.max()) >= self.config.mvc_min_ratio:
            return None
        return (
            f"No strong contraction on the {group} sensor (only {float(ratios.max()):.1f}x the "
            f"rest level). Push as hard as you can, and check that the sensor sits on the "
            f"{group}."
        )


def rms_jumps(filtered: FloatArray, window: int) -> FloatArray:
    """Largest window RMS over the median window RMS, per channel.

    Parameters
    ----------
    filtered
        Band-passed rest samples ``(n_samples, n_channels)``.
    window
        Window length in samples; the samples after the last whole window are left out.

    Returns
    -------
    ndarray
        Ratio per channel (1 for steady noise; large when the level jumped).
    """
    n_windows = len(filtered) // window
    if n_windows < 2:
        return np.ones(filtered.shape[1])
    windows = filtered[: n_windows * window].reshape(n_windows, window, -1)
    rms = np.sqrt(np.mean(windows * windows, axis=1))
    median = np.maximum(np.median(rms, axis=0), np.finfo(np.float64).tiny)
    jumps: FloatArray = rms.max(axis=0) / median
    return jumps
