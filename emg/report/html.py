"""The session report as one self-contained HTML page.

Images are embedded as base64 PNG ``data:`` URIs; styles are inline; there is no script and no
external URL, so the file can be mailed, archived or opened offline. Every piece of text is
escaped with :func:`html.escape`. Pure string assembly: no numerics, no file I/O.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from emg.analysis.summary import onset_notes
from emg.analysis.summary_schema import RepRow
from emg.report.content import ReportContent
from emg.report.figures import FigureImage
from emg.version import __version__

STYLE = """
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif;
  color: #222; background: #fff; margin: 0; line-height: 1.45; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px 40px; }
tr.this td { font-weight: bold; }
h1 { font-size: 28px; margin: 8px 0 4px; }
h2 { font-size: 21px; margin: 32px 0 8px; border-bottom: 2px solid #0072B2; padding-bottom: 4px; }
h3 { font-size: 17px; margin: 18px 0 6px; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 8px 0;
  font-size: 14px; }
dl.facts dt { color: #555; }
dl.facts dd { margin: 0; }
.glance { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0; }
.glance div { border: 2px solid #999; border-radius: 8px; padding: 6px 14px; min-width: 110px; }
.glance .label { display: block; font-size: 13px; color: #555; }
.glance .value { display: block; font-size: 22px; font-weight: bold; }
.glance .glute { border-color: #0072B2; }
.glance .hamstring { border-color: #E69F00; }
.glance .ok { border-color: #009E73; }
.glance .watch { border-color: #B8A800; background: #FDFAD9; }
.glance .warning { border-color: #D55E00; background: #FBE7DC; }
ul.summary { font-size: 17px; padding-left: 22px; }
ul.summary li { margin: 4px 0; }
p.note { font-size: 14px; color: #555; font-style: italic; }
figure { margin: 18px 0; }
figure img { max-width: 100%; height: auto; display: block; border: 1px solid #eee; }
figcaption { font-size: 14px; color: #444; margin-top: 4px; }
table { border-collapse: collapse; font-size: 14px; margin: 8px 0 16px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f2f2f2; }
td.text, th.text { text-align: left; }
tr.glute-first td.order { color: #0072B2; font-weight: bold; }
tr.hamstring-first td.order { color: #B36B00; font-weight: bold; }
ul.notes li { margin: 3px 0; }
footer { margin-top: 36px; font-size: 13px; color: #555; }
"""

#: Columns of the rep table: (heading, summary key, format).
REP_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("rep", "index", "{}"),
    ("start (s)", "start_s", "{:.3f}"),
    ("glute onset (s)", "glute_onset_s", "{:.3f}"),
    ("hamstring onset (s)", "hamstring_onset_s", "{:.3f}"),
    ("lead (ms)", "lead_ms", "{:+.1f}"),
    ("margin (ms)", "order_margin_ms", "{:.1f}"),
    ("order", "order", "{}"),
    ("ratio", "ratio", "{:.2f}"),
    ("decided at (s)", "decided_at_s", "{:.3f}"),
)


def cell_text(rep: RepRow, key: str, fmt: str) -> str:
    """One cell of the rep table as text (``–`` for an unknown value)."""
    value = rep.get(key)
    return "–" if value is None else fmt.format(value)


def render_html(content: ReportContent, figures: Sequence[FigureImage]) -> str:
    """The whole report page.

    Parameters
    ----------
    content
        What the report says.
    figures
        Rendered figures, in order; ``envelopes`` goes right after the summary, the others
        in the pattern section.

    Returns
    -------
    str
        A complete HTML5 document (UTF-8).
    """
    named = {f.name: f for f in figures}
    per_rep = [named["envelopes"]] if "envelopes" in named else []
    pattern = [f for f in figures if f.name != "envelopes"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(content.title)} – {escape(content.source)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        _header(content),
        _summary(content),
        _section(
            "per-rep",
            "Every rep",
            "".join(_figure(f) for f in per_rep)
            or "<p>No reps were found, so there are no per-rep figures.</p>",
        ),
        _section("pattern", "Order, ratio and flags", "".join(_figure(f) for f in pattern)),
        _progress(content),
        _quality(content),
        _rep_table(content),
        _footer(content),
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _progress(content: ReportContent) -> str:
    """The athlete's sessions up to this one (nothing on their first)."""
    progress = content.progress
    if progress is None:
        return ""
    head = "".join(
        f"<th>{escape(h)}</th>"
        for h in ("date", "reps", "glute-first", "median lead", "median G:H", "cramp risk")
    )
    this_row, other_row = '<tr class="this">', "<tr>"
    rows = "".join(
        (this_row if this else other_row)
        + "".join(f"<td>{escape(str(cell))}</td>" for cell in cells)
        + "</tr>"
        for *cells, this in progress.rows
    )
    body = (
        f"<p>{escape(progress.sentence)} (this session in bold)</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    )
    return _section("progress", f"Progress of {progress.athlete}", body)


def _section(ident: str, title: str, body: str) -> str:
    return f'<section id="{escape(ident)}">\n<h2>{escape(title)}</h2>\n{body}\n</section>'


def _header(content: ReportContent) -> str:
    facts = "".join(
        f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in content.facts
    )
    return f'<header>\n<h1>{escape(content.title)}</h1>\n<dl class="facts">{facts}</dl>\n</header>'


def _summary(content: ReportContent) -> str:
    glance = "".join(
        f'<div class="{escape(item.tone)}"><span class="label">{escape(item.label)}</span>'
        f'<span class="value">{escape(item.value)}</span></div>'
        for item in content.glance
    )
    body = [f'<div class="glance">{glance}</div>']
    for paragraph in content.paragraphs:
        if paragraph.heading:
            body.append(f"<h3>{escape(paragraph.heading)}</h3>")
        items = "".join(f"<li>{escape(sentence)}</li>" for sentence in paragraph.sentences)
        body.append(f'<ul class="summary">{items}</ul>')
    body.append(f'<p class="note">{escape(content.disclaimer)}</p>')
    return _section("summary", "Summary", "\n".join(body))


def _figure(image: FigureImage) -> str:
    data = base64.b64encode(image.png).decode("ascii")
    return (
        f'<figure id="figure-{escape(image.name)}">\n<h3>{escape(image.title)}</h3>\n'
        f'<img alt="{escape(image.title)}" src="data:image/png;base64,{data}">\n'
        f"<figcaption>{escape(image.caption)}</figcaption>\n</figure>"
    )


def _number(value: float | None, fmt: str) -> str:
    return "–" if value is None else fmt.format(value)


def _quality(content: ReportContent) -> str:
    head = "".join(
        f'<th class="{"text" if i < 2 else ""}">{escape(h)}</th>'
        for i, h in enumerate(
            (
                "channel",
                "sensor",
                "rest level (µV)",
                "rest range (µV)",
                "active level (µV)",
                "SNR (dB)",
                "bursts",
                "median freq. (Hz)",
                "lost samples",
                "gaps (longest)",
            )
        )
    )
    rows = []
    for c in content.channels:
        rest = (
            f"{c.rest_mean_uv:.2f} ± {c.rest_sd_uv:.2f}"
            if c.rest_mean_uv is not None and c.rest_sd_uv is not None
            else "–"
        )
        spread = f"{c.rest_range_uv[0]:.2f}–{c.rest_range_uv[1]:.2f}" if c.rest_range_uv else "–"
        gaps = f"{len(c.loss_runs)} ({c.longest_loss_ms:.0f} ms)" if c.loss_runs else "0"
        cells = [
            f'<td class="text">{escape(c.label)}</td>',
            f'<td class="text">{escape(c.device or "–")}</td>',
            f"<td>{escape(rest)}</td>",
            f"<td>{escape(spread)}</td>",
            f"<td>{escape(_number(c.active_uv, '{:.1f}'))}</td>",
            f"<td>{escape(_number(c.snr_db, '{:.1f}'))}</td>",
            f"<td>{c.bursts}</td>",
            f"<td>{escape(_number(c.median_frequency_hz, '{:.0f}'))}</td>",
            f"<td>{c.lost_samples} ({c.lost_percent:.2f} %)</td>",
            f"<td>{escape(gaps)}</td>",
        ]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    body = [
        "<h3>Signal per channel</h3>",
        f'<table id="channels"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>",
        '<p class="note">Rest level: the RMS envelope\'s baseline (mean ± SD, the last '
        "estimate; range over all estimates of the set). Active level: the mean RMS "
        "envelope over the channel's bursts. SNR: 20·log10(active / rest).</p>",
        "<h3>Mains and packet loss</h3>",
        _list(content.signal_notes),
        "<h3>Calibration</h3>",
        _list(content.calibration_notes),
    ]
    if content.quality is not None:
        body.append(_quality_check(content.quality.origin, content.quality.report))
    return _section("quality", "Calibration and signal quality", "\n".join(body))


def _list(items: Sequence[str]) -> str:
    return '<ul class="notes">' + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def _quality_check(origin: str, report: Mapping[str, Any]) -> str:
    rows = []
    for channel in report.get("channels") or []:
        problems = channel.get("problems") or []
        found = "; ".join(f"{p['message']} — {p['remedy']}" for p in problems) if problems else "ok"
        cells = [
            f'<td class="text">{escape(str(channel.get("label", "")))}</td>',
            f"<td>{escape(_number(channel.get('rms_uv'), '{:.2f}'))}</td>",
            f"<td>{escape(_number(channel.get('mains_ratio_db'), '{:+.1f}'))}</td>",
            f"<td>{escape(_number(channel.get('motion_ratio_db'), '{:+.1f}'))}</td>",
            f'<td class="text">{escape(found)}</td>',
        ]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    head = (
        '<tr><th class="text">channel</th><th>rest RMS (µV)</th><th>mains (dB over band)</th>'
        '<th>motion (dB over band)</th><th class="text">problems and remedies</th></tr>'
    )
    mains = report.get("mains_hz")
    mains_text = f" Mains compared at {mains:g} Hz." if isinstance(mains, (int, float)) else ""
    # after the set: what the check found, not the live window's "ready to calibrate"
    found_at_rest = [
        f"{channel.get('label', '')}: {problem['message']}"
        for channel in report.get("channels", [])
        for problem in channel.get("problems") or []
    ]
    verdict = (
        "At rest: " + "; ".join(found_at_rest) + "."
        if found_at_rest
        else "The signals looked good at rest."
    )
    return (
        "<h3>Signal check at rest</h3>\n"
        f"<p>{escape(verdict)}</p>\n"
        f'<p class="note">Checked {escape(origin)}.{escape(mains_text)}</p>\n'
        f'<table id="signal-check"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _rep_table(content: ReportContent) -> str:
    reps = content.summary["reps"]
    if not reps:
        return _section("reps", "Every rep, in numbers", "<p>No reps.</p>")
    sides = len({r["side"] for r in reps}) > 1
    columns = list(REP_COLUMNS)
    if sides:
        columns.insert(1, ("side", "side", "{}"))
    unit = content.summary["normalisation"]["unit"]
    head = (
        "".join(
            f'<th class="{"text" if key in ("order", "side") else ""}">{escape(h)}</th>'
            for h, key, _ in columns
        )
        + '<th class="text">notes</th>'
    )
    rows = []
    for rep in reps:
        cells = "".join(
            f'<td class="{escape(key.replace("_", "-"))}'
            f'{" text" if key in ("order", "side") else ""}">'
            f"{escape(cell_text(rep, key, fmt))}</td>"
            for _, key, fmt in columns
        )
        notes = onset_notes(rep)
        notes += [f"{m} already active" for m in rep["already_active"]]
        if rep["hamstring_elevated_before"]:
            notes.append("hamstrings not back at rest before it")
        if not rep["complete"]:
            notes.append("still going at the end")
        cells += f'<td class="notes text">{escape("; ".join(notes))}</td>'
        order = escape(str(rep["order"] or "undecided"))
        rows.append(f'<tr class="{order}" data-rep="{int(rep["index"])}">{cells}</tr>')
    body = (
        f'<table id="reps"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        f'<p class="note">Times in seconds from the start of the recording. Lead = hamstring '
        f"onset − glute onset; margin = how far from zero the lead had to be for a side to be "
        f"called. Ratio = glute : hamstring level ({escape(unit)}). Decided at = when the "
        f"order became known during the set.</p>"
    )
    return _section("reps", "Every rep, in numbers", body)


def _footer(content: ReportContent) -> str:
    settings = "".join(
        f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in content.settings
    )
    return (
        "<footer>\n<h3>Analysis settings</h3>\n"
        f'<dl class="facts">{settings}</dl>\n'
        f"<p>Made by emg-toolkit {escape(__version__)} (emg report). "
        f"{escape(content.disclaimer)}</p>\n</footer>"
    )
