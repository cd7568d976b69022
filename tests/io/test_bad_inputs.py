"""Every reader against every bad input: one EmgInputError naming the file and the field.

Each case writes a damaged recording into ``tmp_path`` (a copy of the example session, its
BIDS export, a CSV, a BDF or an XDF file) and reads it through
:func:`emg.io.open_recording.open_recording`, the entry point of every command.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyedflib
import pytest
from xdf_writer import XdfStream, write_xdf

from emg.errors import EmgInputError
from emg.events import Event, loss_mask
from emg.io.csv_format import write_emg_csv
from emg.io.edf_format import write_bdf
from emg.io.open_recording import open_recording
from emg.recording import Recording

EXAMPLE = Path(__file__).parents[2] / "recordings" / "examples" / "hip-thrust-synthetic"
BIDS_DATA = "sub-01/emg/sub-01_task-hipthrust_emg.bdf"
BIDS_EVENTS = "sub-01/emg/sub-01_task-hipthrust_events.tsv"
DENIED = "cannot read it: permission denied (check its permissions and owner)"

Case = Callable[[Path, pytest.MonkeyPatch], tuple[Path, str]]


def short_recording(seconds: float = 4.0) -> Recording:
    """The first seconds of the example session (2 kHz, glute and hamstring)."""
    recording = open_recording(EXAMPLE)
    n = round(seconds * recording.sample_rate)
    return Recording(
        data=recording.data[:n].copy(),
        sample_rate=recording.sample_rate,
        channels=recording.channels,
        source="example",
    )


def session_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "session"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("bids"))
    return folder


def bids_copy(tmp_path: Path) -> Path:
    root = tmp_path / "bids"
    shutil.copytree(EXAMPLE / "bids", root)
    return root


def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "set.csv"
    write_emg_csv(path, short_recording())
    return path


def bdf_file(tmp_path: Path) -> Path:
    path = tmp_path / "set.bdf"
    write_bdf(path, short_recording())
    return path


def xdf_file(tmp_path: Path, **changes: Any) -> Path:
    recording = short_recording()
    n = recording.n_samples
    fields: dict[str, Any] = {
        "name": "EMG",
        "type": "EMG",
        "srate": recording.sample_rate,
        "channel_format": "double64",
        "samples": recording.data.astype(np.float64),
        "timestamps": 100.0 + np.arange(n) / recording.sample_rate,
        "channels": [{"label": "glute", "unit": "uV"}, {"label": "hamstring", "unit": "uV"}],
        "clock_offsets": [(100.0, 0.0), (105.0, 0.0)],
    }
    fields.update(changes)
    return write_xdf(tmp_path / "set.xdf", [XdfStream(**fields)])


@pytest.fixture
def deny(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """Make a file unreadable: ``chmod 000``, and (as root, whom the mode does not stop) an
    open that fails with the PermissionError the system would give anyone else."""
    denied: set[str] = set()
    real_open = io.open

    def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, (str, os.PathLike)) and os.path.abspath(file) in denied:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(io, "open", guarded_open)

    def deny_file(path: Path) -> None:
        denied.add(os.path.abspath(path))
        path.chmod(0)

    return deny_file


@pytest.fixture(autouse=True)
def restore_modes(tmp_path: Path) -> Iterator[None]:
    """Give every file its read permission back, so pytest can clean up."""
    yield
    for path in tmp_path.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def huge_signal(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyedflib hands back one sample beyond float32 (an 8-character EDF header cannot say
    more than 1e8 V, so only a damaged reader or file gets there; the check guards it)."""
    real = pyedflib.EdfReader.readSignal

    def read_signal(self: Any, channel: int, *args: Any, **kwargs: Any) -> Any:
        values = np.array(real(self, channel, *args, **kwargs), dtype=np.float64)
        if channel == 0:
            values[1234] = 1e39
        return values

    monkeypatch.setattr(pyedflib.EdfReader, "readSignal", read_signal)


# --- values beyond any amplifier's range (float32's too) ------------------------------------


def csv_beyond_amplifier_range(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    path = csv_file(tmp_path)
    lines = path.read_text().splitlines()
    cells = lines[6].split(",")
    cells[2] = "1e30"  # fits float32, but wrecked the channel's analysis
    lines[6] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    return path, (
        f"{path}, line 7, column 'hamstring': sample 1e+30 is beyond the range of any "
        "surface-EMG amplifier or analog board (±20 V, ±2e+07 µV); the value is damaged or not in "
        "microvolts"
    )


def bdf_beyond_float32_range(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    path = bdf_file(tmp_path)
    huge_signal(monkeypatch)
    return path, (
        f"{path}, column 'EMG glute': sample 1234 (1e+39 µV) is beyond the range of any "
        "surface-EMG amplifier or analog board (±20 V, ±2e+07 µV); the signal's physical range or "
        "unit is damaged"
    )


def bids_beyond_float32_range(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    root = bids_copy(tmp_path)
    huge_signal(monkeypatch)
    return root, (
        f"{root / BIDS_DATA}, column 'EMG glute': sample 1234 (1e+39 µV) is beyond the range of "
        "any surface-EMG amplifier or analog board (±20 V, ±2e+07 µV); the signal's physical "
        "range or unit is damaged"
    )


def xdf_beyond_amplifier_range(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    samples = short_recording().data.astype(np.float64)
    samples[321, 1] = -20000001.5  # just over 20 V
    path = xdf_file(tmp_path, samples=samples)
    return path, (
        f"{path}, column 'hamstring': sample 321 (-20000002 µV) is beyond the range of any "
        "surface-EMG amplifier or analog board (±20 V, ±2e+07 µV); the value is damaged or its "
        "unit wrong"
    )


def native_not_finite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    # samples.f32 is float32 already: a value beyond its range can only be stored as inf
    folder = session_copy(tmp_path)
    with (folder / "samples.f32").open("r+b") as file:
        file.seek((4321 * 2 + 1) * 4)
        file.write(np.float32(np.inf).tobytes())
    return folder, f"{folder / 'samples.f32'}, column 'hamstring': sample 4321 is not a finite"


# --- unreadable files -----------------------------------------------------------------------


def unreadable(make: Callable[[Path], Path], inner: str = "") -> Callable[..., tuple[Path, str]]:
    def case(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deny: Callable[[Path], None]
    ) -> tuple[Path, str]:
        path = make(tmp_path)
        target = path / inner if inner else path
        deny(target)
        return path, f"{target}: {DENIED}"

    return case


def native_metadata_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deny: Callable[[Path], None]
) -> tuple[Path, str]:
    folder = session_copy(tmp_path)
    deny(folder / "session.json")
    return folder, f"{folder / 'session.json'}: cannot read: [Errno 13] Permission denied"


# --- loss events whose sample range is not whole samples ------------------------------------


def bids_loss_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    root = bids_copy(tmp_path)
    events = root / BIDS_EVENTS
    text = events.read_text()
    given = {
        "onset": "1.0",
        "duration": "0.01",
        "trial_type": "loss",
        "channel": "glute",
        "summary": "glute 20 samples",
        "detail": '{"start":2000.5,"stop":2020}',
    }
    header = text.splitlines()[0].split("\t")
    events.write_text(text + "\t".join(given.get(c, "n/a") for c in header) + "\n")
    line = len(text.splitlines()) + 1
    return root, (
        f"{events}, line {line}, column 'detail': loss event field 'data.start' must be a whole "
        "sample index, got 2000.5"
    )


# --- XDF headers and time stamps ------------------------------------------------------------


def xdf_absurd_rate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    path = xdf_file(tmp_path, srate=1e9)
    return path, (
        f"{path}: stream 'EMG': nominal_srate 1e+09 Hz is not a plausible EMG sample rate (at "
        "most 100000 Hz); the stream header is damaged"
    )


def xdf_nan_stamp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    recording = short_recording(12.0)
    stamps = 100.0 + np.arange(recording.n_samples) / recording.sample_rate
    stamps[20000] = np.nan
    path = xdf_file(
        tmp_path, samples=recording.data.astype(np.float64), timestamps=stamps, chunk_size=1000
    )
    return path, f"{path}: stream 'EMG': the time stamp of sample 20000 is not finite"


def native_t0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    folder = session_copy(tmp_path)
    meta = json.loads((folder / "session.json").read_text())
    meta["t0"] = "abc"
    (folder / "session.json").write_text(json.dumps(meta))
    return folder, (
        f"{folder / 'session.json'}: field 't0': the time of the first sample must be a number "
        "of seconds, got 'abc'"
    )


CASES: dict[str, Callable[..., tuple[Path, str]]] = {
    "csv beyond any amplifier": csv_beyond_amplifier_range,
    "bdf beyond float32": bdf_beyond_float32_range,
    "bids beyond float32": bids_beyond_float32_range,
    "xdf beyond any amplifier": xdf_beyond_amplifier_range,
    "native inf sample": native_not_finite,
    "csv unreadable": unreadable(csv_file),
    "bdf unreadable": unreadable(bdf_file),
    "bids data unreadable": unreadable(bids_copy, BIDS_DATA),
    "bids events unreadable": unreadable(bids_copy, BIDS_EVENTS),
    "xdf unreadable": unreadable(xdf_file),
    "native samples unreadable": unreadable(session_copy, "samples.f32"),
    "native events unreadable": unreadable(session_copy, "events.jsonl"),
    "native metadata unreadable": native_metadata_unreadable,
    "bids loss start": bids_loss_start,
    "xdf srate 1e9": xdf_absurd_rate,
    "xdf NaN time stamp": xdf_nan_stamp,
    "native t0 not a number": native_t0,
}


@pytest.mark.parametrize("name", CASES)
def test_reader_refuses_with_one_line_naming_file_and_field(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    deny: Callable[[Path], None],
) -> None:
    case = CASES[name]
    needs_deny = "deny" in case.__code__.co_varnames[: case.__code__.co_argcount]
    path, expected = (
        case(tmp_path, monkeypatch, deny) if needs_deny else case(tmp_path, monkeypatch)
    )
    with pytest.raises(EmgInputError) as raised:
        open_recording(path)
    message = str(raised.value)
    assert message.startswith(expected), message
    assert "\n" not in message and "Traceback" not in message


def test_permission_is_really_refused_at_open(tmp_path: Path, deny: Callable[[Path], None]) -> None:
    # the simulated refusal is what the system gives a user without read permission
    path = csv_file(tmp_path)
    deny(path)
    with pytest.raises(PermissionError), open(path):
        pass


def test_unreadable_folder_in_a_batch_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emg.io.batch_inputs import expand_inputs

    folder = tmp_path / "locked"
    folder.mkdir()
    real = Path.iterdir

    def iterdir(self: Path) -> Iterator[Path]:
        if self == folder:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    with pytest.raises(EmgInputError, match=re.escape(f"{folder}: {DENIED}")):
        expand_inputs([tmp_path])


def test_loss_events_need_whole_sample_indices() -> None:
    good = Event(0.5, "loss", "glute 10 samples", 0.005, "glute", {"start": 1000, "stop": 1010})
    assert loss_mask([good], ["glute"], 2000.0, 2000)[:, 0].sum() == 10
    for data, field in (
        ({"start": 1.5, "stop": 3}, "data.start"),
        ({"start": 1, "stop": None}, "data.stop"),
        ({"start": True, "stop": 3}, "data.start"),
        ({"start": 9, "stop": 3}, "data.stop"),
    ):
        with pytest.raises(ValueError, match=re.escape(f"loss event field '{field}'")):
            Event(0.5, "loss", "glute", 0.0, "glute", data)
