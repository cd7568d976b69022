"""``emg profiles`` and ``emg decode``: the sensor profiles, and decoding a field capture."""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from emg.commands.options import add_overwrite_option, add_profiles_option, input_path
from emg.devices.decoding import LOG
from emg.devices.profiles import SensorProfile, load_profiles, profile_folders
from emg.errors import EmgInputError
from emg.io.new_output import check_new_output
from emg.io.output_guard import check_output_path


def add_parsers(commands: Any) -> None:
    """Register ``profiles`` and ``decode``."""
    profiles = commands.add_parser(
        "profiles",
        help="list the sensor profiles",
        description="List the sensor profiles loaded from firmware_configs/*.toml (name, "
        "sample rate, channels, decoder). A bad profile is reported with its file and field.",
    )
    profiles.add_argument(
        "--dir", type=Path, action="append", metavar="DIR", help="read profiles from DIR instead"
    )
    add_profiles_option(profiles)
    profiles.set_defaults(handler=run_profiles)

    decode = commands.add_parser(
        "decode",
        help="decode a capture of notifications into CSV",
        description="Decode a capture of BLE notifications with a profile's decoder, for "
        "debugging field captures. CAPTURE: one notification payload in hex per line, "
        "optionally prefixed by the characteristic UUID and a space; blank lines and lines "
        "starting with # are skipped. Output CSV: sample, one column per channel in "
        "microvolts, lost (1 for samples lost in transit, filled with 0). Malformed packets "
        "are counted and reported with their line, and skipped.",
    )
    decode.add_argument("profile", metavar="PROFILE")
    decode.add_argument("capture", type=input_path, metavar="CAPTURE")
    decode.add_argument("--out", type=Path, metavar="FILE.csv", help="write here, not stdout")
    add_overwrite_option(decode, "the --out file")
    decode.add_argument("--dir", type=Path, action="append", metavar="DIR", help=argparse.SUPPRESS)
    add_profiles_option(decode)
    decode.set_defaults(handler=run_decode)


def _profiles(args: argparse.Namespace) -> dict[str, SensorProfile]:
    return load_profiles(args.dir, extra=args.profiles)


def run_profiles(args: argparse.Namespace) -> int:
    """``emg profiles``."""
    profiles = _profiles(args)
    if not profiles:
        folders = [str(folder) for folder in args.dir or ["firmware_configs"]]
        raise EmgInputError(
            "no sensor profiles (*.toml files) in "
            + ("this folder" if len(folders) == 1 else "these folders"),
            source=", ".join(folders),
        )
    built_in = {folder.resolve() for folder in profile_folders()}
    print(f"{'profile':<16} {'rate Hz':>8} {'ch':>3}  {'decoder':<14} file")
    for profile in profiles.values():
        # a built-in profile by its name, one of the user's with its folder
        own = profile.path.parent.resolve() not in built_in
        print(
            f"{profile.name:<16} {profile.sample_rate:>8g} {profile.channels:>3}  "
            f"{profile.decoder_kind:<14} {profile.path if own else profile.path.name}"
        )
    return 0


@dataclass(frozen=True)
class CaptureLine:
    """One notification line of a capture.

    Attributes
    ----------
    number
        1-based line number in the capture file.
    characteristic
        The characteristic UUID the line names, or None.
    payload
        The notification bytes, or None for a line that is not hex.
    text
        The line as written (stripped).
    """

    number: int
    characteristic: str | None
    payload: bytes | None
    text: str


def capture_lines(path: Path) -> Iterator[CaptureLine]:
    """Every notification line of a capture, in order (blank and ``#`` lines left out).

    A line that is not hex is yielded with ``payload=None``: like a malformed packet, the caller
    reports and skips it.

    Raises
    ------
    EmgInputError
        For a capture file that is missing or cannot be read as UTF-8 text.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EmgInputError("no such capture file", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise EmgInputError(f"cannot read: {error}", source=str(path)) from None
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        characteristic = parts[0].lower() if len(parts) > 1 and "-" in parts[0] else None
        payload_text = "".join(parts[1:] if characteristic else parts)
        try:
            payload: bytes | None = bytes.fromhex(payload_text)
        except ValueError:
            payload = None
        yield CaptureLine(number, characteristic, payload, line)


def run_decode(args: argparse.Namespace) -> int:
    """``emg decode``."""
    profiles = _profiles(args)
    if args.profile not in profiles:
        raise EmgInputError(
            f"no profile '{args.profile}' (profiles: {', '.join(profiles) or 'none'})",
            source="command line",
        )
    profile = profiles[args.profile]
    decoder = profile.decoder()
    lines = capture_lines(args.capture)
    first = next(lines, None)  # a missing or unreadable capture fails before --out is made
    out = _open_out(args.out, args.capture, args.overwrite)
    not_hex = 0
    # each bad packet is reported below with its file and line, not also by the decoder
    level = LOG.level
    LOG.setLevel(logging.ERROR)
    try:
        names = _column_names(profile)
        out.write(",".join(["sample", *names, "lost"]) + "\n")
        sample = 0
        for line in itertools.chain([first] if first else [], lines):
            if line.payload is None:
                not_hex += 1
                _warn(
                    args.capture,
                    line.number,
                    f"skipped a line that is not hex ('{line.text[:40]}')",
                )
                continue
            before = decoder.stats.malformed
            for packet in decoder.decode(line.payload, line.characteristic):
                sample = _write_rows(out, sample, packet.lost, packet.samples)
            if decoder.stats.malformed > before:
                _warn(
                    args.capture,
                    line.number,
                    f"skipped a malformed packet ({decoder.stats.last_error})",
                )
    finally:
        LOG.setLevel(level)
        if out is not sys.stdout:
            out.close()
    stats = decoder.stats
    print(
        f"emg decode: {stats.packets} packets, {stats.samples} samples per channel, "
        f"{stats.lost_samples} lost, {stats.malformed} malformed, {not_hex} not hex",
        file=sys.stderr,
    )
    if not stats.packets and (stats.malformed or not_hex):
        raise EmgInputError(
            f"no packet in it could be decoded as {args.profile}", source=str(args.capture)
        )
    return 0


def _warn(capture: Path, number: int, message: str) -> None:
    print(f"emg decode: {capture}, line {number}: {message}", file=sys.stderr)


def _open_out(path: Path | None, capture: Path, overwrite: bool) -> TextIO:
    """The CSV output: ``path`` opened for writing (never the ``capture`` read, nor an existing
    file unless ``overwrite``), or stdout."""
    if path is None:
        return sys.stdout
    check_output_path(path, reads=capture)
    check_new_output(path, overwrite)
    try:
        return path.open("w", encoding="utf-8")
    except OSError as error:
        raise EmgInputError(
            f"cannot write the --out file: {error.strerror or error}", source=str(path)
        ) from None


def _column_names(profile: SensorProfile) -> list[str]:
    names = list(profile.muscles)
    if len(names) != profile.channels or len(set(names)) != len(names):
        names = [f"ch{i + 1}" for i in range(profile.channels)]
    return names


def _write_rows(out: TextIO, sample: int, lost: int, samples: np.ndarray) -> int:
    zeros = ",".join("0" for _ in range(samples.shape[1]))
    for _ in range(lost):
        out.write(f"{sample},{zeros},1\n")
        sample += 1
    for row in samples:
        out.write(f"{sample}," + ",".join(f"{v:.4f}" for v in row) + ",0\n")
        sample += 1
    return sample
