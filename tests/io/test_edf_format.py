"""BDF+/EDF(+) through pyedflib: round trips, what MNE reads, and bad files."""

from __future__ import annotations

import dataclasses
import warnings
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyedflib
import pytest

from emg.block import Channel
from emg.errors import EmgInputError
from emg.events import Event, loss_events
from emg.io.edf_format import (
    ANNOTATION_RESOLUTION_S,
    DIGITAL_MAX,
    DIGITAL_MIN,
    bdf_labels,
    physical_range,
    read_edf,
    record_layout,
    recording_events,
    write_bdf,
)
from emg.muscles import parse_muscle_name
from emg.recording import Recording
from emg.sources.synthetic import SynthConfig, generate_session

STARTED_AT = "2024-05-01T10:00:00.250000+02:00"
#: 6007 is prime: at 100 Hz no record length between 0.1 s and 60 s divides it.
PRIME_LENGTH = 6007


@pytest.fixture(scope="module")
def session() -> Recording:
    """Four channels (glute/hamstring, left/right) at 2 kHz, 5 % packet loss, some events."""
    recording = generate_session(SynthConfig(reps=3, seed=1, loss=0.05, sides=True)).recording
    recording.events = [
        Event(1.0, "mark", "set 1"),
        Event(2.5, "rep", "1 glute-first -50 ms", 1.2, data={"rep": 1}),
        Event(3.25, "flag", "hamstring dominance in rep 1 of the set, over 40 chars"),
        Event(4.0005, "onset", "glute_left", channel="glute_left"),
    ]
    recording.metadata["started_at"] = STARTED_AT
    return recording


def _cut(recording: Recording, n: int) -> Recording:
    return dataclasses.replace(recording, data=recording.data[:n], lost=recording.lost[:n])


def _renamed(recording: Recording, index: int, label: str) -> Recording:
    channels = list(recording.channels)
    channels[index] = Channel.from_name(label)
    return dataclasses.replace(recording, channels=tuple(channels))


def _random(n: int, fs: float, labels: tuple[str, ...], seed: int = 3) -> Recording:
    rng = np.random.default_rng(seed)
    data = rng.normal(0, 80, (n, len(labels))).astype(np.float32)
    lost = np.zeros(data.shape, dtype=bool)
    lost[100:130, 0] = True
    lost[n - 7 :, -1] = True
    data[lost] = 0
    channels = tuple(Channel.from_name(label) for label in labels)
    return Recording(data=data, sample_rate=fs, channels=channels, lost=lost, source="random")


def _steps(path: Path) -> npt.NDArray[np.float64]:
    """Quantisation step of each signal, from the file's header."""
    reader = pyedflib.EdfReader(str(path))
    try:
        return np.array(
            [
                (reader.getPhysicalMaximum(i) - reader.getPhysicalMinimum(i))
                / (reader.getDigitalMaximum(i) - reader.getDigitalMinimum(i))
                for i in range(reader.signals_in_file)
            ]
        )
    finally:
        reader.close()


def _assert_same(back: Recording, original: Recording, path: Path) -> None:
    assert back.n_samples == original.n_samples
    assert back.sample_rate == original.sample_rate
    assert [c.label for c in back.channels] == [c.label for c in original.channels]
    steps = _steps(path)
    assert np.all(steps < 1e-3)
    error = np.abs(back.data.astype(np.float64) - original.data.astype(np.float64))
    assert np.all(error.max(axis=0) <= steps * 1.0001)
    np.testing.assert_array_equal(back.lost, original.lost)
    expected = recording_events(original)
    assert len(back.events) == len(expected)
    for got, want in zip(back.events, expected, strict=True):
        assert abs(got.time_s - want.time_s) <= ANNOTATION_RESOLUTION_S
        assert abs(got.duration_s - want.duration_s) <= ANNOTATION_RESOLUTION_S
        assert got.kind == want.kind
        assert got.annotation == want.annotation


def test_round_trip_with_sides_loss_and_events(session: Recording, tmp_path: Path) -> None:
    path = tmp_path / "set.bdf"
    write_bdf(path, session)
    back = read_edf(path)
    _assert_same(back, session, path)
    assert back.metadata["source_format"] == "bdf"
    assert back.metadata["started_at"] == "2024-05-01T10:00:00.250000"
    assert session.lost.sum() == 5160 and back.lost.sum() == 5160
    losses = [e for e in back.events if e.kind == "loss"]
    assert losses == loss_events(session.lost, [c.label for c in session.channels], 2000.0)
    flag = next(e for e in back.events if e.kind == "flag")
    assert flag.annotation == "flag hamstring dominance in rep 1 of the"
    reader = pyedflib.EdfReader(str(path))
    assert reader.datarecord_duration == 1.0
    assert reader.getNSamples()[0] == 28000
    assert reader.getPrefilter(0).startswith("none")
    assert reader.getTransducer(0) == "surface EMG"
    assert reader.getPhysicalDimension(0) == "uV"
    assert reader.getDigitalMaximum(0) == DIGITAL_MAX
    assert reader.getDigitalMinimum(0) == DIGITAL_MIN
    reader.close()


def test_odd_length_uses_a_record_that_divides_it(session: Recording, tmp_path: Path) -> None:
    odd = _cut(session, 27999)  # 27 * 17 * 61
    path = tmp_path / "odd.bdf"
    write_bdf(path, odd)
    _assert_same(read_edf(path), odd, path)
    reader = pyedflib.EdfReader(str(path))
    assert reader.getNSamples()[0] == 27999
    assert reader.datarecord_duration == pytest.approx(1647 / 2000)
    reader.close()


def test_long_label_gets_a_short_alias(session: Recording, tmp_path: Path) -> None:
    renamed = _renamed(session, 3, "semimembranosus_right")
    path = tmp_path / "sm.bdf"
    write_bdf(path, renamed)
    reader = pyedflib.EdfReader(str(path))
    assert reader.getSignalLabels()[3] == "EMG sm_right"
    reader.close()
    back = read_edf(path)
    _assert_same(back, renamed, path)
    assert back.channels[3] == Channel(
        "semimembranosus_right", "semimembranosus", "right", device="sm.bdf"
    )
    assert back.metadata["channel_names"]["semimembranosus_right"] == "EMG sm_right"


def test_prime_length_pads_and_marks_the_end(tmp_path: Path) -> None:
    recording = _random(PRIME_LENGTH, 100.0, ("glute", "hamstring"))
    recording.events = [Event(60.0, "mark", "last")]
    layout = record_layout(PRIME_LENGTH, 100, 3)
    assert (layout.samples, layout.padded) == (100, True)
    path = tmp_path / "prime.bdf"
    write_bdf(path, recording)
    reader = pyedflib.EdfReader(str(path))
    assert reader.getNSamples()[0] == 6100  # 61 records of 1 s, the last padded
    texts = list(reader.readAnnotations()[2])
    reader.close()
    assert "BAD_padding after 6007 samples" in texts  # MNE leaves BAD_ spans out
    back = read_edf(path)
    _assert_same(back, recording, path)
    assert all("recording end" not in e.description for e in back.events)


def test_record_layout_prefers_one_second_and_makes_room_for_annotations() -> None:
    assert record_layout(28000, 2000, 10) == record_layout(28000, 2000, 14)
    assert record_layout(28000, 2000, 10).samples == 2000
    assert record_layout(28000, 2000, 10).annotation_signals == 1
    assert record_layout(28000, 2000, 15).annotation_signals == 2
    assert record_layout(28000, 2000, 14 * 64 + 1).samples == 1750  # 16 records
    assert record_layout(100, 2000, 1).samples == 100  # shorter than 0.1 s: one record
    with pytest.raises(EmgInputError, match="more than a BDF"):
        record_layout(200, 2000, 10_000)


def test_many_events_all_survive(tmp_path: Path) -> None:
    recording = _random(4000, 2000.0, ("glute", "hamstring"))
    recording.events = [Event(k * 0.0015, "mark", f"m{k}") for k in range(300)]
    path = tmp_path / "many.bdf"
    write_bdf(path, recording)
    back = read_edf(path)
    _assert_same(back, recording, path)
    assert len(back.events) == 302


def test_existing_loss_events_are_not_written_twice(session: Recording, tmp_path: Path) -> None:
    labels = [c.label for c in session.channels]
    with_losses = dataclasses.replace(
        session, events=[*session.events, *loss_events(session.lost, labels, 2000.0)]
    )
    assert len(recording_events(with_losses)) == len(recording_events(session))
    path = tmp_path / "losses.bdf"
    write_bdf(path, with_losses)
    np.testing.assert_array_equal(read_edf(path).lost, session.lost)


@pytest.mark.parametrize(
    ("peak", "top"),
    [(250.07, 260.0), (0.0, 1.0), (0.4, 1.0), (1.234, 1.3), (99.99, 100.0), (1234.5, 1300.0)],
)
def test_physical_range(peak: float, top: float) -> None:
    values = np.array([0.0, -peak, peak / 2])
    assert physical_range(values) == top


def test_bdf_labels_fit_and_parse_back() -> None:
    names = ["semimembranosus_right", "gluteus_medius_left", "erector_spinae_right", "glute"]
    labels = bdf_labels([Channel.from_name(n) for n in names])
    # typed EMG (EDF+ "EMG <name>") where the name fits 12 characters, else the name alone
    assert labels == ["EMG sm_right", "EMG gmed_left", "erector_spinae_r", "EMG glute"]
    for name, label in zip(names, labels, strict=True):
        assert len(label) <= 16
        assert parse_muscle_name(label.removeprefix("EMG ")) == parse_muscle_name(name)
    with pytest.raises(EmgInputError, match="longer than the 16"):
        bdf_labels([Channel("a_very_long_channel_name", "tibialis_anterior")])


def test_mne_reads_the_exported_bdf(session: Recording, tmp_path: Path) -> None:
    mne = pytest.importorskip("mne")
    odd = _renamed(_cut(session, 27999), 3, "semimembranosus_right")
    path = tmp_path / "mne.bdf"
    write_bdf(path, odd)
    raw = mne.io.read_raw_bdf(path, preload=True, infer_types=True, verbose="error")
    assert raw.ch_names == ["glute_left", "hamstrings_l", "glute_right", "sm_right"]
    assert raw.get_channel_types() == ["emg"] * 4
    assert raw.info["sfreq"] == pytest.approx(2000.0, abs=1e-9)
    assert raw.n_times == 27999
    steps = _steps(path)
    error = np.abs(raw.get_data().T - odd.data.astype(np.float64) * 1e-6)
    assert np.all(error.max(axis=0) <= steps * 1e-6 * 1.0001)
    expected = recording_events(odd)
    notes = raw.annotations
    got = sorted(zip(notes.onset, notes.duration, notes.description, strict=True))
    want = sorted((e.time_s, e.duration_s, e.annotation) for e in expected)
    assert len(got) == len(want) == 129  # 125 loss runs + 4 events
    for (onset, duration, text), (time_s, duration_s, annotation) in zip(got, want, strict=True):
        assert text == annotation
        assert abs(onset - time_s) <= ANNOTATION_RESOLUTION_S
        assert abs(duration - duration_s) <= ANNOTATION_RESOLUTION_S


def test_edf_plus_in_millivolts(tmp_path: Path) -> None:
    path = tmp_path / "other.EDF"
    values = np.sin(np.arange(3000) / 10.0) * 0.5  # mV
    signals = [("Glute_L", 1000, values), ("BF_L", 1000, -values)]
    _write_signals(path, signals, "mV", edf=True, top=1.0)
    back = read_edf(path)
    assert back.metadata["source_format"] == "edf"
    assert [c.label for c in back.channels] == ["glute_left", "biceps_femoris_left"]
    assert back.sample_rate == 1000.0
    step = 2.0 / (2**16 - 1) * 1000  # µV
    np.testing.assert_allclose(back.data[:, 0], values * 1000, atol=step)
    assert back.metadata["started_at"] == "2023-03-04T05:06:07"


def _write_signals(
    path: Path,
    signals: list[tuple[str, int, npt.NDArray[np.float64]]],
    unit: str = "uV",
    edf: bool = False,
    top: float = 200.0,
) -> None:
    """A file as another tool would write it: one signal per (label, rate, values)."""
    kind = pyedflib.FILETYPE_EDFPLUS if edf else pyedflib.FILETYPE_BDFPLUS
    digital = 2**15 if edf else 2**23
    writer = pyedflib.EdfWriter(str(path), len(signals), kind)
    writer.setSignalHeaders(
        [
            {
                "label": label,
                "dimension": "Boolean" if label == "Status" else unit,
                "sample_frequency": rate,
                "physical_max": top,
                "physical_min": -top,
                "digital_max": digital - 1,
                "digital_min": -digital,
                "transducer": "",
                "prefilter": "",
            }
            for label, rate, _ in signals
        ]
    )
    writer.setStartdatetime(datetime(2023, 3, 4, 5, 6, 7))
    writer.writeSamples([np.ascontiguousarray(values) for _, _, values in signals])
    writer.close()


def _two_rates(tmp_path: Path, labels: tuple[str, str, str]) -> Path:
    path = tmp_path / "rates.bdf"
    fast, slow = np.zeros(4000), np.zeros(2000)
    _write_signals(
        path, [(labels[0], 2000, fast), (labels[1], 1000, slow), (labels[2], 2000, fast)]
    )
    return path


def _error(path: Path, channels: dict[str, str] | None = None) -> EmgInputError:
    with pytest.raises(EmgInputError) as caught:
        read_edf(path, channels)
    assert str(path) in str(caught.value)
    return caught.value


def test_mixed_sample_rates_name_the_channels(tmp_path: Path) -> None:
    path = _two_rates(tmp_path, ("glute", "hamstring", "Status"))
    message = str(_error(path))
    assert "mixed sample rates" in message
    assert "glute 2000 Hz" in message and "hamstring 1000 Hz" in message
    assert "Status" not in message


def test_channels_left_out_do_not_count_for_the_rate(tmp_path: Path) -> None:
    path = _two_rates(tmp_path, ("glute", "Status", "hamstring"))
    back = read_edf(path)
    assert [c.label for c in back.channels] == ["glute", "hamstring"]
    assert back.sample_rate == 2000.0 and back.n_samples == 4000
    path = _two_rates(tmp_path, ("glute", "hamstring", "EMG3"))
    back = read_edf(path, {"glute": "glute", "hamstring": "EMG3"})
    assert back.sample_rate == 2000.0


def test_unknown_channel_names_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "numbered.bdf"
    values = np.linspace(-100, 100, 2000)
    _write_signals(path, [("EMG1", 1000, values), ("EMG2", 1000, values[::-1].copy())])
    error = _error(path)
    assert "--channel" in str(error) and error.field == "EMG1"
    back = read_edf(path, {"glute": "EMG1", "hamstring": "EMG2"})
    assert [c.label for c in back.channels] == ["glute", "hamstring"]
    np.testing.assert_allclose(back.data[:, 0], values, atol=400.0 / 2**24)
    assert "no channel 'EMG9'" in str(_error(path, {"glute": "EMG1", "hamstring": "EMG9"}))


def test_overrides_keep_the_loss_mask(session: Recording, tmp_path: Path) -> None:
    path = tmp_path / "set.bdf"
    write_bdf(path, session)
    back = read_edf(path, {"hamstring": "hamstring_right", "glute": "glute_right"})
    assert [c.label for c in back.channels] == ["hamstring", "glute"]
    np.testing.assert_array_equal(back.lost, session.lost[:, [3, 2]])


def test_bad_files_give_clear_errors(
    session: Recording, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.bdf"
    write_bdf(good, _cut(session, 8000))
    content = good.read_bytes()
    empty, truncated, text, header_only = (tmp_path / f"{n}.bdf" for n in "abcd")
    empty.write_bytes(b"")
    truncated.write_bytes(content[: len(content) // 2])
    text.write_text("time,glute\n0,1\n" * 100)
    header_only.write_bytes(content[:100])
    capfd.readouterr()
    assert "empty" in str(_error(empty))
    assert "truncated" in str(_error(truncated))
    assert "not a BDF/EDF file" in str(_error(text))
    assert "cannot be read" in str(_error(header_only))
    assert "no such file" in str(_error(tmp_path / "missing.bdf"))
    assert "folder" in str(_error(_folder(tmp_path)))
    assert "expected a .bdf or .edf" in str(_error(tmp_path / "set.csv"))
    assert capfd.readouterr().out == ""  # pyedflib prints nothing


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "folder.bdf"
    folder.mkdir()
    return folder


def test_write_errors(session: Recording, tmp_path: Path) -> None:
    short = _cut(session, 4000)
    with pytest.raises(EmgInputError, match="not a whole number"):
        write_bdf(tmp_path / "a.bdf", dataclasses.replace(short, sample_rate=1999.5))
    with pytest.raises(EmgInputError, match="before the recording starts"):
        write_bdf(tmp_path / "b.bdf", dataclasses.replace(short, events=[Event(-1.0, "mark")]))
    assert not (tmp_path / "b.bdf").exists()
    bad_start = dataclasses.replace(short, metadata={"started_at": "yesterday"})
    with pytest.raises(EmgInputError, match="ISO 8601") as caught:
        write_bdf(tmp_path / "c.bdf", bad_start)
    assert caught.value.field == "started_at"
    nan = short.data.copy()
    nan[5, 1] = np.nan
    with pytest.raises(EmgInputError, match="NaN"):
        write_bdf(tmp_path / "d.bdf", dataclasses.replace(short, data=nan))


def test_no_start_time_reads_back_as_unknown(session: Recording, tmp_path: Path) -> None:
    path = tmp_path / "nostart.bdf"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_bdf(path, dataclasses.replace(_cut(session, 4000), metadata={}))
    assert read_edf(path).metadata["started_at"] is None


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (1e30, r"1e\+30 µV, beyond the ±9\.9e\+06 µV \(±9\.9 V\) that BDF can store"),
        (9.95e6, r"9\.95e\+06 µV, beyond the ±9\.9e\+06 µV \(±9\.9 V\) that BDF can store"),
        (np.inf, "inf: BDF cannot store NaN or infinite samples"),
        (np.nan, "nan: BDF cannot store NaN or infinite samples"),
    ],
)
def test_a_sample_bdf_cannot_store_is_named_in_the_recording_not_the_output(
    session: Recording, tmp_path: Path, value: float, why: str
) -> None:
    short = _cut(session, 4000)
    data = short.data.copy()
    data[3001, 2] = value
    data[3500, 2] = value  # a later one too: the first is named
    recording = dataclasses.replace(short, data=data, source="athlete/set.csv")
    out = tmp_path / "set.bdf"
    with pytest.raises(EmgInputError, match=why) as caught:
        write_bdf(out, recording)
    error = caught.value
    assert error.source == "athlete/set.csv" and error.field == session.channels[2].label
    assert str(error).startswith(
        f"athlete/set.csv, column '{session.channels[2].label}': "
        "sample 3001 (1.500 s from the start) is "
    )
    assert str(out) not in str(error) and not out.exists()


def test_the_recording_s_other_faults_name_it_too(session: Recording, tmp_path: Path) -> None:
    short = dataclasses.replace(_cut(session, 4000), source="athlete/set.csv")
    out = tmp_path / "set.bdf"
    for faulty, match in [
        (dataclasses.replace(short, sample_rate=1999.5), "not a whole number"),
        (dataclasses.replace(short, metadata={"started_at": "yesterday"}), "ISO 8601"),
        (dataclasses.replace(short, events=[Event(-1.0, "mark")]), "before the recording"),
    ]:
        with pytest.raises(EmgInputError, match=match) as caught:
            write_bdf(out, faulty)
        assert caught.value.source == "athlete/set.csv" and str(out) not in str(caught.value)
    assert not out.exists()


@pytest.mark.parametrize("micro", ["000000", "485193", "999999"])
def test_event_times_come_back_on_the_sample_grid_whatever_the_start(
    session: Recording, tmp_path: Path, micro: str
) -> None:
    """A start time between two 100 µs steps moved every annotation read back by the rest
    (3.032407 s for 3.0325 s), off the sample grid."""
    started = dataclasses.replace(
        session, metadata={**session.metadata, "started_at": f"2024-05-01T10:00:00.{micro}"}
    )
    path = tmp_path / "set.bdf"
    write_bdf(path, started)
    back = read_edf(path)
    want = [e.time_s for e in recording_events(started)]
    assert [e.time_s for e in back.events] == pytest.approx(want, abs=1e-9)
    start = f"2024-05-01T10:00:00.{micro[:4]}00".removesuffix(".000000")
    assert back.metadata["started_at"] == start
