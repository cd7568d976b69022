"""``emg export``: a recording to BIDS-EMG, BDF+ or CSV."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from emg.commands.options import add_channel_option, add_overwrite_option, input_path, read_input
from emg.errors import EmgInputError
from emg.io.csv_format import events_csv_path, write_csv_sidecar, write_emg_csv, write_events_csv
from emg.io.new_output import check_new_output
from emg.io.open_recording import READABLE
from emg.io.output_guard import check_output_path, staged, staged_folder
from emg.io.recording_sidecar import sidecar_path, write_sidecar
from emg.settings_resolution import with_settings_to_export


def add_parser(commands: Any) -> None:
    """Register ``export``."""
    export = commands.add_parser(
        "export",
        help="export a recording to BIDS-EMG, BDF+ or CSV",
        description=f"Export a recording ({READABLE}) for other tools: a BIDS-EMG dataset "
        "(BDF+ with _emg.json, _channels.tsv and _events.tsv sidecars), one BDF+ file with "
        "the events as annotations (EDFbrowser, MNE) and the analysis settings in OUT.emg.json, "
        "or CSV (time, channels in microvolts, loss columns) with the events in "
        "OUT.events.csv and the settings in OUT.emg.json.",
    )
    export.add_argument("input", type=input_path, metavar="SESSION")
    export.add_argument("--to", choices=["bids", "bdf", "csv"], required=True)
    export.add_argument(
        "out",
        type=Path,
        metavar="OUT",
        help="dataset folder or file to write (.bdf or .csv added when OUT has no ending)",
    )
    add_overwrite_option(
        export, "OUT (with --to bids, the dataset's recording of this subject and task)"
    )
    export.add_argument("--subject", help="BIDS subject label (default: the session's, or 01)")
    export.add_argument("--task", help="BIDS task label (default: from the exercise)")
    export.add_argument(
        "--anonymise",
        action="store_true",
        help="leave out what names the person: the athlete's name, the start date and time, "
        "the sensors' own names; the subject becomes --subject (default 01)",
    )
    bids = export.add_argument_group("BIDS dataset metadata (--to bids; each where BIDS puts it)")
    bids.add_argument(
        "--authors", metavar="'NAME; NAME'", help="the dataset's authors, separated by ';'"
    )
    bids.add_argument("--license", metavar="SPDX", help="the dataset's licence, e.g. CC-BY-4.0")
    bids.add_argument("--institution", help="the institution in charge of the equipment")
    bids.add_argument("--institution-address", metavar="ADDRESS", help="its address")
    bids.add_argument("--department", help="its department")
    bids.add_argument("--instructions", metavar="TEXT", help="what the participants were told")
    bids.add_argument("--electrode-manufacturer", metavar="NAME", help="who made the electrodes")
    bids.add_argument("--electrode-model", metavar="MODEL", help="the electrodes' model")
    add_channel_option(export)
    export.set_defaults(handler=run_export)


#: The file ending each file export is written with (and read back by).
SUFFIXES = {"bdf": (".bdf",), "csv": (".csv", ".txt")}


def output_path(out: Path, kind: str) -> Path:
    """Where ``emg export --to KIND OUT`` writes: ``OUT`` with the format's ending added when
    it has none (``set`` -> ``set.csv``), so that ``emg analyze`` reads what was written.

    Raises
    ------
    EmgInputError
        For an ending that names another format (``set.edf`` for ``--to bdf``).
    """
    endings = SUFFIXES.get(kind)
    if endings is None:
        return out
    if not out.suffix:
        return out.with_name(out.name + endings[0])
    if out.suffix.lower() not in endings:
        raise EmgInputError(
            f"--to {kind} writes {' or '.join(endings)} files, not '{out.suffix}': name the "
            f"output {out.stem}{endings[0]} (or leave the ending out)",
            source=str(out),
        )
    return out


#: Options of a BIDS dataset only, by attribute (the others' files have nowhere to keep them).
BIDS_ONLY = {
    "task": "--task",
    "authors": "--authors",
    "license": "--license",
    "institution": "--institution",
    "institution_address": "--institution-address",
    "department": "--department",
    "instructions": "--instructions",
    "electrode_manufacturer": "--electrode-manufacturer",
    "electrode_model": "--electrode-model",
}


def run_export(args: argparse.Namespace) -> int:
    """``emg export``."""
    if args.to != "bids":
        given = [option for name, option in BIDS_ONLY.items() if getattr(args, name) is not None]
        if given:
            raise EmgInputError(
                f"{given[0]} applies to --to bids only: a {args.to.upper()} file has nowhere "
                "to keep it",
                source="command line",
            )
    out = output_path(args.out, args.to)
    # a CSV export writes its events and sidecar beside it, a BDF export the sidecar with the
    # analysis settings: each is checked as the file is
    outputs = {
        "csv": [out, events_csv_path(out), sidecar_path(out)],
        "bdf": [out, sidecar_path(out)],
    }.get(args.to, [out])
    for path in outputs:
        check_output_path(path, reads=args.input, dataset=args.to == "bids")
        if args.to != "bids":
            check_new_output(path, args.overwrite)
    if args.to == "bids" or args.anonymise:
        from emg.io.bids_format import bids_label

        if args.subject is not None:
            bids_label(args.subject, "subject", "--subject")
        if args.task is not None and args.to == "bids":
            bids_label(args.task, "task", "--task")
    # what it is analysed as travels with it (a session.json without its settings' exercise)
    recording = with_settings_to_export(read_input(args.input, args.channel, args.stream))
    if args.anonymise:
        from emg.io.anonymise import anonymised

        recording = anonymised(recording, args.subject or "01")
    if args.to == "bids":
        from emg.io.bids_format import DatasetInfo, export_bids

        info = DatasetInfo(
            authors=tuple(a.strip() for a in (args.authors or "").split(";") if a.strip()),
            license=args.license,
            institution=args.institution,
            institution_address=args.institution_address,
            department=args.department,
            instructions=args.instructions,
            electrode_manufacturer=args.electrode_manufacturer,
            electrode_model=args.electrode_model,
        )
        # only the files this export writes are staged: the dataset's other subjects stay
        with staged_folder(args.out) as staging:
            written = export_bids(
                recording,
                args.out,
                subject=args.subject,
                task=args.task,
                info=info,
                staging=staging,
                overwrite=args.overwrite,
            )
        print(f"wrote BIDS-EMG dataset {args.out} ({written.name})")
    elif args.to == "bdf":
        from emg.io.edf_format import recording_events, write_bdf

        with staged(out) as path:
            write_bdf(path, recording)
            sidecar = out.parent / write_sidecar(path, recording).name
        settings = ", analysis settings" if recording.metadata.get("analysis") else ""
        print(
            f"wrote {out} ({len(recording_events(recording))} events as annotations) and "
            f"{sidecar} (sample rate{settings})"
        )
    else:
        with staged(out) as path:
            write_emg_csv(path, recording)
            events = out.parent / write_events_csv(path, recording.events).name
            sidecar = out.parent / write_csv_sidecar(path, recording).name
        settings = ", analysis settings" if recording.metadata.get("analysis") else ""
        print(f"wrote {out}, {events} and {sidecar} (sample rate, units{settings})")
    return 0
