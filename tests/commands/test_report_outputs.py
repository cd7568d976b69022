"""``emg report``: an existing report or PNG is kept unless ``--overwrite``, as ``emg export``,
``emg synth`` and ``emg decode`` keep their outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from emg.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "recordings" / "examples" / "hip-thrust-synthetic"
#: The PNGs ``--png`` writes for the example session (it has reps).
PNGS = ["envelopes.png", "lead.png", "ratio.png", "timeline.png"]


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


def _refused(path: Path) -> str:
    return (
        f"emg: error: {path}: exists already: pass --overwrite to replace it, or name another "
        "output"
    )


def test_a_report_over_an_existing_file_is_refused_unless_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    out.write_text("an earlier report")
    assert main(["report", str(EXAMPLE), "--out", str(out)]) == 2
    assert _one_line(capsys) == _refused(out)
    assert out.read_text() == "an earlier report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no leftover
    assert main(["report", str(EXAMPLE), "--out", str(out), "--overwrite"]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_an_existing_png_is_refused_before_anything_is_written_unless_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, png = tmp_path / "report.html", tmp_path / "png"
    png.mkdir()
    (png / "timeline.png").write_bytes(b"an earlier figure")
    assert main(["report", str(EXAMPLE), "--out", str(out), "--png", str(png)]) == 2
    assert _one_line(capsys) == _refused(png / "timeline.png")
    assert not out.exists()  # neither the report nor any other PNG was written
    assert [p.name for p in png.iterdir()] == ["timeline.png"]
    assert (png / "timeline.png").read_bytes() == b"an earlier figure"
    argv = ["report", str(EXAMPLE), "--out", str(out), "--png", str(png), "--overwrite"]
    assert main(argv) == 0
    assert sorted(p.name for p in png.iterdir()) == PNGS
    assert (png / "timeline.png").read_bytes().startswith(b"\x89PNG")


def test_a_png_folder_that_cannot_be_made_leaves_the_earlier_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, png = tmp_path / "report.html", tmp_path / "afile"
    out.write_text("an earlier report")
    png.write_text("a file, not a folder")
    assert main(["report", str(EXAMPLE), "--out", str(out), "--png", str(png), "--overwrite"]) == 2
    assert _one_line(capsys) == (
        f"emg: error: {png}: cannot create the PNG folder: a file has that name"
    )
    assert out.read_text() == "an earlier report"
    fresh = tmp_path / "fresh.html"
    assert main(["report", str(EXAMPLE), "--out", str(fresh), "--png", str(png / "sub")]) == 2
    capsys.readouterr()
    assert not fresh.exists()
