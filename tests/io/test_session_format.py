from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from emg.analysis.pipeline import AnalysisConfig
from emg.analysis.session_events import outcome
from emg.errors import EmgInputError
from emg.events import Event
from emg.io.open_recording import open_recording
from emg.io.session_format import EVENTS_FILE, METADATA_FILE, SAMPLES_FILE, read_session
from emg.io.session_writer import SessionWriter, session_folder
from emg.recording import Recording
from emg.session import LiveSession, run_session
from emg.sources.replay import replay_blocks
from emg.sources.synthetic import SynthConfig, generate_session


def _record(
    recording: Recording, folder: Path, config: AnalysisConfig | None = None
) -> LiveSession:
    live = LiveSession(
        recording.channels,
        recording.sample_rate,
        config or AnalysisConfig(),
        folder,
        {"exercise": "hip-thrust", "subject": "07"},
    )
    asyncio.run(run_session(replay_blocks(recording, speed=None), live))
    return live


@pytest.fixture(scope="module")
def lossy_set() -> Recording:
    config = SynthConfig(
        reps=6, seed=11, sides=True, loss=0.02, lead_ms=(90, 80, -100, -120, -90, 100)
    )
    return generate_session(config).recording


def test_session_round_trip_keeps_samples_loss_events_and_metadata(
    tmp_path: Path, lossy_set: Recording
) -> None:
    folder = tmp_path / "s"
    live = _record(lossy_set, folder)
    back = open_recording(folder)
    np.testing.assert_array_equal(back.data, lossy_set.data)
    np.testing.assert_array_equal(back.lost, lossy_set.lost)
    assert back.channels == lossy_set.channels
    assert back.sample_rate == lossy_set.sample_rate
    assert back.metadata["status"] == "complete" and back.metadata["complete"] is True
    assert back.metadata["subject"] == "07"
    assert back.metadata["n_samples"] == lossy_set.n_samples
    assert back.metadata["analysis"]["exercise"]["name"] == "hip-thrust"
    # every event of the live run is on disk, plus one merged loss event per lost run
    kept = [e for e in back.events if e.kind != "loss"]
    assert [e.to_dict() for e in kept] == [json.loads(json.dumps(e.to_dict())) for e in live.events]
    runs = sum(
        int(
            np.count_nonzero(
                np.diff(np.concatenate(([0], lossy_set.lost[:, c], [0])).astype(int)) == 1
            )
        )
        for c in range(lossy_set.lost.shape[1])
    )
    assert len([e for e in back.events if e.kind == "loss"]) == runs
    assert len([e for e in back.events if e.kind == "rep"]) == 12  # 6 reps x 2 sides


def test_replay_gives_exactly_the_live_run(tmp_path: Path, lossy_set: Recording) -> None:
    folder = tmp_path / "s"
    live = _record(lossy_set, folder)
    recorded = open_recording(folder)
    replayed = LiveSession(recorded.channels, recorded.sample_rate, AnalysisConfig())
    # a different block size and real pacing sped up: the same outcome
    asyncio.run(run_session(replay_blocks(recorded, speed=1000.0, block_s=0.0137), replayed))
    reps = [e for e in replayed.events if e.kind == "rep"]
    assert outcome(replayed.events) == outcome(recorded.events) == outcome(live.events)
    assert [e.data["order"] for e in reps] == [
        e.data["order"] for e in live.events if e.kind == "rep"
    ]
    flags = [e for e in recorded.events if e.kind == "flag"]
    assert flags and all(e.data["flag"] == "hamstring-first" for e in flags)


def test_writer_flushes_within_the_interval(tmp_path: Path, lossy_set: Recording) -> None:
    now = [0.0]
    writer = SessionWriter(
        tmp_path / "s", lossy_set.channels, lossy_set.sample_rate, clock=lambda: now[0]
    )
    meta = json.loads((tmp_path / "s" / METADATA_FILE).read_text())
    assert meta["status"] == "recording" and meta["channels"][0]["label"] == "glute_left"
    blocks = list(lossy_set.blocks(40))
    row = 4 * len(lossy_set.channels)
    for i, block in enumerate(blocks[:60]):
        now[0] = i * 0.02
        writer.write_block(block)
        on_disk = (tmp_path / "s" / SAMPLES_FILE).stat().st_size // row
        # what is on disk is never more than the flush interval behind
        assert block.stop - on_disk <= writer.flush_interval_s * lossy_set.sample_rate + 40
    writer.close()
    assert (tmp_path / "s" / SAMPLES_FILE).stat().st_size == 60 * 40 * row


def test_cut_short_session_opens_without_the_partial_row(
    tmp_path: Path, lossy_set: Recording
) -> None:
    folder = tmp_path / "s"
    writer = SessionWriter(folder, lossy_set.channels, lossy_set.sample_rate)
    for block in list(lossy_set.blocks(100))[:30]:
        writer.write_block(block)
    writer.write_events([Event(0.5, "mark", "set 1")])
    writer.flush()
    with (folder / SAMPLES_FILE).open("ab") as handle:
        handle.write(b"\x00" * 6)  # half a row, as a crash mid-write leaves it
    with (folder / EVENTS_FILE).open("a") as handle:
        handle.write('{"time_s": 1.0, "kind": "ma')
    back = read_session(folder)
    assert back.n_samples == 3000 and back.metadata["complete"] is False
    assert len(back.metadata["recovered"]) == 2
    assert [e.kind for e in back.events if e.kind != "loss"] == ["mark"]
    np.testing.assert_array_equal(back.data, lossy_set.data[:3000])


def test_session_folder_names(tmp_path: Path) -> None:
    from datetime import datetime

    when = datetime(2026, 11, 24, 9, 30, 5)
    first = session_folder(tmp_path, "hip-thrust", when)
    assert first.name == "20261124-093005-hip-thrust"
    first.mkdir()
    assert session_folder(tmp_path, "hip-thrust", when).name == "20261124-093005-hip-thrust-2"


def _session(tmp_path: Path, lossy_set: Recording) -> Path:
    folder = tmp_path / "bad"
    writer = SessionWriter(folder, lossy_set.channels, lossy_set.sample_rate)
    for block in list(lossy_set.blocks(1000))[:5]:
        writer.write_block(block)
    writer.close()
    return folder


def _edit_meta(folder: Path, **changes: object) -> None:
    meta = json.loads((folder / METADATA_FILE).read_text())
    meta.update(changes)
    (folder / METADATA_FILE).write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("damage", "message", "where"),
    [
        (
            lambda f: (f / METADATA_FILE).write_text('{"format": "emg-sess'),
            "not valid JSON",
            METADATA_FILE,
        ),
        (lambda f: (f / METADATA_FILE).write_text(""), "empty", METADATA_FILE),
        (lambda f: _edit_meta(f, sample_rate=0), "sample rate 0", METADATA_FILE),
        (lambda f: _edit_meta(f, sample_rate="fast"), "sample rate 'fast'", METADATA_FILE),
        (lambda f: _edit_meta(f, format="other"), "not an emg session", METADATA_FILE),
        (lambda f: _edit_meta(f, format_version=99), "format version 99", METADATA_FILE),
        (lambda f: _edit_meta(f, channels=[]), "no channels", METADATA_FILE),
        (
            lambda f: _edit_meta(
                f,
                channels=[
                    {"label": "glute_left"},
                    {"label": "quadzilla"},
                    {"label": "a"},
                    {"label": "b"},
                ],
            ),
            "unknown muscle 'quadzilla'",
            "bad",
        ),
        (
            lambda f: (f / SAMPLES_FILE).write_bytes((f / SAMPLES_FILE).read_bytes()[:1000]),
            "truncated",
            SAMPLES_FILE,
        ),
        (lambda f: (f / SAMPLES_FILE).write_bytes(b""), "truncated", SAMPLES_FILE),
        (lambda f: (f / SAMPLES_FILE).unlink(), "missing", SAMPLES_FILE),
    ],
)
def test_bad_sessions_get_clear_errors(
    tmp_path: Path, lossy_set: Recording, damage, message: str, where: str
) -> None:
    folder = _session(tmp_path, lossy_set)
    damage(folder)
    with pytest.raises(EmgInputError, match=message) as caught:
        open_recording(folder)
    assert where in str(caught.value)


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        ({"dtype": "int16"}, "field 'samples.dtype': 'int16', but samples.f32 is read as float32"),
        ({"dtype": "float64"}, "field 'samples.dtype': 'float64'"),
        ({"byte_order": "big"}, "field 'samples.byte_order': 'big', but samples.f32 is read"),
        ("int16", "field 'samples': expected a mapping describing samples.f32, got str"),
    ],
)
def test_samples_described_as_other_than_float32_are_refused_not_misread(
    tmp_path: Path, lossy_set: Recording, samples: object, expected: str
) -> None:
    folder = _session(tmp_path, lossy_set)
    meta = json.loads((folder / METADATA_FILE).read_text())
    described = {**meta["samples"], **samples} if isinstance(samples, dict) else samples
    _edit_meta(folder, samples=described)
    with pytest.raises(EmgInputError) as caught:
        read_session(folder)
    assert str(caught.value).startswith(f"{folder / METADATA_FILE}: {expected}"), caught.value
    # as written, or without the description (older sessions), the samples are read
    _edit_meta(folder, samples={**meta["samples"]})
    assert read_session(folder).n_samples == 5000
    del meta["samples"]
    (folder / METADATA_FILE).write_text(json.dumps(meta))
    assert read_session(folder).n_samples == 5000


def test_folder_that_is_not_a_session(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(EmgInputError, match="not a recorded session") as caught:
        open_recording(tmp_path)
    assert str(tmp_path) in str(caught.value)
    with pytest.raises(EmgInputError, match="no such file"):
        open_recording(tmp_path / "missing")
    (tmp_path / "notes.docx").write_text("hello")
    with pytest.raises(EmgInputError, match="unknown kind of file"):
        open_recording(tmp_path / "notes.docx")


def test_channel_overrides_select_and_rename(tmp_path: Path, lossy_set: Recording) -> None:
    folder = _session(tmp_path, lossy_set)
    back = open_recording(folder, {"glute": "glute_right", "hamstring": "hamstring_right"})
    assert [c.label for c in back.channels] == ["glute", "hamstring"]
    labels = [c.label for c in lossy_set.channels]
    np.testing.assert_array_equal(
        back.data[:, 1], lossy_set.data[:5000, labels.index("hamstring_right")]
    )
    with pytest.raises(EmgInputError, match="no channel 'EMG9'"):
        open_recording(folder, {"glute": "EMG9"})


def test_events_after_the_end_of_a_session_are_not_its(
    tmp_path: Path, lossy_set: Recording
) -> None:
    """A source winding down after the session finished (a sensor that reconnects, or
    whose last notifications arrive, as it is stopped) tells events the closed recording
    cannot take: they are left out, not raised from the source's task."""
    folder = tmp_path / "s"
    live = _record(lossy_set, folder)
    kept = len(live.events)
    live.note([Event(lossy_set.duration_s, "reconnect", "glute delivers again")])
    assert len(live.events) == kept
    assert all(e.kind != "reconnect" for e in open_recording(folder).events)


def test_samples_beyond_any_amplifier_are_read_as_lost_and_said(
    tmp_path: Path, lossy_set: Recording
) -> None:
    """A sample beyond ±20 V in samples.f32 (a sensor's glitch, before the live path masked
    them) is left out of the analysis, with the rest of the session kept, rather than
    wrecking its channel or making the session unreadable."""
    folder = _session(tmp_path, lossy_set)
    before = read_session(folder)
    width = len(before.channels)
    with (folder / SAMPLES_FILE).open("r+b") as file:
        file.seek((1234 * width + 1) * 4)
        file.write(np.float32(1e30).tobytes())
        file.seek((4000 * width + 1) * 4)
        file.write(np.float32(-3e7).tobytes())
    after = read_session(folder)
    changed = np.zeros(before.lost.shape, bool)
    changed[[1234, 4000], 1] = True
    assert after.lost[changed].all() and (after.data[changed] == 0).all()
    np.testing.assert_array_equal(after.lost[~changed], before.lost[~changed])
    np.testing.assert_array_equal(after.data[~changed], before.data[~changed])
    assert after.metadata["recovered"] == [
        "samples beyond ±20 V (no amplifier gives them: a sensor's glitch) were masked as lost "
        f"({before.channels[1].label} 2)"
    ]
    assert before.metadata["recovered"] == []
    # read with --channel: counted in the columns taken, under the names they are given
    name = before.channels[1].label
    renamed = read_session(folder, {"glute": name})
    assert renamed.lost[[1234, 4000], 0].all()
    assert renamed.metadata["recovered"][0].endswith("(glute 2)")
    other = read_session(folder, {"glute": before.channels[0].label})
    assert other.metadata["recovered"] == []


def _described_in(folder: Path, unit: str, factor: float, where: str = "channels") -> None:
    """Rewrite the session's samples in ``unit`` (``factor`` microvolts each), and say so in
    each channel's ``unit`` (``where="channels"``) or in ``samples.unit`` only."""
    meta = json.loads((folder / METADATA_FILE).read_text())
    width = len(meta["channels"])
    samples = np.fromfile(folder / SAMPLES_FILE, dtype="<f4").reshape(-1, width)
    (samples / np.float32(factor)).astype("<f4").tofile(folder / SAMPLES_FILE)
    for entry in meta["channels"]:
        entry.pop("unit", None)
        if where == "channels":
            entry["unit"] = unit
    meta["samples"]["unit"] = unit if where == "samples" else "uV"
    (folder / METADATA_FILE).write_text(json.dumps(meta))


def test_samples_recorded_in_millivolts_or_volts_are_read_in_microvolts(
    tmp_path: Path, lossy_set: Recording
) -> None:
    """``channels[i].unit`` (else ``samples.unit``) says what the samples are in: mV and V
    are scaled to microvolts as they are read, lost samples left as they are (0)."""
    before = read_session(_session(tmp_path, lossy_set))
    assert before.lost.any() and (before.data[before.lost] == 0).all()
    cases = [("uV", 1.0, "channels"), ("µV", 1.0, "channels"), ("mV", 1e3, "channels")]
    cases += [("V", 1e6, "channels"), ("mV", 1e3, "samples"), ("V", 1e6, "samples")]
    for number, (unit, factor, where) in enumerate(cases):
        folder = _session(tmp_path / str(number), lossy_set)
        _described_in(folder, unit, factor, where)
        after = read_session(folder)
        assert after.data.dtype == np.float32
        np.testing.assert_allclose(after.data, before.data, rtol=1e-6, atol=1e-6 * factor)
        np.testing.assert_array_equal(after.lost, before.lost)
        assert (after.data[after.lost] == 0).all(), unit
        assert after.metadata["recovered"] == []
    # a channel's own unit is the one taken (the session's is for channels that give none)
    folder = _session(tmp_path / "own", lossy_set)
    _described_in(folder, "mV", 1e3)
    meta = json.loads((folder / METADATA_FILE).read_text())
    meta["samples"]["unit"] = "V"
    (folder / METADATA_FILE).write_text(json.dumps(meta))
    np.testing.assert_allclose(read_session(folder).data, before.data, rtol=1e-6, atol=1e-3)


@pytest.mark.parametrize(
    ("unit", "where", "field", "said"),
    [
        ("counts", "channels", "channels[1].unit", "'counts'"),
        ("mA", "samples", "samples.unit", "'mA'"),
        (5, "channels", "channels[1].unit", "'5'"),
    ],
)
def test_a_unit_that_is_not_a_voltage_is_refused_naming_the_channel(
    tmp_path: Path, lossy_set: Recording, unit: object, where: str, field: str, said: str
) -> None:
    folder = _session(tmp_path, lossy_set)
    meta = json.loads((folder / METADATA_FILE).read_text())
    if where == "channels":
        meta["channels"][1]["unit"] = unit
    else:
        meta["samples"]["unit"] = unit
        for entry in meta["channels"][1:]:
            del entry["unit"]
    (folder / METADATA_FILE).write_text(json.dumps(meta))
    with pytest.raises(EmgInputError) as caught:
        read_session(folder)
    label = meta["channels"][1]["label"]
    assert str(caught.value) == (
        f"{folder / METADATA_FILE}: field '{field}' (channel '{label}'): unit {said} is not a "
        "voltage (expected uV, mV or V)"
    )


EXAMPLE = Path(__file__).resolve().parents[2] / "recordings" / "examples" / "hip-thrust-synthetic"


def _example_with(tmp_path: Path, inserted: dict[int, str], **meta: object) -> Path:
    """A copy of the example session (complete, 54 events) with ``inserted`` lines put into
    ``events.jsonl`` at the given 1-based line numbers, and ``session.json`` fields changed."""
    folder = tmp_path / "session"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("bids"))
    lines = (folder / EVENTS_FILE).read_text().splitlines()
    for number, text in sorted(inserted.items()):
        lines.insert(number - 1, text)
    (folder / EVENTS_FILE).write_text("\n".join(lines) + "\n")
    if meta:
        _edit_meta(folder, **meta)
    return folder


def test_a_damaged_event_line_is_skipped_the_other_events_kept_and_said_once(
    tmp_path: Path,
) -> None:
    """A line of events.jsonl that is not an event (garbage, JSON that is no event, a loss
    event whose range is not samples) made the whole complete session unreadable: no
    analysis, no export. It is left out, the other events and the samples kept, and one line
    names the file and the lines."""
    before = read_session(EXAMPLE)
    loss = {"time_s": 1.0, "kind": "loss", "channel": "glute", "data": {"start": "abc", "stop": 9}}
    folder = _example_with(tmp_path, {7: "garbage {{{", 12: '{"time_s": 1}', 20: json.dumps(loss)})
    told: list[str] = []
    after = read_session(folder, notify=told.append)
    note = f"{folder / EVENTS_FILE}: lines 7, 12 and 20 are not JSON events: skipped"
    assert told == [note]
    assert after.metadata["recovered"] == [note]
    assert after.metadata["complete"] is True
    assert [e.to_dict() for e in after.events] == [e.to_dict() for e in before.events]
    np.testing.assert_array_equal(after.data, before.data)
    np.testing.assert_array_equal(after.lost, before.lost)
    # through open_recording (what every command reads with): the same, said once
    told.clear()
    assert open_recording(folder, notify=told.append).metadata["recovered"] == [note]
    assert told == [note]


def test_one_damaged_event_line_is_named_alone_and_many_are_counted(tmp_path: Path) -> None:
    one = _example_with(tmp_path / "one", {7: "garbage {{{"})
    told: list[str] = []
    read_session(one, notify=told.append)
    assert told == [f"{one / EVENTS_FILE}: line 7 is not a JSON event: skipped"]
    many = _example_with(tmp_path / "many", {n: "\xff not an event" for n in range(2, 10)})
    assert read_session(many).metadata["recovered"] == [
        f"{many / EVENTS_FILE}: lines 2, 3, 4, 5, 6 and 3 more are not JSON events: skipped"
    ]


def test_a_cut_short_session_still_leaves_its_partly_written_last_line_out_as_before(
    tmp_path: Path,
) -> None:
    """The last line of a session cut short (a crash mid-write) is left out as it was; a
    damaged line before it is skipped and said."""
    folder = _example_with(tmp_path, {7: "garbage {{{"}, status="recording")
    with (folder / EVENTS_FILE).open("a") as handle:
        handle.write('{"time_s": 28.0, "kind": "ma')
    told: list[str] = []
    back = read_session(folder, notify=told.append)
    skipped = f"{folder / EVENTS_FILE}: line 7 is not a JSON event: skipped"
    assert told == [skipped]
    assert back.metadata["complete"] is False
    assert back.metadata["recovered"] == [
        "a partly written last event line was left out",
        skipped,
    ]
    assert len(back.events) == len(read_session(EXAMPLE).events)
