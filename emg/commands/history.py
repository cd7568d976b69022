"""``emg history`` and ``emg athletes``: an athlete's sessions across days, from the database
beside the recordings."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from emg.analysis.pipeline import AnalysisConfig
from emg.athlete_db import DB_NAME, refuse_folder
from emg.athlete_history import (
    DEFAULT_RECORDINGS,
    ReusedMvc,
    athletes,
    history,
    history_table,
    history_trend,
    rebuild,
    recording_settings,
)
from emg.athlete_name_text import athlete_name, shown_name
from emg.commands.options import option_error
from emg.dsp.chain_limits import SettingError
from emg.errors import EmgInputError
from emg.io.json_files import to_json
from emg.io.new_output import check_new_output
from emg.io.output_guard import check_output_path
from emg.recording import Recording


def add_db_option(parser: argparse.ArgumentParser, default: str) -> None:
    """``--db PATH``: the athletes' database."""
    parser.add_argument(
        "--db", type=Path, metavar="PATH", help=f"the athletes' database (default: {default})"
    )


def add_athlete_options(parser: argparse.ArgumentParser, where: str) -> None:
    """``--athlete NAME`` and ``--db PATH`` of the commands that index a session."""
    parser.add_argument(
        "--athlete",
        metavar="NAME",
        help="index the session under this athlete in the database beside the recordings "
        "(names stay on this computer; emg history NAME shows the sessions)",
    )
    parser.add_argument(
        "--reuse-mvc",
        action="store_true",
        help="with --athlete and no --mvc: normalise to the MVC of the athlete's latest "
        "earlier session recorded with the same sensors (its date is shown)",
    )
    add_db_option(parser, f"{DB_NAME} {where}")


def athlete_option(args: argparse.Namespace) -> str | None:
    """The ``--athlete`` given, as the history keeps it (None without).

    Raises
    ------
    EmgInputError
        Naming ``--athlete``, for a name the history cannot keep.
    """
    if getattr(args, "athlete", None) is None:
        return None
    try:  # an empty name too is refused, not taken for none
        return athlete_name(args.athlete)
    except SettingError as error:
        raise option_error(error) from None


def with_athlete_band(
    config: AnalysisConfig, args: argparse.Namespace, recording: Recording, path: Path
) -> AnalysisConfig:
    """``config`` with the ``--athlete``'s own band from their sessions before this one (as
    :func:`emg.athlete_history.athlete_settings` decides it) and, with ``--reuse-mvc``, an
    earlier session's MVC; unchanged without ``--athlete``."""
    athlete = athlete_option(args)
    if athlete is None:
        if getattr(args, "reuse_mvc", False):
            raise EmgInputError("--reuse-mvc needs --athlete", source="command line")
        return config
    reuse = bool(getattr(args, "reuse_mvc", False))
    config, reused = recording_settings(config, athlete, recording, path, args.db, reuse)
    if reuse:
        say_reused_mvc(reused)
    return config


def say_reused_mvc(reused: ReusedMvc | None) -> None:
    """One line on stderr saying whose MVC the levels are normalised to (or that none was)."""
    if reused is None:
        print(
            "no earlier session with the same sensors and an MVC: levels in x rest", file=sys.stderr
        )
        return
    values = ", ".join(f"{g} {v:.0f} uV" for g, v in reused.mvc_uv.items())
    when = (reused.date or "an undated session")[:10]
    print(f"MVC from the session of {when} ({values})", file=sys.stderr)


def add_parsers(commands: Any) -> None:
    """Register ``history`` and ``athletes``."""
    parser = commands.add_parser(
        "history",
        help="an athlete's sessions across days and the trend",
        description="One row per session of an athlete (date, exercise, reps, share of reps "
        "the glutes started, median lead and ratio, flags, highest cramp risk, the session's "
        "folder) and the change from the first session to the last. --rebuild recreates the "
        "database from the session folders beside it.",
    )
    parser.add_argument("athlete", nargs="?", metavar="NAME")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--plot", type=Path, metavar="PNG", help="also draw the trend into PNG")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace the --plot file if it exists"
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="recreate the database from the session folders"
    )
    add_db_option(parser, str(DEFAULT_RECORDINGS / DB_NAME))
    parser.set_defaults(handler=run_history)
    listing = commands.add_parser("athletes", help="the athletes in the database")
    add_db_option(listing, str(DEFAULT_RECORDINGS / DB_NAME))
    listing.set_defaults(handler=run_athletes)


def _db(args: argparse.Namespace) -> Path:
    db = Path(args.db) if args.db else DEFAULT_RECORDINGS / DB_NAME
    refuse_folder(db)
    return db


def run_history(args: argparse.Namespace) -> int:
    """``emg history``."""
    plot = None
    if args.plot is not None:
        from emg.report.history_figure import check_figure_path

        plot = check_figure_path(args.plot, "--plot")
        if plot.is_dir():
            raise EmgInputError("is a folder: name the figure's file in it", source=str(plot))
        check_output_path(plot)
        check_new_output(plot, args.overwrite)
    db = _db(args)
    name = None if args.athlete is None else _name_argument(args.athlete)
    if args.rebuild:
        done = rebuild(db)
        for folder, reason in done.failed:
            earlier = "; its earlier entry kept" if folder in done.kept_earlier else ""
            print(f"not indexed: {reason}{earlier}")
        for folder, athlete in done.dropped:
            print(f"dropped: {folder} (indexed under {shown_name(athlete)}): no longer there")
        for folder, copy in done.copies:
            print(f"dropped: {folder}: the same session is indexed from {copy}")
        kept = (
            f", {len(done.kept)} kept as indexed (files, or folders not below the database "
            "or naming no athlete)"
            if done.kept
            else ""
        )
        count = len(done.indexed)
        sessions = f"{count} session{'' if count == 1 else 's'}"
        print(f"rebuilt {db}: {sessions} from the session folders{kept}")
        if name is None:
            return 1 if done.failed else 0
    if name is None:
        raise EmgInputError("name an athlete (emg athletes lists them)", source="command line")
    if not db.is_file():
        raise EmgInputError(
            "no athletes' database here yet (record with --athlete)", source=str(db)
        )
    entries = history(name, db)
    table = history_table(entries)
    change = history_trend(entries)
    if plot is not None:
        from emg.report.history_figure import write_history_figure

        write_history_figure(table, plot, shown_name(entries[0].athlete))
        print(f"wrote {plot}", file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(
            to_json(
                {
                    "athlete": entries[0].athlete,
                    "sessions": table.to_dict(orient="records"),
                    "trend": dataclasses.asdict(change),
                }
            )
        )
        return 0
    print(table.astype(object).where(table.notna(), "-").to_string(index=False))
    if change.glute_first_share is not None:
        print(
            f"\nfirst to last of {change.sessions} {change.exercise} sessions: glute-first share "
            f"{change.glute_first_share:+.0%}"
            + (
                f", median lead {change.median_lead_ms:+.0f} ms"
                if change.median_lead_ms is not None
                else ""
            )
        )
    return 0


def _name_argument(text: str) -> str:
    """The athlete ``NAME`` given to ``emg history``, as the history keeps it.

    Raises
    ------
    EmgInputError
        Naming ``NAME``, for a name the history cannot keep.
    """
    try:
        return athlete_name(text)
    except SettingError as error:
        raise EmgInputError(f"NAME: {error.reason}", source="command line") from None


def run_athletes(args: argparse.Namespace) -> int:
    """``emg athletes``."""
    db = _db(args)
    if not db.is_file():
        print("no athletes yet")
        return 0
    for name in athletes(db):
        print(shown_name(name))
    return 0
