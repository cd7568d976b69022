"""The live window: per muscle a scrolling trace with its envelope, threshold and onsets; rep
tiles; the ratio trend; the warning banner with its audible cue; cramp risk; sensor status.

Drawn with pyqtgraph on Qt. The window reads the acquisition's bounded queues on a timer at a
fixed frame rate (:data:`FRAME_MS`) and never waits for acquisition; the traces are
downsampled for display by pyqtgraph (peak mode, clipped to the view), so a long view of
2 kHz signals costs what the screen can show.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from emg.analysis.exercises import EXERCISES
from emg.events import Event
from emg.sources.replay_control import ReplayControl
from emg.ui.acquisition import Acquisition
from emg.ui.alert_sound import AlertSound
from emg.ui.live_state import LiveState, RepTile
from emg.wording import RISK_NOTE

#: Milliseconds between frames.
FRAME_MS = 40
#: Share of the window's height the traces always keep (banner, tiles and trend share the rest).
MIN_TRACE_SHARE = 0.5
#: Largest share of the height the tiles and the ratio trend take, and their least height (px).
BOTTOM_SHARE = 0.34
BOTTOM_MIN_PX = 180
#: Fixed scale of the ratio trend (glute : hamstring).
RATIO_RANGE = (0.0, 2.5)
#: Smallest half-height of a trace plot, µV (a quiet channel still shows its noise).
MIN_Y_UV = 10.0
#: Share of a trace plot's height below zero (the band-passed trace's negative half).
BELOW_ZERO = 0.4
#: How far the y range may shrink per frame when the signal gets smaller (it grows at once).
Y_SHRINK_PER_FRAME = 0.99
#: Okabe-Ito colours (colour-blind safe): glute blue, hamstring orange, other muscles after.
MUSCLE_COLOURS = {"glute": "#0072B2", "hamstring": "#E69F00"}
OTHER_COLOURS = ("#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
ORDER_COLOURS = {
    "glute-first": "#0072B2",
    "hamstring-first": "#D55E00",
    "simultaneous": "#777777",
}
RISK_COLOURS = {"ok": "#009E73", "watch": "#E69F00", "warning": "#D55E00"}
#: Speeds offered for a replay (None: as fast as possible).
REPLAY_SPEEDS: tuple[float | None, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, None)
#: Seconds a replay jumps with the arrow keys.
SEEK_STEP_S = 5.0
REPLAY_SHORTCUTS = (
    ("Space", "pause / play (replay)"),
    ("← / →", f"back / forward {SEEK_STEP_S:g} s (replay)"),
    ("+ / −", "faster / slower (replay)"),
)
#: Where the sensors go (SENIAM recommendations; electrodes about 20 mm apart, along the
#: muscle fibres), shown in the help.
PLACEMENT = (
    ("glute", "gluteus maximus: halfway along the line from the sacrum to the greater "
     "trochanter (the bony point at the side of the hip)"),
    ("hamstring", "semitendinosus: halfway along the line from the sitting bone (ischial "
     "tuberosity) to the inner side of the knee; or biceps femoris: halfway to the outer "
     "side of the knee"),
)  # fmt: skip
SHORTCUTS = (
    ("M", "mark the start of a set"),
    ("R", "start / stop recording (a new session from now)"),
    ("E", "next exercise (hip thrust, prone hip extension, squat)"),
    ("C", "guided calibration: signal check, rest, glute and hamstring MVC"),
    ("N / X", "during calibration: no MVC / cancel"),
    ("S", "sound on / off"),
    ("H or F1", "show / hide this help"),
    ("Q or Esc", "stop and close (the recording is finalised)"),
)


def muscle_colour(muscle: str, index: int) -> str:
    """Fixed colour of a muscle's traces and markers."""
    return MUSCLE_COLOURS.get(muscle, OTHER_COLOURS[index % len(OTHER_COLOURS)])


class RepTileWidget(QtWidgets.QFrame):
    """One rep: number, who led by how much, and the glute : hamstring ratio."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QtWidgets.QFrame.Shape.Box)
        self.setLineWidth(3)
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred
        )
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        self.number = QtWidgets.QLabel()
        self.order = QtWidgets.QLabel()
        self.ratio = QtWidgets.QLabel()
        self.number.setStyleSheet("font-weight: bold; font-size: 15px;")
        self.order.setStyleSheet("font-size: 12px;")
        self.order.setWordWrap(True)  # never cut ("hamstrings first by 122 ms")
        self.ratio.setStyleSheet("font-size: 13px;")
        for label in (self.number, self.order, self.ratio):
            layout.addWidget(label)

    def show_tile(self, tile: RepTile) -> None:
        """Show one rep."""
        side = f" {tile.side}" if tile.side else ""
        self.number.setText(f"Rep {tile.index}{side}")
        self.order.setText(tile.label)
        # the ratio only once the rep is over
        self.ratio.setText(f"G:H {tile.ratio:.2f}" if tile.complete and tile.ratio else "")
        colour = ORDER_COLOURS.get(tile.order or "", "#BBBBBB")
        self.setStyleSheet(f"RepTileWidget {{ border: 3px solid {colour}; }}")
        self.setVisible(True)


class LiveWindow(QtWidgets.QMainWindow):
    """The window of ``emg live`` and ``emg replay``.

    Parameters
    ----------
    state
        What to draw.
    acquisition
        Where frames and events come from (None: the state is fed by the caller).
    sound
        The audible cue.
    title
        Window title.
    on_finished
        Called once when the acquisition has ended and its last frames are drawn.
    control
        For a replay: its pause, speed and seek (adds the replay bar and keys).
    """

    def __init__(
        self,
        state: LiveState,
        acquisition: Acquisition | None,
        sound: AlertSound,
        title: str = "emg live",
        on_finished: Callable[[LiveWindow], None] | None = None,
        control: ReplayControl | None = None,
    ) -> None:
        super().__init__()
        self.control = control
        self.state, self.acquisition, self.sound = state, acquisition, sound
        self.on_finished = on_finished
        self.finished = False
        self.epoch: tuple[int, int] = (0, 0)
        self.setWindowTitle(title)
        self.resize(1280, 860)
        pg.setConfigOptions(antialias=False, background="w", foreground="k")
        central = QtWidgets.QWidget()
        self.setCentralWidget(central)
        layout = QtWidgets.QVBoxLayout(central)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self._make_banner())
        layout.addWidget(self._make_calibration_panel())
        layout.addLayout(self._make_risk_row())
        self.graphs = pg.GraphicsLayoutWidget()
        layout.addWidget(self.graphs, stretch=5)
        self._make_traces()
        self.bottom = QtWidgets.QWidget()
        bottom = QtWidgets.QHBoxLayout(self.bottom)
        bottom.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bottom, stretch=2)
        bottom.addLayout(self._make_tiles(), stretch=3)
        self.trend = pg.PlotWidget(title="glute : hamstring ratio per rep")
        self.trend.setMinimumHeight(120)  # the traces' share comes first
        self._make_trend()
        bottom.addWidget(self.trend, stretch=2)
        if control is not None:
            layout.addLayout(self._make_replay_bar(control))
        self.status = QtWidgets.QLabel()
        self.statusBar().addWidget(self.status, 1)
        self.help = self._make_help(central)
        self._install_shortcuts()
        self.y_ranges = [0.0] * len(self.state.channels)
        self._keep_trace_height()
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(FRAME_MS)

    # ------------------------------------------------------------------ building

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # Qt names it
        """Keep the traces' share of the height at any window size."""
        super().resizeEvent(event)
        self._keep_trace_height()

    def _keep_trace_height(self) -> None:
        # the tiles and the trend give way first: at most what the traces leave
        self.graphs.setMinimumHeight(round(self.height() * MIN_TRACE_SHARE))
        self.bottom.setMaximumHeight(max(BOTTOM_MIN_PX, round(self.height() * BOTTOM_SHARE)))

    def _make_banner(self) -> QtWidgets.QLabel:
        self.banner = QtWidgets.QLabel()
        self.banner.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(
            "background: #D55E00; color: white; font-size: 24px; font-weight: bold; "
            "padding: 8px; border-radius: 6px;"
        )
        self.banner.setVisible(False)
        return self.banner

    def _make_calibration_panel(self) -> QtWidgets.QFrame:
        panel = QtWidgets.QFrame()
        panel.setStyleSheet(
            "QFrame { background: #E8F1F8; border: 2px solid #0072B2; border-radius: 6px; }"
            "QLabel { border: none; }"
        )
        column = QtWidgets.QVBoxLayout(panel)
        self.calibration_step = QtWidgets.QLabel()
        self.calibration_step.setStyleSheet("font-size: 15px; font-weight: bold;")
        self.calibration_prompt = QtWidgets.QLabel()
        self.calibration_prompt.setWordWrap(True)
        self.calibration_prompt.setStyleSheet("font-size: 24px; font-weight: bold;")
        self.calibration_countdown = QtWidgets.QLabel()
        self.calibration_countdown.setStyleSheet("font-size: 28px; font-weight: bold;")
        self.calibration_progress = QtWidgets.QProgressBar()
        self.calibration_progress.setRange(0, 1000)
        self.calibration_progress.setTextVisible(False)
        self.calibration_notice = QtWidgets.QLabel()
        self.calibration_notice.setWordWrap(True)
        self.calibration_notice.setStyleSheet("font-size: 14px; color: #D55E00;")
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.calibration_prompt, stretch=1)
        row.addWidget(self.calibration_countdown)
        column.addWidget(self.calibration_step)
        column.addLayout(row)
        column.addWidget(self.calibration_progress)
        column.addWidget(self.calibration_notice)
        panel.setVisible(False)
        self.calibration_panel = panel
        return panel

    def _make_risk_row(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        self.risk = QtWidgets.QLabel()
        self.risk.setStyleSheet("font-size: 18px; font-weight: bold;")
        self.reasons = QtWidgets.QLabel()
        self.reasons.setWordWrap(True)
        self.reasons.setStyleSheet("font-size: 14px;")
        row.addWidget(self.risk)
        row.addWidget(self.reasons, stretch=1)
        return row

    def _make_traces(self) -> None:
        self.plots: list[Any] = []
        self.filtered_items: list[Any] = []
        self.envelope_items: list[Any] = []
        self.threshold_items: list[Any] = []
        self.onset_items: list[Any] = []
        for i, channel in enumerate(self.state.channels):
            colour = muscle_colour(channel.muscle, i)
            plot = self.graphs.addPlot(row=i, col=0)
            plot.setTitle(f"<b style='color:{colour}'>{channel.label}</b> (µV)")
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setMouseEnabled(x=False, y=False)
            plot.enableAutoRange(axis="y", enable=False)
            plot.getAxis("left").setWidth(48)
            if i == len(self.state.channels) - 1:  # one time axis for the linked plots
                plot.setLabel("bottom", "time", units="s")
            else:
                plot.getAxis("bottom").setStyle(showValues=False)
                plot.getAxis("bottom").setHeight(6)
            faint = pg.mkColor(colour)
            faint.setAlpha(90)
            filtered = plot.plot(pen=pg.mkPen(faint, width=1))
            envelope = plot.plot(pen=pg.mkPen(colour, width=2.5), name="RMS envelope")
            for item in (filtered, envelope):
                item.setDownsampling(auto=True, method="peak")
                item.setClipToView(True)
            threshold = pg.InfiniteLine(
                angle=0,
                pen=pg.mkPen("#000000", width=2, style=QtCore.Qt.PenStyle.DashLine),
                label="onset threshold {value:.0f} µV",
                labelOpts={"position": 0.02, "anchors": [(0, 1), (0, 1)], "color": "#000000"},
            )
            threshold.setVisible(False)
            plot.addItem(threshold)
            onsets = pg.ScatterPlotItem(
                symbol="t1", size=16, brush=pg.mkBrush(colour), pen=pg.mkPen("k")
            )
            plot.addItem(onsets)
            if self.plots:
                plot.setXLink(self.plots[0])
            self.plots.append(plot)
            self.filtered_items.append(filtered)
            self.envelope_items.append(envelope)
            self.threshold_items.append(threshold)
            self.onset_items.append(onsets)

    def _make_tiles(self) -> QtWidgets.QVBoxLayout:
        column = QtWidgets.QVBoxLayout()
        title = QtWidgets.QLabel("Reps (who started the movement, and the glute : hamstring ratio)")
        title.setStyleSheet("font-weight: bold;")
        column.addWidget(title)
        grid = QtWidgets.QGridLayout()
        self.tile_widgets = [RepTileWidget() for _ in range(self.state.max_tiles)]
        per_row = max(1, (len(self.tile_widgets) + 1) // 2)
        for i, widget in enumerate(self.tile_widgets):
            widget.setVisible(False)
            grid.addWidget(widget, i // per_row, i % per_row)
        for c in range(per_row):
            grid.setColumnStretch(c, 1)
        column.addLayout(grid)
        column.addStretch(1)
        return column

    def _make_trend(self) -> None:
        self.trend.setLabel("bottom", "rep")
        self.trend.setLabel("left", "G:H")
        # a fixed scale: a ratio's rep-to-rep noise should look as small as it is
        self.trend.setYRange(*RATIO_RANGE, padding=0)
        self.trend.setMouseEnabled(x=False, y=False)
        self.trend.enableAutoRange(axis="y", enable=False)
        self.ratio_band = pg.LinearRegionItem(
            orientation="horizontal", movable=False, brush=pg.mkBrush(0, 114, 178, 40)
        )
        self.ratio_band.setVisible(False)
        self.trend.addItem(self.ratio_band)
        self.trend.addItem(
            pg.InfiniteLine(1.0, angle=0, pen=pg.mkPen("#777777", style=QtCore.Qt.PenStyle.DotLine))
        )
        self.trend_item = self.trend.plot(
            pen=pg.mkPen("#0072B2", width=2), symbol="o", symbolBrush="#0072B2"
        )

    def _make_replay_bar(self, control: ReplayControl) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        self.play_button = QtWidgets.QPushButton("Pause")
        self.play_button.clicked.connect(self.toggle_pause)
        self.speed_box = QtWidgets.QComboBox()
        for speed in REPLAY_SPEEDS:
            self.speed_box.addItem("max" if speed is None else f"{speed:g}×", speed)
        index = REPLAY_SPEEDS.index(control.speed) if control.speed in REPLAY_SPEEDS else 2
        self.speed_box.setCurrentIndex(index)
        self.speed_box.currentIndexChanged.connect(
            lambda i: control.set_speed(self.speed_box.itemData(i))
        )
        self.position = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.position.setRange(0, max(1, round(control.duration_s * 10)))
        self.position.sliderReleased.connect(lambda: self.seek(self.position.value() / 10))
        self.position_label = QtWidgets.QLabel()
        row.addWidget(self.play_button)
        row.addWidget(QtWidgets.QLabel("speed"))
        row.addWidget(self.speed_box)
        row.addWidget(self.position, stretch=1)
        row.addWidget(self.position_label)
        return row

    def _make_help(self, parent: QtWidgets.QWidget) -> QtWidgets.QLabel:
        shortcuts = (*SHORTCUTS, *(REPLAY_SHORTCUTS if self.control is not None else ()))
        rows = "".join(f"<tr><td><b>{key}</b></td><td>{what}</td></tr>" for key, what in shortcuts)
        places = "".join(f"<tr><td><b>{m}</b></td><td>{where}</td></tr>" for m, where in PLACEMENT)
        help_label = QtWidgets.QLabel(
            f"<h3>Keyboard shortcuts</h3><table>{rows}</table>"
            "<h3>Sensor placement</h3><p>Electrodes about 2 cm apart, in line with the muscle "
            f"fibres, on clean dry skin:</p><table>{places}</table>",
            parent,
        )
        help_label.setWordWrap(True)
        help_label.setMaximumWidth(760)
        help_label.setStyleSheet(
            "background: rgba(255,255,255,235); border: 2px solid #333; padding: 16px; "
            "font-size: 15px;"
        )
        help_label.adjustSize()
        help_label.setVisible(False)
        return help_label

    def _install_shortcuts(self) -> None:
        bindings: list[tuple[str, Callable[[], object]]] = [
            ("M", self.mark_set),
            ("S", self.toggle_sound),
            ("H", self.toggle_help),
            ("F1", self.toggle_help),
            ("Q", self.close),
            ("Esc", self.close),
        ]
        if self.acquisition is not None:
            bindings += [
                ("R", self.toggle_recording),
                ("E", self.next_exercise),
                ("C", lambda: self._ask("calibrate")),
                ("N", lambda: self._ask("skip-mvc")),
                ("X", lambda: self._ask("cancel")),
            ]
        if self.control is not None:
            bindings += [
                ("Space", self.toggle_pause),
                ("Left", lambda: self.seek(self.state.time_s - SEEK_STEP_S)),
                ("Right", lambda: self.seek(self.state.time_s + SEEK_STEP_S)),
                ("+", lambda: self.step_speed(1)),
                ("=", lambda: self.step_speed(1)),
                ("-", lambda: self.step_speed(-1)),
            ]
        for key, action in bindings:
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(key), self)
            shortcut.activated.connect(action)

    # ------------------------------------------------------------------ actions

    def mark_set(self) -> None:
        """Mark the start of a set at the newest sample (kept in the recording)."""
        number = sum(1 for _, text in self.state.marks if text.startswith("set")) + 1
        event = Event(self.state.time_s, "mark", f"set {number}", data={"set": number})
        self.state.apply([event])
        if self.acquisition is not None:
            self.acquisition.note([event])

    def _ask(self, kind: str, value: str | None = None) -> None:
        control = self.acquisition.control if self.acquisition is not None else None
        if control is not None:
            control.request(kind, value)

    def toggle_recording(self) -> None:
        """Start recording (a new session from the next block) or stop it."""
        control = self.acquisition.control if self.acquisition is not None else None
        if control is not None:
            control.request("stop-recording" if control.recording else "record")

    def next_exercise(self) -> None:
        """Switch to the next exercise preset (its analysis starts afresh from now)."""
        control = self.acquisition.control if self.acquisition is not None else None
        if control is None:
            return
        names = list(EXERCISES)
        current = control.session.config.exercise.name
        following = names[(names.index(current) + 1) % len(names)] if current in names else names[0]
        control.request("exercise", following)

    def toggle_sound(self) -> None:
        """Sound on or off."""
        self.sound.enabled = not self.sound.enabled

    def toggle_pause(self) -> None:
        """Pause or go on (replay)."""
        if self.control is not None:
            self.control.set_paused(not self.control.paused)
            self.play_button.setText("Play" if self.control.paused else "Pause")

    def seek(self, time_s: float) -> None:
        """Go to ``time_s`` of the replay: its analysis runs again from the start up to there
        (as fast as possible), so every number shown is what a live run shows then."""
        if self.control is not None:
            self.control.seek(time_s)

    def step_speed(self, step: int) -> None:
        """The next faster (``+1``) or slower (``-1``) replay speed."""
        if self.control is None:
            return
        index = min(max(0, self.speed_box.currentIndex() + step), len(REPLAY_SPEEDS) - 1)
        self.speed_box.setCurrentIndex(index)

    def toggle_help(self) -> None:
        """Show or hide the keyboard shortcuts."""
        self.help.setVisible(not self.help.isVisible())
        self.help.move(
            (self.width() - self.help.width()) // 2, (self.height() - self.help.height()) // 3
        )
        self.help.raise_()

    # ------------------------------------------------------------------ drawing

    def refresh(self) -> None:
        """Take what acquisition queued and draw it (one frame)."""
        acquisition = self.acquisition
        ended = acquisition is not None and not acquisition.running  # before taking the rest
        if acquisition is not None:
            for epoch, frame in acquisition.frames.take_all():
                if self._current(epoch):
                    self.state.add_frame(frame)
            events = [e for epoch, e in acquisition.events.take_all() if self._current(epoch)]
            if events:
                self.state.apply(events)
        for _ in range(self.state.take_alerts()):
            self.sound.play()
        self.draw()
        if ended and not self.finished:  # its last items were taken above
            self.finished = True
            self.timer.stop()
            if acquisition is not None and acquisition.error is not None:
                self.state.recording = f"stopped: {acquisition.error}"
                self.draw()
            if self.on_finished is not None:
                self.on_finished(self)

    def _current(self, epoch: tuple[int, int]) -> bool:
        """Whether an item of run ``epoch`` is to be shown; a newer run starts afresh."""
        if epoch > self.epoch:
            self.epoch = epoch
            self.state = self.state.fresh()
        return epoch == self.epoch

    def draw(self) -> None:
        """Draw the state as it is now."""
        state = self.state
        self._draw_traces()
        banner = state.banner
        self.banner.setText(banner)
        self.banner.setVisible(bool(banner))
        level = state.risk_level
        self.risk.setText(f"Cramp risk: {level.upper()}")
        self.risk.setStyleSheet(
            f"font-size: 18px; font-weight: bold; color: {RISK_COLOURS.get(level, '#000')};"
        )
        reasons = "; ".join(state.risk_reasons)
        self.reasons.setText(f"{reasons} ({RISK_NOTE})" if reasons else f"({RISK_NOTE})")
        tiles = list(state.tiles)
        for widget, tile in zip(self.tile_widgets, tiles, strict=False):
            widget.show_tile(tile)
        for widget in self.tile_widgets[len(tiles) :]:
            widget.setVisible(False)
        if state.ratios:
            reps, ratios = zip(*((r, v) for r, _, v in state.ratios), strict=True)
            self.trend_item.setData(np.array(reps, float), np.array(ratios, float))
        if state.ratio_band is not None:
            centre, half = state.ratio_band
            self.ratio_band.setRegion((centre - half, centre + half))
        self.ratio_band.setVisible(state.ratio_band is not None)
        self._draw_calibration()
        self.status.setText(self._status_text())
        if self.control is not None and not self.position.isSliderDown():
            self.position.setValue(round(state.time_s * 10))
            self.position_label.setText(f"{state.time_s:6.1f} / {self.control.duration_s:.1f} s")

    def _draw_traces(self) -> None:
        state = self.state
        fs = state.sample_rate
        start, filtered = state.filtered.view()
        _, envelope = state.envelope.view()
        if not len(filtered):
            return
        t = (start + np.arange(len(filtered))) / fs
        onsets = list(state.onsets)
        for i in range(len(state.channels)):
            self.filtered_items[i].setData(t, filtered[:, i])
            self.envelope_items[i].setData(t, envelope[:, i])
            threshold = state.thresholds[i]
            self.threshold_items[i].setVisible(bool(np.isfinite(threshold)))
            if np.isfinite(threshold):
                self.threshold_items[i].setValue(float(threshold))
            times = np.array([time for time, c in onsets if c == i and time >= t[0]])
            heights = envelope[np.clip(((times * fs) - start).astype(int), 0, len(t) - 1), i]
            self.onset_items[i].setData(times, heights)
            self.plots[i].setXRange(max(0.0, t[-1] - state.span_s), t[-1], padding=0)
            # the band-passed trace's peaks (every 4th sample is enough for a range)
            seen = np.abs(filtered[::4, i])
            seen = seen[np.isfinite(seen)]
            self._set_y_range(i, float(seen.max()) if len(seen) else 0.0, float(threshold))

    def _set_y_range(self, i: int, peak_uv: float, threshold_uv: float) -> None:
        """A steady y range in µV: above the running peak of the trace and well above the
        onset threshold (so its line stands clear of zero); it grows at once and shrinks
        slowly, so the traces do not jump from frame to frame."""
        threshold = threshold_uv if np.isfinite(threshold_uv) else 0.0
        peak = peak_uv if np.isfinite(peak_uv) else 0.0
        target = max(1.05 * peak, 3.0 * threshold, MIN_Y_UV)
        previous = self.y_ranges[i]
        height = target if target >= previous else max(target, previous * Y_SHRINK_PER_FRAME)
        if height != previous:
            self.y_ranges[i] = height
            # more room above zero, where the envelope and the threshold are
            self.plots[i].setYRange(-BELOW_ZERO * height, height, padding=0)

    def _draw_calibration(self) -> None:
        control = self.acquisition.control if self.acquisition is not None else None
        status = control.guide_status if control is not None else None
        self.calibration_panel.setVisible(status is not None and not status.done)
        if status is None or status.done:
            return
        step = (status.step or "").replace("-", " ")
        attempt = f" (try {status.attempt})" if status.attempt > 1 else ""
        self.calibration_step.setText(
            f"Calibration — step {status.step_number} of {status.step_count}: {step}{attempt}"
            "   (N: no MVC, X: cancel)"
        )
        self.calibration_prompt.setText(status.prompt)
        self.calibration_countdown.setText(f"{math.ceil(status.seconds_left):.0f} s")
        self.calibration_progress.setValue(round(status.progress * 1000))
        self.calibration_notice.setText(status.notice or "")

    def _status_text(self) -> str:
        """The status line, in the longest wording that fits the window (never cut)."""
        room = self.statusBar().width() - 32
        metrics = self.status.fontMetrics()
        text = ""
        for detail in (2, 1, 0):
            text = self._status_line(detail)
            if metrics.horizontalAdvance(text) <= room:
                break
        return text

    def _status_line(self, detail: int) -> str:
        """The status line: ``detail`` 2 says everything, 1 shorter, 0 the least."""
        state = self.state
        losses = state.sensor_loss_percent()
        parts = []
        for name, sensor in state.sensors.items():
            battery = (
                f", battery {sensor.battery_percent:.0f} %"
                if sensor.battery_percent is not None and detail > 0
                else ""
            )
            window = f" (last {state.loss_window_s:g} s)" if detail > 1 else ""
            parts.append(
                f"{name}: {sensor.state}{battery}, lost {losses.get(name, 0.0):.1f} %{window}"
            )
        clock = f"{state.time_s:6.1f} s"
        control = self.acquisition.control if self.acquisition is not None else None
        if control is not None:
            session = control.session
            state.exercise = f"exercise: {session.config.exercise.name}"
            if session.folder is not None:
                state.recording = f"recording into {session.folder}"
            elif control.recording:
                state.recording = "recording once calibrated"
            elif state.recording.startswith("recording"):
                state.recording = "not recording"
        recording = state.recording
        if detail == 0 and recording.startswith("recording into "):
            recording = "recording into …/" + Path(recording.removeprefix("recording into ")).name
        extra = [x for x in (state.exercise, recording) if x]
        sound = "sound on" if self.sound.enabled else "sound off"
        separator = "   |   " if detail > 1 else " | "
        return separator.join([clock, *parts, *extra, sound, "H: help"])

    # ------------------------------------------------------------------ closing

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # Qt names it
        """Stop acquisition (the session finalises its recording) before closing."""
        self.timer.stop()
        if self.acquisition is not None:
            self.acquisition.stop("window closed")
            self.acquisition.join(timeout=10.0)
        super().closeEvent(event)

    def screenshot(self, path: Path) -> None:
        """Save the window as it is now (PNG)."""
        self.draw()
        QtWidgets.QApplication.processEvents()
        if not self.grab().save(str(path)):
            raise OSError(f"could not write the screenshot {path}")
