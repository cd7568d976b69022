"""``emg report``: the HTML report of a session, its figures, and that it renders."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import emg
from emg.analysis.offline import analyze_recording
from emg.analysis.pipeline import AnalysisConfig
from emg.analysis.settings import settings_to_dict
from emg.analysis.signal_quality import check_signal_quality
from emg.analysis.summary import summarize
from emg.block import Channel
from emg.cli import main as emg_main
from emg.commands import report
from emg.commands.options import analysis_config
from emg.dsp.chain import ChainConfig
from emg.errors import EmgInputError
from emg.io.csv_format import write_emg_csv
from emg.io.open_recording import open_recording
from emg.io.session_writer import SessionWriter
from emg.recording import Recording
from emg.report.content import build_content, rep_list
from emg.report.figures import MAX_PANELS, report_matplotlib_figures, shown_reps
from emg.sources.synthetic import SynthConfig, generate_session
from emg.wording import DISCLAIMER

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "recordings" / "examples" / "hip-thrust-synthetic"
CHROMIUM = Path("/usr/bin/chromium")
FIGURES = {"envelopes", "lead", "ratio", "timeline"}
#: 4 glute-first reps, then 4 hamstring-first (hamstring onset minus glute onset, ms)
LEADS = (90.0, 110.0, 80.0, 100.0, -90.0, -120.0, -100.0, -130.0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emg")
    report.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def _run(*argv: str) -> int:
    args = _parser().parse_args(["report", *argv])
    status: int = args.handler(args)
    return status


def _analysis(path: Path) -> tuple[Recording, dict[str, Any], list[str]]:
    """The analysis as ``emg analyze`` runs it, and the report's summary sentences."""
    recording = open_recording(path)
    args = _parser().parse_args(["report", str(path)])
    result = analyze_recording(recording, analysis_config(args, recording))
    content = build_content(recording, result)
    sentences = [s for p in content.paragraphs for s in p.sentences]
    return recording, summarize(result, recording), sentences


class _Page(HTMLParser):
    """Rows of the rep table, every ``src``/``href`` and whether there is a script."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.sources: list[str] = []
        self.scripts = 0
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.sources += [v or "" for k, v in attrs if k in ("src", "href")]
        if tag == "script":
            self.scripts += 1
        elif tag == "table":
            self._table = values.get("id")
        elif tag == "tr" and self._table == "reps" and "data-rep" in values:
            self.rows.append([])
        elif tag == "td" and self._table == "reps" and self.rows:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _parse(page: str) -> _Page:
    parsed = _Page()
    parsed.feed(page)
    return parsed


def _expected_row(rep: dict[str, Any]) -> list[str]:
    def num(value: float | None, fmt: str) -> str:
        return "–" if value is None else fmt.format(value)

    return [
        str(rep["index"]),
        num(rep["start_s"], "{:.3f}"),
        num(rep["glute_onset_s"], "{:.3f}"),
        num(rep["hamstring_onset_s"], "{:.3f}"),
        num(rep["lead_ms"], "{:+.1f}"),
        num(rep["order_margin_ms"], "{:.1f}"),
        rep["order"] or "–",
        num(rep["ratio"], "{:.2f}"),
        num(rep["decided_at_s"], "{:.3f}"),
    ]


def _assert_self_contained(page: str) -> None:
    parsed = _parse(page)
    assert parsed.scripts == 0
    assert parsed.sources and all(s.startswith("data:image/png;base64,") for s in parsed.sources)
    outside = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert "http" not in outside.lower()
    assert "url(" not in outside and "@import" not in outside


def _assert_report(page: str, summary: dict[str, Any], sentences: list[str]) -> None:
    """Every rep in the table as analysed, the flag, the cramp risk, the summary sentences."""
    rows = _parse(page).rows
    assert [row[:9] for row in rows] == [_expected_row(rep) for rep in summary["reps"]]
    for sentence in sentences:
        assert f"<li>{escape(sentence)}</li>" in page
    flag = next(f for f in summary["flags"] if f["kind"] == "hamstring-first")
    assert f"The hamstring-first flag went up at {flag['time_s']:.1f} s" in page
    assert "Hamstrings are leading — start the rep from the glutes" in page
    risk = summary["cramp_risk"]
    assert f'<span class="value">{risk["level"]}</span>' in page
    assert f"reached {risk['level']} at {risk['time_s']:.1f} s" in page
    for reason in risk["reasons"]:
        assert escape(reason) in page
    assert escape(DISCLAIMER) in page
    _assert_self_contained(page)


# ---------------------------------------------------------------------- the example session


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The example session's report and its PNG folder."""
    folder = tmp_path_factory.mktemp("example")
    out, png = folder / "report.html", folder / "png"
    assert _run(str(EXAMPLE), "--out", str(out), "--png", str(png)) == 0
    return out, png


def test_example_report_has_every_rep_flag_and_risk(example: tuple[Path, Path]) -> None:
    page = example[0].read_text(encoding="utf-8")
    _, summary, sentences = _analysis(EXAMPLE)
    _assert_report(page, summary, sentences)
    truth = json.loads((EXAMPLE / "truth.json").read_text())
    assert [row[6] for row in _parse(page).rows] == [r["order"] for r in truth["reps"]]
    assert "8 reps of the hip thrust were found" in page
    assert "The glutes started 4 of them (reps 1–4), the hamstrings 4 (reps 5–8)." in page
    assert summary["cramp_risk"]["level"] == "warning"
    assert "as recorded" in page  # analysed with the settings the session was recorded with
    assert "No samples were lost in transit." in page
    assert "Mains notch at 50 Hz" in page


def test_png_option_writes_one_png_per_figure(example: tuple[Path, Path]) -> None:
    out, png = example
    files = sorted(png.iterdir())
    assert {f.stem for f in files} == FIGURES and all(f.suffix == ".png" for f in files)
    page = out.read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == len(files)
    for file in files:
        with Image.open(file) as image:
            assert image.format == "PNG" and image.width == 1200 and image.height >= 250


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed (/usr/bin/chromium)")
def test_report_renders_in_headless_chromium(example: tuple[Path, Path], tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1200,3000",
        example[0].resolve().as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    with Image.open(shot) as image:
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3).astype(int)
    assert len(pixels) == 1200 * 3000
    assert (pixels.min(axis=1) < 200).mean() > 0.05  # text and figures, not a blank page
    assert len(np.unique(pixels @ np.array([65536, 256, 1]))) > 200
    for colour in ((0x00, 0x72, 0xB2), (0xE6, 0x9F, 0x00)):  # the figures' glute and hamstring
        near = (np.abs(pixels - np.array(colour)).max(axis=1) <= 12).sum()
        assert near > 500, colour


# ---------------------------------------------------------------------- a synthetic session


@pytest.fixture(scope="module")
def synthetic_session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A recorded session of 4 glute-first then 4 hamstring-first reps, with packet loss and a
    guided calibration's signal check in its metadata; and its ground truth."""
    session = generate_session(SynthConfig(reps=8, lead_ms=LEADS, snr_db=15.0, seed=4, loss=0.01))
    recording = session.recording
    fs = recording.sample_rate
    labels = [c.label for c in recording.channels]
    quality = check_signal_quality(recording.data[: round(2.5 * fs)].astype(float), fs, labels)
    folder = tmp_path_factory.mktemp("synthetic") / "session"
    metadata = {
        "exercise": "hip-thrust",
        "analysis": settings_to_dict(AnalysisConfig(chain=ChainConfig(mains_hz=50.0))),
        "calibration": {
            "rest_s": None,
            "mvc_uv": {},
            "guided": {
                "result": {
                    "quality": quality.to_dict(),
                    "attempts": {"quality": 1, "rest": 2},
                    "warnings": [],
                    "rest_rms_uv": {},
                }
            },
        },
    }
    writer = SessionWriter(folder, recording.channels, fs, metadata)
    for block in recording.blocks(1000):
        writer.write_block(block)
    writer.close()
    return folder, session.truth


def test_synthetic_session_report_matches_the_truth(
    synthetic_session: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    folder, truth = synthetic_session
    out = tmp_path / "report.html"
    assert _run(str(folder), "--out", str(out)) == 0
    page = out.read_text(encoding="utf-8")
    recording, summary, sentences = _analysis(folder)
    _assert_report(page, summary, sentences)
    assert [row[6] for row in _parse(page).rows] == [r["order"] for r in truth["reps"]]
    assert [r["order"] for r in truth["reps"]] == ["glute-first"] * 4 + ["hamstring-first"] * 4
    assert "The glutes started 4 of them (reps 1–4), the hamstrings 4 (reps 5–8)." in page
    # packet loss per channel, from the loss mask and the loss events
    for column, channel in enumerate(recording.channels):
        lost = int(recording.lost[:, column].sum())
        runs = [e for e in recording.events if e.kind == "loss" and e.channel == channel.label]
        assert lost > 0 and runs
        assert f"{channel.label}: {lost} samples lost in transit" in page
        assert f"{len(runs)} loss events in the recording" in page
    # the guided calibration's signal check, as stored
    assert "by the guided calibration (stored with the session)" in page
    assert "Guided calibration: signal check 1 attempt, rest baseline 2 attempts." in page


def test_report_of_a_csv_without_reps(tmp_path: Path) -> None:
    quiet = generate_session(SynthConfig(reps=1, rest_s=8.0, seed=2)).recording
    fs = quiet.sample_rate
    path = tmp_path / "rest.csv"
    write_emg_csv(
        path,
        Recording(quiet.data[: round(6 * fs)], fs, quiet.channels, quiet.lost[: round(6 * fs)]),
    )
    out, png = tmp_path / "rest.html", tmp_path / "png"
    assert _run(str(path), "--out", str(out), "--png", str(png)) == 0
    page = out.read_text(encoding="utf-8")
    assert "No reps were found in the 6 s recorded" in page
    assert "Cramp risk (a training aid, not a diagnosis) stayed at ok" in page
    assert _parse(page).rows == []
    assert [f.name for f in png.iterdir()] == ["timeline.png"]
    _assert_self_contained(page)


# ---------------------------------------------------------------------- bad input, helpers


def test_bad_input_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(EmgInputError, match=re.escape(str(missing))):
        _run(str(missing), "--out", str(tmp_path / "r.html"))
    bad = tmp_path / "bad.csv"
    bad.write_text("hello\n1,2\n")
    with pytest.raises(EmgInputError, match=re.escape(str(bad))):
        _run(str(bad), "--out", str(tmp_path / "r.html"))
    out = tmp_path / "no" / "such" / "folder" / "r.html"
    with pytest.raises(EmgInputError, match=re.escape(str(out))):
        _run(str(EXAMPLE), "--out", str(out))
    assert not out.exists()


def test_rep_list_shortens_runs() -> None:
    assert rep_list([1, 2, 3, 4, 7]) == "1–4, 7"
    assert rep_list([5, 6]) == "5, 6"
    assert rep_list([]) == ""


def test_a_long_set_gives_its_first_and_last_reps_a_panel_and_says_so() -> None:
    """399 reps took 9 minutes to draw as one panel each; the figure keeps 48 (the first and
    last 24) and its caption says so, while the lead figure and the table keep every rep."""
    session = generate_session(SynthConfig(reps=60, seed=3))
    recording = session.recording
    result = analyze_recording(recording, AnalysisConfig())
    summary = summarize(result, recording)
    assert len(summary["reps"]) == 60
    figures = {
        name: (caption, fig)
        for name, _, caption, fig in report_matplotlib_figures(
            result, build_content(recording, result)
        )
    }
    caption, envelopes = figures["envelopes"]
    panels = [ax for ax in envelopes.axes if ax.get_visible()]
    indices = [r["index"] for r in summary["reps"]]
    assert len(panels) == MAX_PANELS == 48
    assert "Of the 60 reps, the first 24 and the last 24 have a panel" in caption
    assert [r["index"] for r in shown_reps(summary["reps"])] == indices[:24] + indices[-24:]
    lead_axes = figures["lead"][1].axes[0]
    assert len(lead_axes.containers[0]) == 60  # one bar per rep


def test_reps_that_could_not_be_called_are_said_with_their_reason() -> None:
    # 30 % of the samples lost in transit: the reps are not called for the loss (a muscle did
    # switch on), and the cramp risk, resting on none of them, is said to say little
    recording, _ = emg.simulate(emg.DEMO_SET, seed=2, loss=0.3)
    analysis = emg.analyze(recording)
    reps = analysis.to_dict()["reps"]
    uncalled = [r for r in reps if r["order"] is None]
    assert len(uncalled) > len(reps) / 2
    sentences = [
        s for p in build_content(recording, analysis.result).paragraphs for s in p.sentences
    ]
    text = " ".join(sentences)
    assert "could not be called: a muscle's samples were lost in transit" in text
    assert "did not switch on" not in text
    called = len(reps) - len(uncalled)
    few = f"only {called}" if called else "none"
    assert f"stayed at ok, but {few} of the {len(reps)} reps could be called" in text
    # a clean set keeps its plain sentence
    clean, _ = emg.simulate(emg.DEMO_SET, seed=2)
    plain = build_content(clean, emg.analyze(clean).result).paragraphs
    assert "could not be called" not in " ".join(s for p in plain for s in p.sentences)


def test_the_settings_shown_are_the_band_the_chain_used(tmp_path: Path) -> None:
    # a session recorded with a 5 kHz low-pass at 2 kHz sampling: the chain stops at 900 Hz
    folder = tmp_path / "session"
    folder.mkdir()
    for name in ("session.json", "samples.f32", "events.jsonl"):
        (folder / name).write_bytes((EXAMPLE / name).read_bytes())
    meta = json.loads((folder / "session.json").read_text())
    meta["analysis"]["chain"]["lowpass_hz"] = 5000.0
    (folder / "session.json").write_text(json.dumps(meta))
    recording = open_recording(folder)
    args = _parser().parse_args(["report", str(folder)])
    config = analysis_config(args, recording)
    assert config.chain.lowpass_hz == 5000.0 and recording.sample_rate == 2000.0
    content = build_content(recording, analyze_recording(recording, config), "as recorded")
    assert dict(content.settings)["band-pass"] == (
        "20–900 Hz (5000 Hz asked: at most 0.45 x the sample rate), order 4"
    )
    assert content.signal_notes[0].startswith(
        "Mains notch at 50 Hz and its harmonics up to 900 Hz;"
    )
    assert content.summary["bandpass_hz"] == [20.0, 900.0]


def test_the_summary_says_a_channel_in_no_pair_is_in_no_rep() -> None:
    """glute_left, hamstring_left and glute_right: the right glute was in no rep, and the
    report did not say so."""
    both = generate_session(SynthConfig(reps=4, seed=1, sides=True)).recording
    keep = [i for i, c in enumerate(both.channels) if c.label != "hamstring_right"]
    three = Recording(both.data[:, keep], both.sample_rate, tuple(both.channels[i] for i in keep))
    content = build_content(three, analyze_recording(three, AnalysisConfig()))
    sentence = "glute_right has no hamstring channel on its side: it is in no rep."
    (paragraph,) = content.paragraphs
    assert paragraph.heading == "" and paragraph.sentences[-1] == sentence
    # beside two sides' paragraphs, under a heading of its own; none when every channel pairs
    extra = (*both.channels, Channel.from_name("glute"))
    five = Recording(np.column_stack([both.data, both.data[:, 0]]), both.sample_rate, extra)
    content = build_content(five, analyze_recording(five, AnalysisConfig()))
    assert [(p.heading, p.sentences[-1]) for p in content.paragraphs[2:]] == [
        (
            "Channels in no pair",
            "glute names no side, and no hamstring channel is without one: it is in no rep.",
        )
    ]
    assert [p.heading for p in content.paragraphs[:2]] == ["Left side", "Right side"]
    whole = build_content(both, analyze_recording(both, AnalysisConfig()))
    assert not any("in no rep" in s for p in whole.paragraphs for s in p.sentences)


def test_a_set_of_both_sides_counts_its_reps_per_side() -> None:
    """4 reps a side were '8 reps' at a glance (and the glute-first count one of 8)."""
    session = generate_session(SynthConfig(reps=4, seed=1, sides=True, lead_ms=80.0))
    both = session.recording
    content = build_content(both, analyze_recording(both, AnalysisConfig()))
    tiles = {g.label: g.value for g in content.glance}
    assert tiles["reps (left · right)"] == "4 · 4"
    assert tiles["glutes first (left · right)"] == "4 · 4"
    assert tiles["hamstrings first (left · right)"] == "0 · 0"
    # a side whose sensors gave nothing is counted, as none
    quiet = both.data.copy()
    right = [i for i, c in enumerate(both.channels) if c.side == "right"]
    quiet[:, right] = np.random.default_rng(0).normal(0.0, 5.0, (len(quiet), len(right)))
    half = Recording(quiet, both.sample_rate, both.channels)
    tiles = {
        g.label: g.value
        for g in build_content(half, analyze_recording(half, AnalysisConfig())).glance
    }
    assert tiles["reps (left · right)"] == "4 · 0"
    one = generate_session(SynthConfig(reps=4, seed=1, lead_ms=80.0)).recording
    single = {
        g.label: g.value
        for g in build_content(one, analyze_recording(one, AnalysisConfig())).glance
    }
    assert (single["reps"], single["glutes first"], single["hamstrings first"]) == ("4", "4", "0")


def test_the_rest_check_is_said_after_the_set_not_as_before_calibrating(tmp_path: Path) -> None:
    """The report said "Signals look good: ready to calibrate." of a finished set (the live
    window's words before calibration)."""
    said = {}
    for name, hum in (("clean", "0"), ("hum", "30")):
        csv, page = tmp_path / f"{name}.csv", tmp_path / f"{name}.html"
        assert emg_main(["synth", str(csv), "--reps", "3", "--mains-uv", hum]) == 0
        assert _run(str(csv), "--out", str(page)) == 0
        text = page.read_text(encoding="utf-8")
        section = text[text.index("<h3>Signal check at rest</h3>") :]
        said[name] = section[section.index("<p>") + 3 : section.index("</p>")]
    assert said["clean"] == "The signals looked good at rest."
    assert said["hum"].startswith("At rest: glute: mains hum (50 Hz) is ")
    assert "calibrat" not in said["clean"] + said["hum"]
