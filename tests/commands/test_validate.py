"""``emg validate`` refuses an option the validation asked for would ignore, in one line, and
takes every option that applies."""

from __future__ import annotations

import pytest

from emg.cli import build_parser, main
from emg.commands.validate import check_options_apply

TRUTH = ["--truth", "set.truth.json", "set.csv"]
NOT_SYNTHETIC = "does not apply to --truth: it scores the recording given, not synthetic sets"
WITHOUT_TRUTH = (
    "does not apply without --truth: it chooses what is read of the recording scored, and "
    "synthetic sets have their own channels"
)
CHANNEL = f"--channel {WITHOUT_TRUTH}"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            ["--family", "spectral", "--snr-db", "10"],
            "--snr-db does not apply to --family: each family's conditions set their own SNRs",
        ),
        (
            ["--family", "all", "--loss", "0.05"],
            "--loss does not apply to --family: its sets are simulated without packet loss",
        ),
        (
            ["--family", "motor-unit", "--cramp-rep", "0"],  # 0 (no cramp) is given, too
            "--cramp-rep does not apply to --family: its sets have no cramp episode",
        ),
        (["--family", "spectral", "--channel", "glute=EMG1"], CHANNEL),
        (["--seeds", "1", "--channel", "glute=EMG1"], CHANNEL),
        (["--family", "spectral", "--stream", "Left leg"], f"--stream {WITHOUT_TRUTH}"),
        ([*TRUTH, "--snr-db", "10"], f"--snr-db {NOT_SYNTHETIC}"),
        ([*TRUTH, "--cramp-rep", "0"], f"--cramp-rep {NOT_SYNTHETIC}"),
        ([*TRUTH, "--seeds", "3"], f"--seeds {NOT_SYNTHETIC}"),
        ([*TRUTH, "--compare"], f"--compare {NOT_SYNTHETIC}"),
    ],
)
def test_an_option_that_does_not_apply_is_refused(
    options: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each was ignored without a note: ``--family`` simulates its own conditions, ``--truth``
    scores a recording, and only that recording has channels to name."""
    capsys.readouterr()
    status = main(["validate", *options])
    captured = capsys.readouterr()
    assert (status, captured.out) == (2, "")
    assert captured.err == f"emg: error: command line: {expected}\n"


@pytest.mark.parametrize(
    "options",
    [
        ["--family", "spectral", "--lead-ms", "80", "--fs", "1000", "--seeds", "1"],
        ["--family", "all", "--reps", "2", "--compare", "--json", "-k", "5", "--mains", "50"],
        ["--snr-db", "10", "--loss", "0.1", "--cramp-rep", "0", "--lead-ms", "80", "--compare"],
        [*TRUTH, "--channel", "glute=EMG1", "--json", "-k", "5"],
        ["set.csv", "--seeds", "1"],  # no --truth: run_truth says what is missing
    ],
)
def test_the_options_that_apply_are_taken(options: list[str]) -> None:
    check_options_apply(build_parser().parse_args(["validate", *options]))
