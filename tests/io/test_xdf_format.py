"""Reading XDF files (LabRecorder): stream choice, channels, units, time grid, markers, errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xdf_writer import XdfStream, write_xdf

import emg
from emg.errors import EmgInputError
from emg.io.xdf_format import read_xdf
from emg.sources.synthetic import SynthConfig, generate_session

FS = 2000.0
DEVICE_START = 1000.0  # first time stamp on the device's clock
OFFSET = -900.0  # device clock + offset = recording computer's clock
T0 = DEVICE_START + OFFSET
LABELLED = (
    {"label": "glute", "unit": "microvolts", "type": "EMG"},
    {"label": "hamstring", "unit": "microvolts", "type": "EMG"},
)


@pytest.fixture(scope="module")
def session_data() -> npt.NDArray[np.float32]:
    """22000 x 2 float32 microvolts (glute, hamstring) of a synthetic 2-rep set at 2 kHz."""
    recording = generate_session(SynthConfig(reps=2, seed=1)).recording
    assert recording.sample_rate == FS
    return recording.data


def stamps(
    index: npt.NDArray[np.int64], seed: int = 0, jitter: float = 0.2
) -> npt.NDArray[np.float64]:
    """Device-clock time stamps of grid ``index`` with uniform jitter of +-``jitter`` periods."""
    rng = np.random.default_rng(seed)
    return DEVICE_START + (index + rng.uniform(-jitter, jitter, len(index))) / FS


def emg_stream(
    data: npt.NDArray[np.float32],
    index: npt.NDArray[np.int64] | None = None,
    *,
    name: str = "EMG",
    channels: Sequence[Mapping[str, str]] = LABELLED,
    stream_type: str = "EMG",
    srate: float = FS,
    seed: int = 0,
) -> XdfStream:
    """A jittered EMG stream with a constant clock offset; ``index``: grid index of each row."""
    index = np.arange(len(data)) if index is None else index
    duration = float(index[-1]) / FS
    return XdfStream(
        name=name,
        type=stream_type,
        srate=srate,
        channel_format="float32",
        samples=data,
        timestamps=stamps(index, seed),
        channels=channels,
        source_id=f"{name}-serial-42",
        clock_offsets=[(DEVICE_START + t, OFFSET) for t in np.arange(0.0, duration + 5, 5.0)],
    )


def marker_stream(times: Sequence[float], texts: Sequence[str]) -> XdfStream:
    """A string marker stream, time stamps on the recording computer's clock (offset 0)."""
    return XdfStream(
        name="Markers",
        type="Markers",
        srate=0.0,
        channel_format="string",
        samples=[[text] for text in texts],
        timestamps=T0 + np.asarray(times, dtype=float),
        source_id="markers-1",
        clock_offsets=[(T0, 0.0), (T0 + 5.0, 0.0)],
        chunk_size=1,
    )


def test_jittered_stream_reads_back_exactly(
    tmp_path: Path, session_data: npt.NDArray[np.float32]
) -> None:
    path = write_xdf(tmp_path / "set.xdf", [emg_stream(session_data)])
    rec = read_xdf(path)
    assert rec.sample_rate == 2000.0
    assert rec.n_samples == 22000
    assert [c.label for c in rec.channels] == ["glute", "hamstring"]
    assert [c.muscle for c in rec.channels] == ["glute", "hamstring"]
    assert [c.device for c in rec.channels] == ["EMG-serial-42"] * 2
    assert rec.data.dtype == np.float32
    np.testing.assert_array_equal(rec.data, session_data)
    assert not rec.lost.any()
    assert rec.events == []
    assert rec.source == str(path)
    meta = rec.metadata
    assert meta["source_format"] == "xdf"
    assert meta["stream_name"] == "EMG"
    assert meta["source_id"] == "EMG-serial-42"
    assert meta["clock_offsets_applied"] is True
    assert meta["clock_offset_count"] == 4
    assert "clock offsets" in meta["clock_sync"]
    assert abs(meta["t0_lsl"] - T0) < 0.2 / FS  # the offset of -900 s was applied
    assert meta["filled_samples"] == 0
    assert meta["dropped_samples"] == 0


def test_muscle_and_side_from_channel_metadata(
    tmp_path: Path, session_data: npt.NDArray[np.float32]
) -> None:
    channels = (
        {"label": "EMG1", "muscle": "glute", "side": "Left", "unit": "uV", "type": "EMG"},
        {"label": "EMG2", "muscle": "biceps_femoris", "side": "left", "unit": "uV"},
        {"label": "Trigger", "type": "TRIG", "unit": "counts"},
    )
    data = np.column_stack([session_data, np.zeros(len(session_data), np.float32)])
    path = write_xdf(tmp_path / "meta.xdf", [emg_stream(data, channels=channels)])
    rec = read_xdf(path)
    assert [c.label for c in rec.channels] == ["glute_left", "biceps_femoris_left"]
    assert [c.muscle for c in rec.channels] == ["glute", "biceps_femoris"]
    assert [c.side for c in rec.channels] == ["left", "left"]
    np.testing.assert_array_equal(rec.data, session_data)


def test_gap_of_100_samples_is_filled_and_flagged(
    tmp_path: Path, session_data: npt.NDArray[np.float32]
) -> None:
    index = np.delete(np.arange(22000), np.arange(5000, 5100))
    path = write_xdf(tmp_path / "gap.xdf", [emg_stream(session_data[index], index)])
    rec = read_xdf(path)
    assert rec.n_samples == 22000
    expected_lost = np.zeros((22000, 2), dtype=bool)
    expected_lost[5000:5100] = True
    np.testing.assert_array_equal(rec.lost, expected_lost)
    assert not rec.data[5000:5100].any()
    np.testing.assert_array_equal(rec.data[index], session_data[index])
    losses = [e for e in rec.events if e.kind == "loss"]
    assert [e.channel for e in losses] == ["glute", "hamstring"]
    for event in losses:
        assert event.data == {"start": 5000, "stop": 5100}
        assert event.time_s == pytest.approx(2.5)
        assert event.duration_s == pytest.approx(0.05)
    assert rec.metadata["filled_samples"] == 100
    assert rec.metadata["segments"] == 2


def test_millivolts_become_microvolts(
    tmp_path: Path, session_data: npt.NDArray[np.float32]
) -> None:
    channels = [{**c, "unit": "mV"} for c in LABELLED]
    in_mv = (session_data / 1000).astype(np.float32)
    path = write_xdf(tmp_path / "mv.xdf", [emg_stream(in_mv, channels=channels)])
    rec = read_xdf(path)
    np.testing.assert_allclose(rec.data, session_data, rtol=1e-6, atol=1e-4)
    assert np.abs(rec.data).max() > 100  # microvolts, not millivolts


def test_markers_become_events_on_the_emg_clock(
    tmp_path: Path, session_data: npt.NDArray[np.float32]
) -> None:
    times = [7.1, 0.5, 3.25]
    texts = ["hello world", "mark set 1 start", "Calibration rest"]
    path = write_xdf(
        tmp_path / "markers.xdf", [marker_stream(times, texts), emg_stream(session_data)]
    )
    rec = read_xdf(path)
    assert [(e.kind, e.description) for e in rec.events] == [
        ("mark", "set 1 start"),
        ("calibration", "rest"),
        ("other", "hello world"),
    ]
    for event, time_s in zip(rec.events, sorted(times), strict=True):
        assert abs(event.time_s - time_s) <= 1 / FS
        assert event.data["stream"] == "Markers"
    assert rec.metadata["marker_streams"] == ["Markers"]
    np.testing.assert_array_equal(rec.data, session_data)


def test_two_emg_streams_need_a_choice(
    tmp_path: Path, session_data: npt.NDArray[np.float32]
) -> None:
    left = emg_stream(session_data[:4000], name="Left leg")
    right = emg_stream(session_data[4000:8000], name="Right leg", seed=1)
    path = write_xdf(tmp_path / "two.xdf", [left, right])
    with pytest.raises(EmgInputError, match="several EMG streams") as caught:
        read_xdf(path)
    # it said "choose one by passing the stream's name", which no command could
    assert str(caught.value) == (
        f"{path}: several EMG streams: 'Left leg', 'Right leg'; to read 'Left leg', give "
        f"--stream 'Left leg' (in Python: emg.read({str(path)!r}, stream='Left leg'))"
    )
    rec = read_xdf(path, stream="Right leg")
    np.testing.assert_array_equal(rec.data, session_data[4000:8000])
    assert rec.metadata["stream_name"] == "Right leg"
    with pytest.raises(EmgInputError, match="no stream named 'Middle'"):
        read_xdf(path, stream="Middle")


def test_no_emg_stream(tmp_path: Path, session_data: npt.NDArray[np.float32]) -> None:
    acc = emg_stream(session_data[:1000], name="Accel", stream_type="ACC")
    path = write_xdf(tmp_path / "none.xdf", [acc, marker_stream([0.1], ["x"])])
    with pytest.raises(EmgInputError, match="no EMG stream") as caught:
        read_xdf(path)
    assert caught.value.detail == (
        "no EMG stream (no stream of type 'EMG'; streams: 'Accel' (type 'ACC'), 'Markers' "
        "(type 'Markers')); to read 'Accel' as EMG, give --stream Accel (in Python: "
        f"emg.read({str(path)!r}, stream='Accel'))"
    )
    assert caught.value.source == str(path)
    # naming a numeric stream of another type reads it, as the message says
    assert read_xdf(path, stream="Accel").n_samples == 1000
    with pytest.raises(EmgInputError, match="text"):
        read_xdf(path, stream="Markers")


def test_a_file_with_no_stream_to_read_advises_none(tmp_path: Path) -> None:
    path = write_xdf(tmp_path / "markers.xdf", [marker_stream([0.1], ["x"])])
    with pytest.raises(EmgInputError) as caught:
        read_xdf(path)
    # nothing to name: no advice
    expected = "no EMG stream (no stream of type 'EMG'; streams: 'Markers' (type 'Markers'))"
    assert caught.value.detail == expected


@pytest.mark.parametrize("command", ["analyze", "export"])
def test_several_emg_streams_on_the_command_line_is_one_line_saying_what_to_do(
    command: str,
    tmp_path: Path,
    session_data: npt.NDArray[np.float32],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from emg.cli import main

    left = emg_stream(session_data[:, ::-1], name="Left leg")  # long enough to analyse
    right = emg_stream(session_data, name="Right leg", seed=1)
    path = write_xdf(tmp_path / "two.xdf", [left, right])
    out = [str(tmp_path / "out.csv"), "--to", "csv"] if command == "export" else []
    capsys.readouterr()
    status = main([command, str(path), *out])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"emg: error: {path}: several EMG streams: 'Left leg', 'Right leg'; ")
    assert err.strip().endswith(
        f"give --stream 'Left leg' (in Python: emg.read({str(path)!r}, stream='Left leg'))"
    )
    assert not (tmp_path / "out.csv").exists()
    # as the message says: the stream named is read, by the command and by emg.read
    capsys.readouterr()
    assert main([command, str(path), *out, "--stream", "Right leg"]) == 0
    if command == "export":
        exported = emg.read(tmp_path / "out.csv")
        np.testing.assert_allclose(exported.data, session_data, atol=1e-3)
    assert emg.read(path, stream="Right leg").metadata["stream_name"] == "Right leg"


def test_a_stream_is_chosen_only_in_an_xdf_file(
    tmp_path: Path, session_data: npt.NDArray[np.float32], capsys: pytest.CaptureFixture[str]
) -> None:
    from emg.cli import main

    example = Path(__file__).resolve().parents[2] / "recordings" / "examples"
    session = example / "hip-thrust-synthetic"
    capsys.readouterr()
    assert main(["analyze", str(session), "--stream", "Left leg"]) == 2
    assert capsys.readouterr().err == (
        f"emg: error: {session}: --stream chooses a stream of an XDF file; this recording is not "
        "one (it has one set of channels: --channel names them)\n"
    )
    # the library names its own arguments, not the command line's options
    with pytest.raises(EmgInputError) as raised:
        emg.read(session, stream="Left leg")
    assert str(raised.value) == (
        f"{session}: stream= chooses a stream of an XDF file; this recording is not one (it has "
        "one set of channels: channels= names them)"
    )


def test_irregular_rate_is_not_emg(tmp_path: Path, session_data: npt.NDArray[np.float32]) -> None:
    path = write_xdf(tmp_path / "irregular.xdf", [emg_stream(session_data[:100], srate=0.0)])
    with pytest.raises(EmgInputError, match="irregular sampling rate"):
        read_xdf(path)


def test_channel_overrides(tmp_path: Path, session_data: npt.NDArray[np.float32]) -> None:
    channels = ({"label": "EMG1"}, {"label": "EMG2"})
    path = write_xdf(tmp_path / "numbered.xdf", [emg_stream(session_data, channels=channels)])
    with pytest.raises(EmgInputError, match="--channel") as caught:
        read_xdf(path)
    assert "EMG1" in str(caught.value) and caught.value.source == str(path)
    rec = read_xdf(path, channels={"hamstring": "EMG2", "glute": "EMG1"})
    assert [c.label for c in rec.channels] == ["hamstring", "glute"]
    np.testing.assert_array_equal(rec.data, session_data[:, ::-1])
    with pytest.raises(EmgInputError, match="no channel 'EMG3'"):
        read_xdf(path, channels={"glute": "EMG3"})


def test_unnamed_channels_are_numbered(
    tmp_path: Path, session_data: npt.NDArray[np.float32]
) -> None:
    path = write_xdf(tmp_path / "bare.xdf", [emg_stream(session_data[:500], channels=())])
    rec = read_xdf(path, channels={"glute": "ch1", "hamstring": "ch2"})
    np.testing.assert_array_equal(rec.data, session_data[:500])


def test_unit_that_is_not_a_voltage(tmp_path: Path, session_data: npt.NDArray[np.float32]) -> None:
    channels = ({"label": "glute", "unit": "g"}, {"label": "hamstring", "unit": "uV"})
    path = write_xdf(tmp_path / "acc.xdf", [emg_stream(session_data[:500], channels=channels)])
    with pytest.raises(EmgInputError, match="not a voltage") as caught:
        read_xdf(path)
    assert caught.value.field == "glute"


def test_nan_samples_are_lost_and_infinite_ones_an_error(
    tmp_path: Path, session_data: npt.NDArray[np.float32]
) -> None:
    data = session_data[:500].copy()
    data[321:331, 1] = np.nan  # what an outlet pushes for samples lost in transit
    recording = read_xdf(write_xdf(tmp_path / "nan.xdf", [emg_stream(data)]))
    assert recording.lost[:, 1].sum() == 10 and recording.lost[321:331, 1].all()
    assert not recording.lost[:, 0].any() and np.isfinite(recording.data).all()
    assert recording.data[321:331, 1].tolist() == [0.0] * 10
    losses = [e for e in recording.events if e.kind == "loss"]
    assert len(losses) == 1 and losses[0].channel == "hamstring"
    data[321, 1] = np.inf
    path = write_xdf(tmp_path / "inf.xdf", [emg_stream(data)])
    with pytest.raises(EmgInputError, match="sample 321 is infinite") as caught:
        read_xdf(path)
    assert caught.value.field == "hamstring"
    assert caught.value.source == str(path)


def _check_bad(path: Path, message: str) -> None:
    with pytest.raises(EmgInputError, match=message) as caught:
        read_xdf(path)
    assert caught.value.source == str(path)
    assert str(path) in str(caught.value)


def test_bad_files(tmp_path: Path, session_data: npt.NDArray[np.float32]) -> None:
    _check_bad(tmp_path / "missing.xdf", "no such file")
    _check_bad(tmp_path, "directory")
    empty = tmp_path / "empty.xdf"
    empty.write_bytes(b"")
    _check_bad(empty, "empty")
    whole = write_xdf(tmp_path / "whole.xdf", [emg_stream(session_data[:4000])]).read_bytes()
    half = tmp_path / "half.xdf"
    half.write_bytes(whole[: len(whole) // 2])
    _check_bad(half, "truncated")
    csv = tmp_path / "renamed.xdf"
    csv.write_text("time,glute,hamstring\n0,1,2\n0.0005,3,4\n")
    _check_bad(csv, "not an XDF file")
    garbage = tmp_path / "garbage.xdf"
    garbage.write_bytes(b"XDF:" + bytes(range(7, 200)))
    _check_bad(garbage, "damaged")
    _check_bad(write_xdf(tmp_path / "no_streams.xdf", []), r"no EMG stream .*streams: none")


@st.composite
def runs_and_gaps(draw: st.DrawFn) -> npt.NDArray[np.int64]:
    """Grid indices of kept samples: runs of 1-300 samples separated by gaps of 1-80."""
    pieces = draw(
        st.lists(st.tuples(st.integers(1, 300), st.integers(1, 80)), min_size=1, max_size=6)
    )
    kept, position = [], 0
    for run, gap in pieces:
        kept.append(np.arange(position, position + run))
        position += run + gap
    kept.append(np.arange(position, position + draw(st.integers(1, 300))))
    return np.concatenate(kept)


@settings(max_examples=40, deadline=None)
@given(
    index=runs_and_gaps(),
    jitter=st.floats(0.0, 0.2),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_sample_lands_at_its_index(
    tmp_path_factory: pytest.TempPathFactory,
    index: npt.NDArray[np.int64],
    jitter: float,
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    data = rng.normal(0, 50, (len(index), 2)).astype(np.float32)
    stream = emg_stream(data, index, seed=seed)
    stream.timestamps = stamps(index, seed, jitter)
    path = write_xdf(tmp_path_factory.mktemp("prop") / "p.xdf", [stream])
    rec = read_xdf(path)
    assert rec.n_samples == index[-1] + 1
    np.testing.assert_array_equal(rec.data[index], data)
    expected_lost = np.ones(rec.n_samples, dtype=bool)
    expected_lost[index] = False
    np.testing.assert_array_equal(rec.lost, np.column_stack([expected_lost] * 2))
    assert rec.metadata["dropped_samples"] == 0


def test_a_batch_reads_the_stream_named_in_its_xdf_files_only(
    tmp_path: Path, session_data: npt.NDArray[np.float32]
) -> None:
    from emg.analysis.batch import SessionRows
    from emg.batch_analysis import BatchJob, analyze_session
    from emg.io.csv_format import write_emg_csv

    left = emg_stream(session_data[:, ::-1], name="Left leg")
    right = emg_stream(session_data, name="Right leg", seed=1)
    xdf = write_xdf(tmp_path / "two.xdf", [left, right])
    csv = tmp_path / "set.csv"
    write_emg_csv(csv, generate_session(SynthConfig(reps=2, seed=1)).recording)
    job = BatchJob(stream="Right leg")
    done = [analyze_session(str(p), p.name, job) for p in (xdf, csv)]
    assert all(isinstance(d, SessionRows) and d.rows for d in done), done
    alone = analyze_session(str(xdf), "two.xdf", BatchJob())
    assert not isinstance(alone, SessionRows)  # which of the two: it cannot tell
    assert "several EMG streams" in alone.error
