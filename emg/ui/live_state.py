"""What the live window shows, as plain data: traces, onsets, rep tiles, the ratio trend, the
warning banner, the cramp risk and the sensors' status.

The state is fed with :class:`DisplayFrame` s (the chain's filtered signal and envelope of
one block) and with the session's :class:`~emg.events.Event` s, the same events the recorder
writes, so a live set and its replay look the same. It never looks at wall-clock time: every
time is stream time (seconds from the first sample), so it is tested without Qt or a clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from emg.analysis.recruitment import RISK_LEVELS
from emg.block import Channel
from emg.events import Event
from emg.ui.trace_buffer import TraceBuffer
from emg.wording import BANNER_TEXT, NO_SIGNAL_BANNER, band_note, rep_label


@dataclass(frozen=True)
class DisplayFrame:
    """One block as the window draws it.

    Attributes
    ----------
    start
        Stream index of the first sample.
    filtered, envelope
        Band-passed signal and its RMS envelope, ``(n, n_channels)``, microvolts.
    lost
        Samples lost in transit, ``(n, n_channels)``.
    thresholds
        Onset threshold per channel on the RMS envelope (µV), when a new baseline became
        valid in this block; else None.
    stuck
        Samples in which a channel was stuck at one value (:mod:`emg.dsp.stuck`), like
        ``lost``; None: none was.
    """

    start: int
    filtered: npt.NDArray[np.float32]
    envelope: npt.NDArray[np.float32]
    lost: npt.NDArray[np.bool_]
    thresholds: npt.NDArray[np.float64] | None = None
    stuck: npt.NDArray[np.bool_] | None = None


@dataclass
class RepTile:
    """One rep as its tile shows it."""

    index: int
    side: str | None
    order: str | None
    lead_ms: float | None
    ratio: float | None = None
    unit: str = ""
    decided_at_s: float | None = None
    complete: bool = False
    band: tuple[float, float] | None = None
    not_recorded: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """Who led and by how much, e.g. ``"glutes first by 92 ms"``, and, outside the
        athlete's own band, how far (``" — outside your usual +60 ± 25 ms"``)."""
        text = rep_label(self.order, self.lead_ms, self.side, self.not_recorded)
        if self.band is not None and self.lead_ms is not None and self.order is not None:
            text += band_note(self.lead_ms, *self.band)
        return text


@dataclass
class SensorState:
    """A sensor (or device) and its channels' recent losses."""

    name: str
    state: str = "streaming"
    battery_percent: float | None = None
    detail: str = ""


@dataclass
class LiveState:
    """Everything the window draws, updated from frames and events.

    Parameters
    ----------
    channels
        The stream's channels.
    sample_rate
        Samples per second.
    span_s
        Seconds of trace kept for the scrolling plots.
    max_tiles
        Rep tiles kept visible.
    loss_window_s
        Window of the packet-loss figure.
    """

    channels: tuple[Channel, ...]
    sample_rate: float
    span_s: float = 10.0
    max_tiles: int = 8
    loss_window_s: float = 10.0
    stop: int = 0
    tiles: deque[RepTile] = field(init=False)
    ratios: list[tuple[int, str | None, float]] = field(default_factory=list)
    onsets: deque[tuple[float, int]] = field(init=False)
    thresholds: npt.NDArray[np.float64] = field(init=False)
    raised: dict[tuple[str, str | None], tuple[int, ...]] = field(default_factory=dict)
    risks: dict[str | None, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    sensors: dict[str, SensorState] = field(default_factory=dict)
    marks: list[tuple[float, str]] = field(default_factory=list)
    #: labels of the channels stuck at one value at the newest sample
    stuck_now: tuple[str, ...] = ()
    exercise: str = ""
    recording: str = ""
    #: The athlete's own band of leads (centre, half-width in ms), if any.
    band: tuple[float, float] | None = None
    #: ... and of ratios (centre, half-width), if any.
    ratio_band: tuple[float, float] | None = None
    _alerts: int = 0

    def __post_init__(self) -> None:
        n = len(self.channels)
        span = max(1, round(self.span_s * self.sample_rate))
        self.filtered = TraceBuffer(span, n)
        self.envelope = TraceBuffer(span, n)
        window = max(1, round(self.loss_window_s * self.sample_rate))
        self._lost = TraceBuffer(window, n)
        self.tiles = deque(maxlen=self.max_tiles)
        self.onsets = deque(maxlen=1000)
        self.thresholds = np.full(n, np.nan)
        for device in dict.fromkeys(c.device or c.label for c in self.channels):
            self.sensors[device] = SensorState(device)

    def fresh(self) -> LiveState:
        """An empty state with the same channels, settings and labels (a replay that seeks
        starts its analysis again)."""
        state = LiveState(
            self.channels, self.sample_rate, self.span_s, self.max_tiles, self.loss_window_s
        )
        state.exercise, state.recording = self.exercise, self.recording
        state.band, state.ratio_band = self.band, self.ratio_band
        return state

    # ------------------------------------------------------------------ feeding

    @property
    def time_s(self) -> float:
        """Stream time of the newest sample."""
        return self.stop / self.sample_rate

    def add_frame(self, frame: DisplayFrame) -> None:
        """Take one block's traces."""
        self.filtered.append(frame.start, frame.filtered)
        self.envelope.append(frame.start, frame.envelope)
        self._lost.append(frame.start, frame.lost.astype(np.float32))
        if len(frame.filtered):  # as the newest sample of each channel is
            last = frame.stuck[-1] if frame.stuck is not None else None
            self.stuck_now = tuple(
                c.label for i, c in enumerate(self.channels) if last is not None and last[i]
            )
        self.stop = max(self.stop, frame.start + len(frame.filtered))
        if frame.thresholds is not None:
            self.thresholds = np.asarray(frame.thresholds, dtype=np.float64)
        while self.onsets and self.onsets[0][0] < self.time_s - self.span_s:
            self.onsets.popleft()

    def apply(self, events: list[Event]) -> None:
        """Take the session's events (in the order they were made known)."""
        for event in events:
            handler = _HANDLERS.get(event.kind)
            if handler is not None:
                handler(self, event)

    def take_alerts(self) -> int:
        """How many audible cues are due (flags raised) since the last call."""
        due, self._alerts = self._alerts, 0
        return due

    # ------------------------------------------------------------------ asking

    @property
    def banner(self) -> str:
        """The warning to show in large type, or "" when no flag is raised and every channel
        has a signal."""
        lines = [NO_SIGNAL_BANNER.format(channel=label) for label in self.stuck_now]
        for (kind, side), reps in self.raised.items():
            text = BANNER_TEXT.get(kind, kind)
            where = f" ({side})" if side else ""
            numbers = ", ".join(str(r) for r in reps)
            lines.append(f"{text}{where} — reps {numbers}" if numbers else f"{text}{where}")
        return "\n".join(lines)

    @property
    def risk_level(self) -> str:
        """The highest cramp-risk level of any side (``ok``, ``watch`` or ``warning``)."""
        levels = [level for level, _ in self.risks.values()]
        return max(levels, key=RISK_LEVELS.index, default="ok")

    @property
    def risk_reasons(self) -> tuple[str, ...]:
        """The reasons of the sides at :attr:`risk_level`, each with its side."""
        level = self.risk_level
        return tuple(
            f"{reason} ({side})" if side else reason
            for side, (at, reasons) in self.risks.items()
            if at == level
            for reason in reasons
        )

    def loss_percent(self) -> dict[str, float]:
        """Per channel label: percent of samples lost in the last ``loss_window_s``."""
        _, lost = self._lost.view()
        if not len(lost):
            return {c.label: 0.0 for c in self.channels}
        share = np.nanmean(lost, axis=0) * 100
        return {c.label: float(v) for c, v in zip(self.channels, share, strict=True)}

    def sensor_loss_percent(self) -> dict[str, float]:
        """Per sensor: the largest loss of its channels in the last ``loss_window_s``."""
        per_channel = self.loss_percent()
        out: dict[str, float] = {}
        for channel in self.channels:
            device = channel.device or channel.label
            out[device] = max(out.get(device, 0.0), per_channel[channel.label])
        return out

    def channel_index(self, label: str | None) -> int | None:
        """Index of the channel with this label."""
        for i, channel in enumerate(self.channels):
            if channel.label == label:
                return i
        return None


# ---------------------------------------------------------------------- event handlers


def _on_onset(state: LiveState, event: Event) -> None:
    index = state.channel_index(event.channel)
    if index is not None:
        state.onsets.append((event.time_s, index))


def _tile(state: LiveState, data: Any) -> RepTile:
    index, side = int(data["index"]), data.get("side")
    for tile in state.tiles:
        if tile.index == index and tile.side == side:
            return tile
    tile = RepTile(index, side, data.get("order"), data.get("lead_ms"), band=state.band)
    state.tiles.append(tile)
    return tile


def _on_rep_decided(state: LiveState, event: Event) -> None:
    tile = _tile(state, event.data)
    tile.order, tile.lead_ms = event.data.get("order"), event.data.get("lead_ms")
    tile.not_recorded = tuple(event.data.get("not_recorded", ()))
    tile.decided_at_s = event.data.get("decided_at_s")
    # a raised order flag goes on naming the reps that keep the pattern going
    key = (str(tile.order), tile.side)
    if key in state.raised and tile.index not in state.raised[key]:
        state.raised[key] = (*state.raised[key], tile.index)


def _on_rep(state: LiveState, event: Event) -> None:
    data = event.data
    tile = _tile(state, data)
    tile.order, tile.lead_ms = data.get("order"), data.get("lead_ms")
    tile.not_recorded = tuple(data.get("not_recorded", ()))
    tile.ratio, tile.unit, tile.complete = data.get("ratio"), str(data.get("unit", "")), True
    if tile.ratio is not None:
        state.ratios.append((tile.index, tile.side, float(tile.ratio)))


def _on_flag(state: LiveState, event: Event) -> None:
    key = (str(event.data.get("flag")), event.data.get("side"))
    if key not in state.raised:
        state._alerts += 1
    state.raised[key] = tuple(event.data.get("reps", ()))


def _on_flag_cleared(state: LiveState, event: Event) -> None:
    state.raised.pop((str(event.data.get("flag")), event.data.get("side")), None)


def _on_risk(state: LiveState, event: Event) -> None:
    level = str(event.data.get("level", "ok"))
    state.risks[event.data.get("side")] = (level, tuple(event.data.get("reasons", ())))


def _sensor(state: LiveState, event: Event) -> SensorState:
    """The sensor an event names: by device, or by the muscle its samples go under."""
    name = str(event.data.get("sensor", event.channel or "?"))
    if name not in state.sensors:
        for channel in state.channels:
            if channel.label == name or channel.label.startswith(f"{name}_"):
                name = channel.device or channel.label
                break
    return state.sensors.setdefault(name, SensorState(name))


def _on_disconnect(state: LiveState, event: Event) -> None:
    sensor = _sensor(state, event)
    sensor.state, sensor.detail = "reconnecting", event.description


def _on_reconnect(state: LiveState, event: Event) -> None:
    sensor = _sensor(state, event)
    sensor.state, sensor.detail = "streaming", ""


def _on_battery(state: LiveState, event: Event) -> None:
    _sensor(state, event).battery_percent = float(event.data.get("percent", 0))


def _on_mark(state: LiveState, event: Event) -> None:
    state.marks.append((event.time_s, event.description))


_HANDLERS = {
    "onset": _on_onset,
    "rep-decided": _on_rep_decided,
    "rep": _on_rep,
    "flag": _on_flag,
    "flag-cleared": _on_flag_cleared,
    "cramp-risk": _on_risk,
    "disconnect": _on_disconnect,
    "reconnect": _on_reconnect,
    "mark": _on_mark,
    "battery": _on_battery,
}
