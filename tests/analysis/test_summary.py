"""The analysis summary's words about its levels: an MVC trial that was no maximal contraction
(a rest stretch given as the MVC) is said, a real one is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from emg.cli import main


def _said(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    capsys.readouterr()
    assert main(["analyze", *argv]) == 0
    return [line.strip() for line in capsys.readouterr().out.splitlines() if "%MVC:" in line]


def test_an_mvc_taken_from_rest_is_said(set_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mvc = [f"--mvc=glute={set_csv}:0-2", f"--mvc=hamstring={set_csv}:0-2"]  # the lead-in: rest
    said = _said(capsys, str(set_csv), *mvc)
    assert [line.split(":")[0] for line in said] == ["glute", "hamstring"]
    for line in said:
        median = float(line.split("median level is ")[1].split(" %MVC")[0])
        assert median > 300
        assert line.endswith(
            "%MVC: the --mvc value or trial was no maximal contraction (a rest stretch?); give one"
        )
    # a stretch of the first rep's contraction: levels about 100 %MVC, nothing said
    rep = [f"--mvc=glute={set_csv}:3-5", f"--mvc=hamstring={set_csv}:3-5"]
    assert _said(capsys, str(set_csv), *rep) == []
    assert _said(capsys, str(set_csv)) == []  # levels in multiples of rest
