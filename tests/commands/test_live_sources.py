"""``emg record`` and ``emg live`` refuse ``--sensor``, ``--channel`` and the synthetic set's
options with a source that does not use them (given, they were ignored), in one line and before
anything is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from emg.cli import build_parser, main
from emg.commands.live_sources import check_source_options

SENSOR = "it names the Bluetooth sensors of --source ble"


@pytest.mark.parametrize("command", ["record", "live"])
@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            ["--sensor", "glute=EMG-01A3"],
            f"--sensor does not apply to --source synthetic: {SENSOR}",
        ),
        (
            ["--source", "synthetic", "--channel", "glute=EMG1"],
            "--channel does not apply to --source synthetic: its channels are generated, named "
            "by muscle already",
        ),
        (
            ["--source", "ble", "--sensor", "glute=EMG-01A3", "--channel", "glute=EMG1"],
            "--channel does not apply to --source ble: --sensor MUSCLE=NAME gives each sensor's "
            "muscle",
        ),
        (
            ["--source", "lsl:Trigno", "--sensor", "glute=EMG-01A3"],
            f"--sensor does not apply to --source lsl:Trigno: {SENSOR}",
        ),
        (
            ["--source", "ble", "--sensor", "glute=EMG-01A3", "--snr-db", "5"],
            "--snr-db does not apply to --source ble: it describes the set --source synthetic "
            "generates",
        ),
        # these three were ignored without a word
        (
            ["--profiles", "nodir"],
            "--profiles does not apply to --source synthetic: it is for the Bluetooth sensors "
            "of --source ble",
        ),
        (
            ["--source", "lsl:Trigno", "--radio", "bumble:usb:0"],
            "--radio does not apply to --source lsl:Trigno: it is for the Bluetooth sensors of "
            "--source ble",
        ),
        (
            ["--stream", "EMG"],
            "--stream does not apply to --source synthetic: it chooses the EMG stream of a "
            "replayed XDF file",
        ),
        (
            ["--source", "lsl:Trigno", "--reps", "3", "--loss", "0.1"],
            "--reps does not apply to --source lsl:Trigno: it describes the set --source "
            "synthetic generates",
        ),
    ],
)
def test_an_option_the_source_does_not_use_is_refused(
    command: str,
    options: list[str],
    expected: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "sessions"
    extra = ["--record"] if command == "live" else []
    capsys.readouterr()
    status = main([command, *options, "--duration", "1", "--out", str(out), *extra])
    captured = capsys.readouterr()
    assert (status, captured.out) == (2, "")
    assert captured.err == f"emg: error: command line: {expected}\n"
    assert not out.exists()


def test_live_replay_takes_channels_not_sensors(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    status = main(["live", "--source", "replay", "set.csv", "--sensor", "glute=EMG-01A3"])
    assert status == 2
    assert capsys.readouterr().err == (
        f"emg: error: command line: --sensor does not apply to --source replay: {SENSOR}\n"
    )
    args = ["live", "--source", "replay", "set.csv", "--channel", "glute=EMG1"]
    check_source_options(build_parser().parse_args(args))
    status = main(["live", "--source", "replay", "set.csv", "--cramp-rep", "3"])
    assert status == 2
    assert capsys.readouterr().err == (
        "emg: error: command line: --cramp-rep does not apply to --source replay: it describes "
        "the set --source synthetic generates\n"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["record", "--source", "ble", "--sensor", "glute=EMG-01A3"],
        ["live", "--source", "ble", "--sensor", "glute=EMG-01A3"],
        ["record", "--source", "lsl:Trigno", "--channel", "glute=EMG1"],
        ["live", "--source", "lsl:Trigno", "--channel", "glute=EMG1"],
        ["record", "--source", "synthetic", "--reps", "3"],
        ["live"],
    ],
)
def test_the_options_a_source_uses_are_taken(argv: list[str]) -> None:
    check_source_options(build_parser().parse_args(argv))


def test_an_out_folder_that_cannot_be_made_is_one_line_before_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("not a folder")
    out = tmp_path / "file" / "recordings"
    assert main(["record", "--source", "synthetic", "--duration", "2", "--out", str(out)]) == 2
    assert capsys.readouterr() == (
        "",
        f"emg: error: {out}: --out cannot be made: cannot write (Not a directory)\n",
    )
