"""The library's calls against bad input: one error (EmgInputError, or SettingError for a
setting) whose one line names the argument at fault and why, never a raw numpy, pandas or
Python error, never a silent wrong answer; and what is good still gives the same numbers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

import emg
from emg.analysis.offline import MAINS_CHOICES, analyze_recording, resolve_mains
from emg.analysis.summary_schema import BurstRow, FlagRow, RepRow
from emg.block import Channel
from emg.cli import main
from emg.dsp.chain import ChainConfig
from emg.dsp.chain_limits import SettingError
from emg.errors import EmgInputError
from emg.recording import Recording

EXAMPLE = Path(__file__).resolve().parents[1] / "recordings" / "examples" / "hip-thrust-synthetic"
NAMES = ["glute", "hamstring"]
BEYOND = (
    "beyond the range of any surface-EMG amplifier or analog board (±20 V, ±2e+07 µV); data "
    "must be in microvolts"
)


@pytest.fixture(scope="module")
def example() -> Recording:
    """The example session: eight reps, four glute-first then four hamstring-first."""
    return emg.read(EXAMPLE)


@pytest.fixture
def samples(example: Recording) -> npt.NDArray[np.float32]:
    """The example's samples, a fresh copy for each test to change."""
    return example.data.copy()


def _message(call: Callable[[], Any], kind: type[Exception] = EmgInputError) -> str:
    """The one line ``call`` is refused with (exactly ``kind``: not a raw error)."""
    with pytest.raises(EmgInputError) as raised:
        call()
    assert type(raised.value) is kind, repr(raised.value)
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_an_array_with_a_sample_that_is_not_a_number_is_refused_naming_it(
    samples: npt.NDArray[np.float32], example: Recording
) -> None:
    fs = example.sample_rate
    assert len(emg.analyze(samples, fs, NAMES).reps) == 8  # the good array
    for row, column, value, what in (
        (40000, 0, np.nan, "not a number (NaN)"),  # gave 6 reps
        (5000, 1, np.nan, "not a number (NaN)"),  # gave none
        (7, 1, -np.inf, "infinite (-inf)"),
    ):
        bad = samples.copy()
        bad[row, column] = value
        assert _message(lambda bad=bad: emg.analyze(bad, fs, NAMES)) == (
            f"data, column '{NAMES[column]}': sample {row} is {what}"
        )
    everything = np.full_like(samples, np.nan)  # gave no rep, and NaN in its JSON
    assert _message(lambda: emg.analyze(everything, fs, NAMES)) == (
        "data, column 'glute': sample 0 is not a number (NaN)"
    )
    # a value no amplifier gives, in float64 before the float32 copy (1e39 would become inf)
    scaled = samples.astype(np.float64)
    scaled[1234, 1] = 1e39
    assert _message(lambda: emg.analyze(scaled, fs, NAMES)) == (
        f"data, column 'hamstring': sample 1234 (1e+39 µV) is {BEYOND}"
    )
    assert _message(lambda: emg.analyze(samples * 1e6, fs, NAMES)).startswith(
        "data, column 'glute': sample "
    )


def test_lost_samples_of_a_recording_are_analysed_and_others_not_finite_refused(
    example: Recording,
) -> None:
    lost = np.zeros(example.data.shape, dtype=bool)
    lost[40000:40100, 0] = True
    filled = example.data.copy()
    filled[lost] = 0.0  # as every reader fills them
    marked = example.data.copy()
    marked[lost] = np.nan  # lost, so anything: the analysis fills them
    reps = [
        emg.analyze(Recording(d, example.sample_rate, example.channels, lost=lost)).to_dict()
        for d in (filled, marked)
    ]
    assert len(reps[0]["reps"]) == 8 and reps[0]["reps"] == reps[1]["reps"]
    assert reps[1]["lost_samples"] == {"glute": 100, "hamstring": 0}
    marked[39999, 0] = np.nan  # not lost
    recording = Recording(marked, example.sample_rate, example.channels, lost=lost)
    assert _message(lambda: emg.analyze(recording)) == (
        "Recording, column 'glute': sample 39999 is not a number (NaN)"
    )


def test_no_nan_reaches_the_json(example: Recording) -> None:
    lost = np.zeros(example.data.shape, dtype=bool)
    lost[:3000, 1] = True
    data = example.data.copy()
    data[lost] = np.nan
    analysis = emg.analyze(Recording(data, example.sample_rate, example.channels, lost=lost))

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in the JSON")

    json.loads(analysis._json, parse_constant=refuse)


@pytest.mark.parametrize(
    ("names", "columns", "expected"),
    [
        (["glute", "glute"], (0, 1), "columns 0 (glute) and 1 (glute) are both 'glute'"),
        (["glute", "gmax"], (0, 1), "columns 0 (glute) and 1 (gmax) are both 'glute'"),
        (
            ["glute", "hamstring", "glute", "hamstring"],
            (0, 1, 0, 1),
            "columns 0 (glute) and 2 (glute) are both 'glute'",
        ),
        (
            ["hamstring", "glute", "glute", "glutes"],
            (0, 1, 1, 0),
            "columns 1 (glute), 2 (glute) and 3 (glutes) are all 'glute'",
        ),
    ],
)
def test_a_muscle_named_for_two_columns_is_refused_naming_both(
    samples: npt.NDArray[np.float32],
    names: list[str],
    columns: tuple[int, ...],
    expected: str,
) -> None:
    data = samples[:, list(columns)]
    assert _message(lambda: emg.analyze(data, 2000.0, names)) == (
        f"channels: {expected}; give each column its own muscle (or side: glute_left, glute_right)"
    )


@pytest.mark.parametrize("mains", ["none", "Auto", "OFF", "50Hz", "", "55", 55, True, 50.5])
def test_mains_takes_what_the_command_line_takes(
    samples: npt.NDArray[np.float32], mains: object
) -> None:
    message = _message(lambda: emg.analyze(samples, 2000.0, NAMES, mains=mains), SettingError)
    assert message == f"mains: expected auto, off, 50 or 60, got {mains!r}"
    with pytest.raises(SettingError, match=r"^mains: expected auto, off, 50 or 60"):
        resolve_mains(emg.read(EXAMPLE), ChainConfig(), mains)  # type: ignore[arg-type]


def test_mains_choices_are_the_options(
    samples: npt.NDArray[np.float32], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    assert "--mains {auto,off,50,60}" in capsys.readouterr().out
    assert MAINS_CHOICES == ("auto", "off", "50", "60")
    # the numbers 50 and 60 are what "50" and "60" are
    for given, hz in (("off", None), ("50", 50.0), (60, 60.0), (50.0, 50.0)):
        analysis = emg.analyze(samples, 2000.0, NAMES, mains=given)  # type: ignore[arg-type]
        assert analysis.settings.chain.mains_hz == hz


def test_tables_without_rows_keep_their_columns(samples: npt.NDArray[np.float32]) -> None:
    quiet = np.random.default_rng(0).normal(0.0, 2.0, samples.shape)
    empty = emg.analyze(quiet, 2000.0, NAMES)
    assert empty.to_dict()["reps"] == [] and empty.to_dict()["flags"] == []
    assert list(empty.reps.columns) == list(RepRow.__annotations__) and empty.reps.empty
    assert empty.reps["lead_ms"].empty
    assert list(empty.flags.columns) == list(FlagRow.__annotations__) and empty.flags.empty
    assert list(empty.bursts.columns) == ["channel", *BurstRow.__annotations__]
    # the same columns as the tables with rows, which are the summary's own keys
    full = emg.analyze(EXAMPLE)
    summary = full.to_dict()
    assert list(full.reps.columns) == list(summary["reps"][0]) == list(empty.reps.columns)
    assert list(full.flags.columns) == list(summary["flags"][0]) == list(empty.flags.columns)
    burst = summary["bursts"]["glute"][0]
    assert list(full.bursts.columns) == ["channel", *burst] == list(empty.bursts.columns)


def test_the_analysis_keeps_its_own_copy_of_an_array(
    samples: npt.NDArray[np.float32], example: Recording
) -> None:
    analysis = emg.analyze(samples, example.sample_rate, NAMES)
    assert not np.shares_memory(analysis.recording.data, samples)
    samples[:] = 0.0  # the caller reuses its array
    again = analyze_recording(analysis.recording, analysis.settings)
    assert len(again.reps) == len(analysis.reps) == 8


def _recording(channels: tuple[Any, ...], columns: int = 2) -> Recording:
    return Recording(np.zeros((20000, columns), dtype=np.float32), 2000.0, channels)


GLUTE, HAMSTRING = Channel.from_name("glute"), Channel.from_name("hamstring")
GOOD = np.zeros((20000, 2), dtype=np.float32)

#: A call, and the one line it is refused with.
REFUSED: dict[str, tuple[Callable[[], Any], str]] = {
    "no channel": (
        lambda: emg.analyze(np.zeros((20000, 0)), 2000.0, []),
        "data: no channel (shape (20000, 0)): give one column per muscle",
    ),
    "a recording of no channel": (
        lambda: emg.analyze(_recording((), columns=0)),
        "Recording: no channel to analyse",
    ),
    "channel None": (
        lambda: emg.analyze(GOOD, 2000.0, ["glute", None]),
        "channels: item 1 is None, not a str; expected a list of names, one muscle name per "
        "column of data, e.g. ['glute', 'hamstring']",
    ),
    "channel 3": (
        lambda: emg.analyze(GOOD, 2000.0, ["glute", 3]),
        "channels: item 1 is 3 (int), not a str; expected a list of names, one muscle name per "
        "column of data, e.g. ['glute', 'hamstring']",
    ),
    "channels a string": (
        lambda: emg.analyze(GOOD, 2000.0, "gh"),
        "channels: 'gh' is one string; give a list of names, one muscle name per column of "
        "data, e.g. ['glute', 'hamstring']",
    ),
    "channels a mapping with an array": (
        lambda: emg.analyze(GOOD, 2000, {"glute": "a"}),
        "channels: a mapping names the channels of a file (glute='EMG1'); an array needs a "
        "list of names, one muscle name per column of data, e.g. ['glute', 'hamstring']",
    ),
    "no channels with an array": (
        lambda: emg.analyze(GOOD, 2000.0),
        "channels: an array needs fs and a list of channel names: give channels, one muscle "
        "name per column of data, e.g. ['glute', 'hamstring']",
    ),
    "unknown muscle": (
        lambda: emg.analyze(GOOD, 2000.0, ["glute", "calf"]),
        "channels: column 1: unknown muscle 'calf'; known muscles: biceps_femoris, emg, "
        "erector_spinae, glute, gluteus_medius, hamstring, rectus_femoris, semimembranosus, "
        "semitendinosus, vastus_lateralis, vastus_medialis, optionally with _left or _right",
    ),
    "fs a string": (
        lambda: emg.analyze(GOOD, "abc", NAMES),
        "fs: the sample rate must be a number of Hz above 0 and up to 100000, got 'abc'",
    ),
    "fs not above 0": (
        lambda: emg.analyze(GOOD, -2000.0, NAMES),
        "fs: the sample rate must be a number of Hz above 0 and up to 100000, got -2000.0",
    ),
    "data None": (
        lambda: emg.analyze(None),
        "data: None is not a recording; give a path, a Recording, or an array (n_samples, "
        "n_channels) in µV with fs and channels",
    ),
    "data a dict": (
        lambda: emg.analyze({"glute": [1.0, 2.0]}, 2000.0, NAMES),
        "data: {'glute': [1.0, 2.0]} (dict) is not a recording; give a path, a Recording, or "
        "an array (n_samples, n_channels) in µV with fs and channels",
    ),
    "data bytes": (
        lambda: emg.analyze(b"1,2", 2000.0, NAMES),
        "data: b'1,2' (bytes) is not a recording; give a path, a Recording, or an array "
        "(n_samples, n_channels) in µV with fs and channels",
    ),
    "data text": (
        lambda: emg.analyze(np.array([["a", "b"]] * 10), 2000.0, NAMES),
        "data: an array of <U1 is not microvolts: give real numbers (float or int)",
    ),
    "data objects": (
        lambda: emg.analyze(np.array([["a", 1]] * 10, dtype=object), 2000.0, NAMES),
        "data: an array of object is not microvolts: give real numbers (float or int)",
    ),
    "data complex": (
        lambda: emg.analyze(GOOD.astype(np.complex128), 2000.0, NAMES),
        "data: an array of complex128 is not microvolts: give real numbers (float or int)",
    ),
    "data one-dimensional": (
        lambda: emg.analyze(np.zeros(100), 2000.0, ["glute"]),
        "data: an array must be (n_samples, n_channels), not (100,)",
    ),
    "more names than columns": (
        lambda: emg.analyze(np.zeros((100, 3)), 2000.0, NAMES),
        "channels: 2 channel names for 3 columns of data",
    ),
    "a recording with a channel too many": (
        lambda: emg.analyze(_recording((GLUTE, HAMSTRING, Channel.from_name("glute_left")))),
        "Recording: 3 channels (glute, hamstring, glute_left) for 2 columns of data",
    ),
    "a recording of names": (
        lambda: emg.analyze(_recording(("glute", "hamstring"))),
        "Recording: channel 0 is 'glute' (str), not a Channel: make it with "
        "Channel.from_name('glute')",
    ),
    "read None": (
        lambda: emg.read(None),  # type: ignore[arg-type]
        "path: expected a file or folder (a str or a pathlib.Path), got None",
    ),
    "read 3": (
        lambda: emg.read(3),  # type: ignore[arg-type]
        "path: expected a file or folder (a str or a pathlib.Path), got 3 (int)",
    ),
    "read a channel spec without =": (
        lambda: emg.read(EXAMPLE, ["gluteEMG1"]),
        "channels: expected MUSCLE=CHANNEL, e.g. glute=EMG1, got 'gluteEMG1'",
    ),
    "read a muscle twice": (
        lambda: emg.read(EXAMPLE, {"glute": "glute", "gmax": "hamstring"}),
        "channels: 'glute' is given twice",
    ),
    "read a channel name that is not a string": (
        lambda: emg.read(EXAMPLE, {"glute": 1}),  # type: ignore[dict-item]
        "channels: 'glute': 1: a muscle and a channel name are each a string, e.g. "
        "{'glute': 'EMG1'}",
    ),
    "read one string of channels": (
        lambda: emg.read(EXAMPLE, "glute=glute"),
        "channels: 'glute=glute' is one string; give a list of MUSCLE=CHANNEL, e.g. "
        "['glute=EMG1'], or a mapping, e.g. {'glute': 'EMG1'}",
    ),
    "read a stream that is not a name": (
        lambda: emg.read(EXAMPLE, stream=3),  # type: ignore[arg-type]
        "stream: expected the name (or source id) of an XDF stream, a str, got 3 (int)",
    ),
    "fs with a path": (
        lambda: emg.analyze(EXAMPLE, fs=1000),
        "fs: a file has its own sample rate: give fs only with an array",
    ),
    "fs with a recording": (
        lambda: emg.analyze(_recording((GLUTE, HAMSTRING)), fs=1000),
        "fs: a Recording has its own sample rate: give fs only with an array",
    ),
    "channels with a recording": (
        lambda: emg.analyze(_recording((GLUTE, HAMSTRING)), channels=NAMES),
        "channels: a Recording has its channels named: give channels only with an array or a path",
    ),
}


@pytest.mark.parametrize("name", REFUSED)
def test_bad_data_fs_channels_and_paths_are_one_line_naming_the_argument(name: str) -> None:
    call, expected = REFUSED[name]
    assert _message(call) == expected


#: A setting, and the one line it is refused with (as a SettingError).
SETTINGS_REFUSED: dict[str, tuple[dict[str, Any], str]] = {
    "mvc None": (
        {"mvc": {"glute": None}},
        "mvc: glute: expects a number of µV or a source as --mvc takes it (FILE, "
        "FILE:START-END, START-END, 310uv), got None",
    ),
    "mvc True": (
        {"mvc": {"glute": True, "hamstring": 300.0}},
        "mvc: glute: expects a number of µV or a source as --mvc takes it (FILE, "
        "FILE:START-END, START-END, 310uv), got True",
    ),
    "mvc a number": (
        {"mvc": 300.0},
        "mvc: expects one MVC per muscle group, e.g. {'glute': 310.0, 'hamstring': "
        "'trial.csv'}, got 300.0",
    ),
    "mvc a list": (
        {"mvc": [300, 200]},
        "mvc: expects one MVC per muscle group, e.g. {'glute': 310.0, 'hamstring': "
        "'trial.csv'}, got [300, 200]",
    ),
    "mvc a string": (
        {"mvc": "300uv"},
        "mvc: expects one MVC per muscle group, e.g. {'glute': 310.0, 'hamstring': "
        "'trial.csv'}, got '300uv'",
    ),
    "config a dict": (
        {"config": {}},
        "config: expects complete settings, an emg.analysis.pipeline.AnalysisConfig (as "
        "Analysis.settings holds), got dict",
    ),
    "a setting config would ignore": (
        {"config": "settings", "mains": "off"},
        "mains: would be ignored: config is used as it is; set it in config, or leave config out",
    ),
    "db without athlete": (
        {"db": "athletes.sqlite"},
        "db: is where an athlete's sessions are indexed: give the athlete",
    ),
}


@pytest.mark.parametrize("name", SETTINGS_REFUSED)
def test_bad_settings_are_one_line_naming_the_setting(
    name: str, samples: npt.NDArray[np.float32], example: Recording
) -> None:
    options, expected = SETTINGS_REFUSED[name]
    if options.get("config") == "settings":
        options = {**options, "config": emg.analyze(example).settings}
    assert _message(lambda: emg.analyze(samples, 2000.0, NAMES, **options), SettingError) == (
        expected
    )


def test_good_inputs_of_every_kind_give_the_same_numbers(
    samples: npt.NDArray[np.float32], example: Recording
) -> None:
    fs = example.sample_rate
    expected = emg.analyze(samples, fs, NAMES).to_dict()["reps"]
    assert len(expected) == 8
    for data, rate, names in (
        (samples.astype(np.float64), np.float64(fs), tuple(NAMES)),
        (samples.tolist(), int(fs), np.array(NAMES)),
    ):
        analysis = emg.analyze(data, rate, names)  # type: ignore[arg-type]
        assert analysis.to_dict()["reps"] == expected
    by_hand = Recording(samples, fs, example.channels)
    assert emg.analyze(by_hand).to_dict()["reps"] == expected
    # NumPy's numbers as a user passes them: a 0-d array as the rate, a rest as a list or array
    assert emg.analyze(samples, np.array(fs), NAMES).to_dict()["reps"] == expected
    with_rest = emg.analyze(samples, fs, NAMES, rest=(0.5, 2.5)).to_dict()
    for rest in ([0.5, 2.5], np.array([0.5, 2.5])):
        assert emg.analyze(samples, fs, NAMES, rest=rest).to_dict() == with_rest  # type: ignore[arg-type]
    mvc = {"glute": np.float32(300.0), "hamstring": 250}
    assert emg.analyze(samples, fs, NAMES, mvc=mvc).settings.normalisation.method() == "mvc"


def test_numpy_numbers_are_numbers_everywhere_a_number_is_asked(
    samples: npt.NDArray[np.float32], example: Recording
) -> None:
    """A 0-d array, a NumPy scalar: taken as the number they hold (validate's fs escaped as
    a TypeError, a truth's np.float32 onsets were refused); NumPy's bool is no number."""
    grid = emg.validate(fs=np.array(2000.0), snr_db=np.float32(20), leads_ms=[80], seeds=1, reps=3)
    again = emg.validate(fs=2000.0, snr_db=20, leads_ms=[80], seeds=1, reps=3)
    assert grid.keys() == again.keys()
    for name, table in grid.items():
        pd.testing.assert_frame_equal(table, again[name])
    analysis = emg.analyze(samples, example.sample_rate, NAMES)
    truth = [
        {"glute_onset_s": np.float32(r["start_s"]), "hamstring_onset_s": np.float64(r["start_s"])}
        for r in analysis.to_dict()["reps"]
    ]
    scored = emg.score(analysis, {"reps": truth}).summary
    assert scored["onset"]["missed"] == 0
    with pytest.raises(SettingError, match="mvc"):
        emg.analyze(samples, example.sample_rate, NAMES, mvc={"glute": np.True_})


def test_a_channel_the_file_lacks_is_named_as_the_library_takes_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the library's argument, not the command line's option the readers would name otherwise
    said = f"{EXAMPLE}, column 'channels={{\"glute\": \"EMG9\"}}': no channel 'EMG9' (channels: "
    for call in (emg.read, emg.analyze):
        with pytest.raises(EmgInputError) as caught:
            call(EXAMPLE, channels={"glute": "EMG9"})
        assert str(caught.value).startswith(said) and "--channel" not in str(caught.value)
    with pytest.raises(EmgInputError) as caught:  # a BDF file, as strings
        emg.read(EXAMPLE / "bids", channels=["glute=EMG glute", "hamstring=EMG glute"])
    assert "column 'channels={\"hamstring\": \"EMG glute\"}': channel 'EMG glute' is given" in str(
        caught.value
    )
    reps = emg.analyze_many([str(EXAMPLE)], channels={"glute": "EMG9"})
    failure = reps.attrs["failures"]["error"].iloc[0]
    assert failure.startswith(said) and "--channel" not in failure
    # and the command line still names its option
    assert main(["analyze", str(EXAMPLE), "--channel", "glute=EMG9"]) == 2
    assert f"{EXAMPLE}, column '--channel glute=EMG9': no channel" in capsys.readouterr().err
