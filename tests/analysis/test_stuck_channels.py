"""A channel stuck at one value inside a set (an electrode off, a frozen sensor, a rail), not
marked lost, is not analysed as a muscle: its reps are not judged, no flag or cramp warning
comes of it, the other reps keep their true order, and the summary says where it was."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import numpy as np
import pytest

import emg
from emg.analysis.pipeline import AnalysisConfig
from emg.analysis.summary import format_table, summarize
from emg.cli import main
from emg.commands.console import event_line
from emg.events import Event
from emg.io.session_format import read_session
from emg.recording import Recording
from emg.report.content import build_content
from emg.report.figures import timeline_figure
from emg.session import LiveSession, run_session
from emg.sources.replay import replay_blocks
from emg.wording import STUCK_MEANING


def _set(lead_ms: float, seed: int = 0) -> tuple[Recording, list[dict[str, float]]]:
    recording, truth = emg.simulate(emg.DEMO_SET, seed=seed, lead_ms=lead_ms, reps=10)
    return recording, truth["reps"]


def _stuck(recording: Recording, channel: int, start_s: float, stop_s: float, value: float):
    data = recording.data.copy()
    fs = recording.sample_rate
    data[round(start_s * fs) : round(stop_s * fs), channel] = value
    return dataclasses.replace(recording, data=data)


def _in(reps: list[dict[str, float]], start_s: float, stop_s: float) -> set[int]:
    """Numbers of the true reps with an onset inside the stretch (or within 0.3 s after it:
    the noise floor and the filters come back)."""
    return {
        i + 1
        for i, rep in enumerate(reps)
        if any(
            start_s - 0.1 <= rep[k] <= stop_s + 0.3 for k in ("glute_onset_s", "hamstring_onset_s")
        )
    }


@pytest.mark.parametrize("value", ["zero", "rail", "last"])
def test_a_glute_stuck_over_hamstring_first_reps_calls_none_of_them_glute_first(value: str) -> None:
    recording, truth = _set(-120.0)
    fs = recording.sample_rate
    level = {"zero": 0.0, "rail": 3000.0, "last": float(recording.data[round(8 * fs) - 1, 0])}
    analysis = emg.analyze(_stuck(recording, 0, 8.0, 14.0, level[value]))
    reps = analysis.to_dict()["reps"]
    inside = _in(truth, 8.0, 14.0)
    assert inside  # the stretch covers reps
    judged = [r for r in reps if r["order"] is not None]
    assert all(r["order"] == "hamstring-first" for r in judged), [
        (r["index"], r["order"]) for r in reps
    ]
    assert len(judged) >= 10 - len(inside) - (1 if value == "rail" else 0)
    unjudged = [r for r in reps if r["order"] is None]
    assert unjudged and all(r["no_signal"] == ["glute"] for r in unjudged)
    # what was detected there is where the signal came back, not an onset: none is given
    assert all(r["glute_onset_s"] is None for r in unjudged)
    assert all(r["hamstring_onset_s"] is not None for r in unjudged)
    stuck = analysis.to_dict()["stuck"]
    assert stuck["hamstring"] == []
    [[start, stop]] = stuck["glute"]
    assert start == pytest.approx(8.0, abs=1e-3) and stop == pytest.approx(14.0, abs=1e-3)


@pytest.mark.parametrize(
    ("value", "start_s", "length_s"),
    [(0.0, 9.0, 1.0), (0.0, 8.0, 6.0), (3000.0, 5.0, 0.1), (3000.0, 9.0, 1.0), (3000.0, 8.0, 6.0)],
)
def test_a_hamstring_stuck_in_a_glute_first_set_raises_nothing(
    value: float, start_s: float, length_s: float
) -> None:
    recording, _ = _set(80.0)
    analysis = emg.analyze(_stuck(recording, 1, start_s, start_s + length_s, value))
    summary = analysis.to_dict()
    orders = [r["order"] for r in summary["reps"]]
    assert "hamstring-first" not in orders and orders.count("glute-first") >= 6
    assert summary["flags"] == []
    assert summary["cramp_risk"]["level"] == "ok"
    assert [r["no_signal"] for r in summary["reps"] if r["order"] is None] == [
        ["hamstring"]
    ] * orders.count(None)
    assert len(summary["stuck"]["hamstring"]) == 1


def test_a_sensor_that_repeats_its_last_value_before_a_rep_does_not_make_it_elevated() -> None:
    recording, truth = _set(80.0)
    fs = recording.sample_rate
    before = truth[1]["glute_onset_s"]  # a 300 ms stretch just before rep 2
    start = before - 0.43
    held = float(recording.data[round(start * fs) - 1, 1])
    analysis = emg.analyze(_stuck(recording, 1, start, start + 0.3, held))
    reps = analysis.to_dict()["reps"]
    assert not any(r["hamstring_elevated_before"] for r in reps)
    assert analysis.to_dict()["cramp_risk"]["level"] == "ok"
    assert [r["order"] for r in reps] == ["glute-first"] * 10


def test_a_clean_set_and_a_set_lost_in_transit_have_no_stuck_stretch() -> None:
    for loss in (0.0, 0.05):  # runs lost in transit arrive as zeros: reported as lost
        recording, _ = emg.simulate(emg.DEMO_SET, seed=2, loss=loss)
        assert bool(recording.lost.any()) == (loss > 0)
        summary = emg.analyze(recording).to_dict()
        assert summary["stuck"] == {"glute": [], "hamstring": []}


def test_the_table_and_the_report_say_where_a_channel_was_stuck() -> None:
    recording, _ = _set(80.0)
    stuck = _stuck(recording, 1, 8.0, 14.0, 0.0)
    analysis = emg.analyze(stuck)
    summary = summarize(analysis.result, stuck)
    text = format_table(summary)
    line = "stuck at one value 8.000-14.000 s (6.0 s): " + STUCK_MEANING
    hamstring = text[text.index("\nhamstring: ") :]
    assert line in hamstring and line not in text[: text.index("\nhamstring: ")]
    notes = build_content(stuck, analysis.result).signal_notes
    assert f"hamstring: {line}." in notes
    assert not any(
        "stuck" in note
        for note in build_content(recording, emg.analyze(recording).result).signal_notes
    )


def test_the_report_timeline_shows_the_stretch_a_channel_gave_no_signal() -> None:
    """The timeline's bottom lane said "none" beside a 6 s stuck stretch."""
    recording, _ = _set(80.0)
    stuck = _stuck(recording, 1, 8.0, 14.0, 0.0)

    def lane(r: Recording) -> tuple[list[list[float]], list[str]]:
        ax = timeline_figure(build_content(r, emg.analyze(r).result)).axes[0]
        bottom = [
            [float(v) for v in p.get_extents().bounds]
            for c in ax.collections
            for p in c.get_paths()
            if c.get_hatch() == "///"
        ]
        return bottom, [t.get_text() for t in ax.texts]

    hatched, texts = lane(stuck)
    assert len(hatched) == 1 and "none" not in texts
    x, _, width, _ = hatched[0]
    assert (x, x + width) == pytest.approx((8.0, 14.0))  # the stretch, whole
    clean, texts = lane(recording)
    assert clean == [] and "none" in texts


def test_a_channel_stuck_throughout_has_no_rest_level_and_valid_json() -> None:
    recording, _ = _set(80.0)
    unplugged = _stuck(recording, 0, 0.0, recording.duration_s + 1, 0.0)
    analysis = emg.analyze(unplugged)
    text = analysis._json  # what emg analyze --json prints
    assert "NaN" not in text
    summary = analysis.to_dict()
    assert summary["baseline"]["glute"] is None and summary["baseline"]["hamstring"] is not None
    assert "glute: 0 bursts; no baseline" in format_table(summary)
    assert summary["stuck"]["glute"] == [[0.0, round(recording.duration_s, 4)]]


@pytest.mark.parametrize(
    ("channel", "after_s", "length_s"), [(0, 0.3, 0.5), (1, 0.5, 0.5), (1, 0.2, 1.0)]
)
def test_a_channel_stuck_inside_a_rep_leaves_one_rep(
    channel: int, after_s: float, length_s: float
) -> None:
    # stuck after both onsets, while the other muscle is still on: the burst that comes back
    # after the stretch is the same rep, not a new one "already active"
    recording, truth = emg.simulate(reps=6, lead_ms=80.0, seed=3)
    start = truth["reps"][2]["glute_onset_s"] + after_s
    value = -40.0 if channel == 0 else 0.0
    summary = emg.analyze(_stuck(recording, channel, start, start + length_s, value)).to_dict()
    assert len(summary["reps"]) == 6
    assert not any(r["already_active"] for r in summary["reps"])
    assert [r["order"] for r in summary["reps"]].count("glute-first") >= 5


def test_a_recorded_stretch_without_signal_is_an_event_said_and_exported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stuck stretch was only in the analysis: not in events.jsonl, the BIDS events or the
    BDF annotations, and a headless run said nothing of it."""
    recording, _ = _set(80.0)
    stuck = _stuck(recording, 1, 8.0, 14.0, 0.0)
    folder = tmp_path / "session"
    said: list[str] = []

    def listener(events: list[Event]) -> None:
        said.extend(line for e in events if (line := event_line(e)) is not None)

    live = LiveSession(
        stuck.channels, stuck.sample_rate, AnalysisConfig(), folder, listener=listener
    )
    asyncio.run(run_session(replay_blocks(stuck, speed=None, block_s=0.037), live))
    kept = read_session(folder)
    (event,) = [e for e in kept.events if e.kind == "no-signal"]
    fs = stuck.sample_rate
    assert (event.channel, event.data) == ("hamstring", {"start": 8 * fs, "stop": 14 * fs})
    assert (event.time_s, event.duration_s) == pytest.approx((8.0, 6.0))
    # the same stretch as the summary's, from the same samples
    assert emg.analyze(stuck).to_dict()["stuck"] == {"glute": [], "hamstring": [[8.0, 14.0]]}
    line = (
        "--  14.00 s: hamstring gave no signal 8.00-14.00 s (stuck at one value): check its "
        "electrode and lead"
    )
    assert [s for s in said if "gave no signal" in s] == [line]
    assert event.description == "hamstring 12000 samples"
    # exported with the session's other events
    assert main(["export", str(folder), "--to", "bids", str(tmp_path / "bids")]) == 0
    (table,) = (tmp_path / "bids").rglob("*_events.tsv")
    rows = [r.split("\t") for r in table.read_text().splitlines()]
    kinds = rows[0].index("trial_type") if "trial_type" in rows[0] else None
    assert kinds is not None and sum(r[kinds] == "no-signal" for r in rows[1:]) == 1
    assert main(["export", str(folder), "--to", "bdf", str(tmp_path / "s.bdf")]) == 0
    back = emg.read(tmp_path / "s.bdf")
    assert [
        (e.channel, round(e.time_s, 3), e.data) for e in back.events if e.kind == "no-signal"
    ] == [("hamstring", 8.0, {"start": 16000, "stop": 28000})]
    capsys.readouterr()


def test_lost_packets_inside_a_stuck_stretch_do_not_cut_it_up(tmp_path: Path) -> None:
    """With 2 % of the packets lost, a hamstring at 0 for 20 s was 22 stretches (events,
    console lines, summary lines), each followed by 50 ms analysed as signal."""
    recording, _ = emg.simulate(emg.DEMO_SET, seed=3, lead_ms=80.0, reps=10, loss=0.02)
    stuck = _stuck(recording, 1, 5.0, 25.0, 0.0)
    stuck = dataclasses.replace(stuck, data=np.where(stuck.lost, 0.0, stuck.data))
    inside = stuck.lost[round(5.0 * stuck.sample_rate) : round(25.0 * stuck.sample_rate), 1]
    assert inside.sum() > 100  # packets lost inside the stretch
    fs = stuck.sample_rate
    received = np.flatnonzero(~stuck.lost[:, 1])
    kept = received[(received >= 5.0 * fs) & (received < 25.0 * fs)]
    first, stop = kept[0] / fs, (kept[-1] + 1) / fs  # the stretch's first and last received
    summary = emg.analyze(stuck).to_dict()
    assert summary["stuck"]["hamstring"] == [[round(first, 6), round(stop, 6)]]
    live = LiveSession(stuck.channels, fs, AnalysisConfig(), tmp_path / "s")
    asyncio.run(run_session(replay_blocks(stuck, speed=None, block_s=0.02), live))
    events = [e for e in read_session(tmp_path / "s").events if e.kind == "no-signal"]
    assert [(e.channel, e.time_s, e.time_s + e.duration_s) for e in events] == [
        ("hamstring", pytest.approx(first), pytest.approx(stop))
    ]


def test_a_recording_stopped_while_a_channel_is_stuck_keeps_its_stretch(tmp_path: Path) -> None:
    """The stretch's event was only made when it ended, after the recording had stopped."""
    recording, _ = _set(80.0)
    stuck = _stuck(recording, 1, 10.0, 16.0, 0.0)
    live = LiveSession(stuck.channels, stuck.sample_rate, AnalysisConfig(), tmp_path / "s")
    cut = round(12.0 * stuck.sample_rate)

    async def run() -> None:
        async for block in replay_blocks(stuck, speed=None, block_s=0.02):
            live.feed(block)
            if block.start + block.n_samples == cut:
                live.stop_recording("stopped")
        live.finish("end of source")

    asyncio.run(run())
    kept = read_session(tmp_path / "s")
    assert kept.n_samples == cut
    events = [e for e in kept.events if e.kind == "no-signal"]
    assert [(e.time_s, e.duration_s) for e in events] == [(10.0, 2.0)]
    assert emg.analyze(kept).to_dict()["stuck"]["hamstring"] == [[10.0, 12.0]]
