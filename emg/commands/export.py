"""``emg export``: a recording to BIDS-EMG, BDF+ or CSV."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from emg.commands.record import add_channel_option, open_input
from emg.io.csv_format import write_emg_csv, write_events_csv
from emg.io.open_recording import READABLE


def add_parser(commands: Any) -> None:
    """Register ``export``."""
    export = commands.add_parser(
        "export",
        help="export a recording to BIDS-EMG, BDF+ or CSV",
        description=f"Export a recording ({READABLE}) for other tools: a BIDS-EMG dataset "
        "(BDF+ with _emg.json, _channels.tsv and _events.tsv sidecars), one BDF+ file with "
        "the events as annotations (EDFbrowser, MNE), or CSV (time, channels in "
        "microvolts, loss columns) with the events in OUT.events.csv.",
    )
    export.add_argument("input", type=Path, metavar="SESSION")
    export.add_argument("--to", choices=["bids", "bdf", "csv"], required=True)
    export.add_argument("out", type=Path, metavar="OUT", help="dataset folder or file to write")
    export.add_argument("--subject", help="BIDS subject label (default: the session's, or 01)")
    export.add_argument("--task", help="BIDS task label (default: from the exercise)")
    add_channel_option(export)
    export.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    """``emg export``."""
    recording = open_input(args.input, args.channel)
    if args.to == "bids":
        from emg.io.bids_format import export_bids

        written = export_bids(recording, args.out, subject=args.subject, task=args.task)
        print(f"wrote BIDS-EMG dataset {args.out} ({written.name})")
    elif args.to == "bdf":
        from emg.io.edf_format import write_bdf

        write_bdf(args.out, recording)
        print(f"wrote {args.out} ({len(recording.events)} events as annotations)")
    else:
        write_emg_csv(args.out, recording)
        events = write_events_csv(args.out, recording.events)
        print(f"wrote {args.out} and {events}")
    return 0
