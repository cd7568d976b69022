"""BIDS-EMG (BIDS 1.11): exporting a recording into a dataset, and reading one back.

A recording becomes (``[...]`` only when given)::

    dataset_description.json, README, participants.tsv
    sub-<s>/[ses-<x>/]emg/sub-<s>[_ses-<x>]_task-<t>[_run-<n>]_emg.bdf      (BDF+, raw µV)
                                                              _emg.json     (sidecar)
                                                              _channels.tsv
                                                              _events.tsv, _events.json
    sub-<s>/[ses-<x>/]sub-<s>[_ses-<x>]_scans.tsv               (start time, if known)

The stored samples are raw: the analysis band-pass and notch are never applied to them, so
``SoftwareFilters`` is ``"n/a"``. Electrode sites follow SENIAM (``EMGPlacementScheme``
``"Other"``, described in ``EMGPlacementSchemeDescription`` and per channel in
``channels.tsv``). The wearable sensors the toolkit reads each carry their own electrode
pair, so ``EMGReference`` is ``"Bipolar"``. ``events.tsv`` keeps every event in full (kind
as ``trial_type``, channel, description and the detail as JSON); the BDF+ annotations hold
the same events in short.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from emg.block import Channel
from emg.errors import EmgInputError
from emg.events import EVENT_KINDS, REP_COLUMNS, Event, event_kind, loss_mask, rep_columns
from emg.io.channel_map import SourceChannel, signal_type
from emg.io.edf_format import bdf_labels, read_edf, recording_events, relabel_events, write_bdf
from emg.io.json_files import SETTINGS_KEY, read_json, write_json
from emg.io.new_output import check_new_output
from emg.io.read_errors import read_error
from emg.io.session_format import METADATA_FILE
from emg.muscles import parse_muscle_name
from emg.recording import Recording
from emg.version import __version__

#: BIDS version the export follows: the newest released one that the official validator
#: (bids-validator 3.0, schema 1.11.1) knows; the EMG modality is the same in the schema of
#: bidsschematools 2.0 the tests check the sidecars with.
BIDS_VERSION = "1.11.1"
#: Name of this toolkit in ``GeneratedBy``.
TOOLKIT = "emg-toolkit"
#: Units of the stored samples as BIDS writes them.
UNITS = "µV"
#: Reference of the wearable sensors (each has its own electrode pair).
REFERENCE = "Bipolar"

#: Canonical muscle name -> anatomical name for ``target_muscle``.
ANATOMICAL_NAMES: dict[str, str] = {
    "glute": "gluteus maximus",
    "gluteus_medius": "gluteus medius",
    "hamstring": "hamstrings",
    "biceps_femoris": "biceps femoris",
    "semitendinosus": "semitendinosus",
    "semimembranosus": "semimembranosus",
    "rectus_femoris": "rectus femoris",
    "vastus_medialis": "vastus medialis",
    "vastus_lateralis": "vastus lateralis",
    "erector_spinae": "erector spinae",
}

SENIAM = (
    "Electrode sites follow the SENIAM recommendations (Hermens et al. 2000, "
    "www.seniam.org), placed by measured distance from anatomical landmarks"
)

#: Canonical muscle name -> SENIAM electrode site.
SENIAM_SITES: dict[str, str] = {
    "glute": "50 % of the line between the sacral vertebrae and the greater trochanter",
    "semitendinosus": (
        "50 % of the line between the ischial tuberosity and the medial epicondyle of the tibia"
    ),
    "biceps_femoris": (
        "50 % of the line between the ischial tuberosity and the lateral epicondyle of the tibia"
    ),
    "hamstring": (
        "the biceps femoris site (50 % of the line between the ischial tuberosity and the "
        "lateral epicondyle of the tibia) or the semitendinosus site (to the medial epicondyle); "
        "which one is not recorded"
    ),
    "gluteus_medius": "50 % of the line from the crista iliaca to the trochanter",
    "rectus_femoris": (
        "50 % of the line from the anterior spina iliaca superior to the superior part of the "
        "patella"
    ),
    "vastus_medialis": (
        "80 % of the line between the anterior spina iliaca superior and the joint space in "
        "front of the anterior border of the medial ligament"
    ),
    "vastus_lateralis": (
        "2/3 of the line from the anterior spina iliaca superior to the lateral side of the patella"
    ),
}

#: Columns of ``channels.tsv``, the required ones first (BIDS order).
CHANNEL_COLUMNS = (
    "name",
    "type",
    "units",
    "description",
    "sampling_frequency",
    "signal_electrode",
    "reference",
    "group",
    "target_muscle",
    "placement_scheme",
    "placement_description",
    "status",
)

#: Columns of ``events.tsv`` and what they hold (written to ``events.json``).
EVENT_COLUMNS: dict[str, dict[str, Any]] = {
    "onset": {"Description": "Time of the event from the first sample.", "Units": "s"},
    "duration": {"Description": "Length of the interval the event covers.", "Units": "s"},
    "trial_type": {
        "LongName": "Event kind",
        "Description": "What happened (emg-toolkit event kind).",
        "Levels": dict(EVENT_KINDS),
    },
    "channel": {"Description": "The channel the event concerns (name in channels.tsv)."},
    # not "description": MNE keeps extra columns as annotation extras, where that key is taken
    "summary": {"Description": "Short human-readable text of the event."},
    "rep": {"Description": "Rep number (per side) of a rep, rep-decided or sustained event."},
    "side": {
        "Description": "Side of the glute/hamstring pair the event concerns.",
        "Levels": {"left": "left leg", "right": "right leg"},
    },
    "order": {
        "Description": "Which muscle switched on first in the rep.",
        "Levels": {
            "glute-first": "the glutes led by more than the margin",
            "hamstring-first": "the hamstrings led by more than the margin",
            "simultaneous": "the onsets were within the margin",
        },
    },
    "lead_ms": {
        "Description": "Hamstring onset minus glute onset (positive: the glutes first).",
        "Units": "ms",
    },
    "ratio": {"Description": "Glute : hamstring level over the rep."},
    "detail": {"Description": "Full detail of the event as JSON (reps, lead, sample ranges)."},
}


@dataclass(frozen=True)
class DatasetInfo:
    """What a lab says about its dataset (each goes where BIDS recommends it; None: unknown).

    Attributes
    ----------
    authors
        Who made the dataset (``Authors`` in ``dataset_description.json``).
    license
        Its licence, an SPDX identifier such as ``CC-BY-4.0`` (``License``).
    institution, institution_address, department
        Who was in charge of the equipment (``InstitutionName``, ``InstitutionAddress``,
        ``InstitutionalDepartmentName`` in ``_emg.json``).
    instructions
        What the participants were told before the recording (``Instructions``).
    electrode_manufacturer, electrode_model
        The electrodes (``ElectrodeManufacturer``, ``ElectrodeManufacturersModelName``).
    """

    authors: tuple[str, ...] = ()
    license: str | None = None
    institution: str | None = None
    institution_address: str | None = None
    department: str | None = None
    instructions: str | None = None
    electrode_manufacturer: str | None = None
    electrode_model: str | None = None

    def sidecar_fields(self) -> dict[str, str]:
        """The ``_emg.json`` fields given."""
        fields = {
            "InstitutionName": self.institution,
            "InstitutionAddress": self.institution_address,
            "InstitutionalDepartmentName": self.department,
            "Instructions": self.instructions,
            "ElectrodeManufacturer": self.electrode_manufacturer,
            "ElectrodeManufacturersModelName": self.electrode_model,
        }
        return {k: v.strip() for k, v in fields.items() if v and v.strip()}

    def description_fields(self) -> dict[str, Any]:
        """The ``dataset_description.json`` fields given."""
        fields: dict[str, Any] = {}
        authors = [a.strip() for a in self.authors if a.strip()]
        if authors:
            fields["Authors"] = authors
        if self.license and self.license.strip():
            fields["License"] = self.license.strip()
        return fields


_DATA_SUFFIXES = ("_emg.bdf", "_emg.edf")
_SENSOR_KEYS = {
    "Manufacturer": ("manufacturer", "vendor"),
    "ManufacturersModelName": ("model", "model_name", "manufacturers_model_name"),
    "DeviceSerialNumber": ("serial", "serial_number"),
}


@dataclass(frozen=True)
class BidsNames:
    """Entity labels of one recording.

    Attributes
    ----------
    subject, task, session, run
        Labels as they appear in file names (``session`` and ``run`` optional).
    task_name
        ``TaskName`` of the sidecar (the task as given).
    """

    subject: str
    task: str
    session: str | None = None
    run: int | None = None
    task_name: str = ""

    @property
    def prefix(self) -> str:
        """``sub-<s>[_ses-<x>]``."""
        return f"sub-{self.subject}_ses-{self.session}" if self.session else f"sub-{self.subject}"

    @property
    def stem(self) -> str:
        """``sub-<s>[_ses-<x>]_task-<t>[_run-<n>]``."""
        run = f"_run-{self.run}" if self.run is not None else ""
        return f"{self.prefix}_task-{self.task}{run}"

    def folder(self, root: Path) -> Path:
        """``<root>/sub-<s>/[ses-<x>/]``."""
        folder = root / f"sub-{self.subject}"
        return folder / f"ses-{self.session}" if self.session else folder


# --- export ------------------------------------------------------------------------------


def export_bids(
    recording: Recording,
    out: str | Path,
    *,
    subject: str | None = None,
    task: str | None = None,
    session: str | None = None,
    run: int | None = None,
    info: DatasetInfo | None = None,
    staging: Path | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a recording into a BIDS-EMG dataset (created, or added to).

    Only the recording's own files and the dataset files that list it are written; the other
    subjects and sessions of an existing dataset are left as they are.

    Parameters
    ----------
    recording
        What to write.
    out
        Dataset root folder.
    subject
        Subject label (letters and digits, :func:`bids_label`); default
        ``metadata["subject"]``, else ``01``.
    task
        Task label (letters and digits); default from ``metadata["exercise"]`` (its letters
        and digits: ``hip_thrust`` -> ``hipthrust``), else ``emg``.
    session
        Session label, if any.
    run
        Run index, if any.
    info
        Authors, licence, institution, instructions and electrodes; what is given replaces
        the dataset's earlier value.
    staging
        A folder to write the files into instead, laid out as under ``out``, for the caller to
        move into ``out`` once all are written
        (:func:`emg.io.output_guard.staged_folder`); the dataset's earlier files
        (``participants.tsv`` ...) are still read from ``out``. Default: write into ``out``.
    overwrite
        Replace the dataset's recording of the same subject, session, task and run, if it
        has one (refused otherwise, as mne-bids does).

    Returns
    -------
    Path
        The ``_emg.bdf`` file of the dataset (under ``out``, also when staged).

    Raises
    ------
    EmgInputError
        For a label that is not a BIDS label (never rewritten), a negative run, a
        recording the dataset already holds (without ``overwrite``), a root that is a file,
        a malformed existing ``dataset_description.json`` or ``participants.tsv``, or a
        recording BDF+ cannot hold.
    """
    info = info or DatasetInfo()
    root = Path(out)
    target = root if staging is None else staging
    source, field = subject_origin(recording)
    names = bids_names(
        recording.metadata, subject, task, session, run, source=source, subject_field=field
    )
    check_new_output(_with_suffix(names.folder(root) / "emg" / names.stem, "_emg.bdf"), overwrite)
    _dataset_root(root, target, info)
    base = names.folder(target) / "emg" / names.stem
    base.parent.mkdir(parents=True, exist_ok=True)
    data_file = _with_suffix(base, "_emg.bdf")
    write_bdf(data_file, recording)
    sidecar = emg_sidecar(recording, names.task_name) | info.sidecar_fields()
    write_json(_with_suffix(base, "_emg.json"), sidecar)
    rows = _channel_rows(recording, bdf_labels(recording.channels))
    _write_tsv(_with_suffix(base, "_channels.tsv"), CHANNEL_COLUMNS, rows)
    _write_events(base, recording_events(recording))
    _readme(root, target, info, names.task_name, recording)
    _participant(root, target, names.subject)
    scans = f"{names.prefix}_scans.tsv"
    _scans(
        names.folder(root) / scans,
        names.folder(target) / scans,
        f"emg/{data_file.name}",
        recording.metadata.get("started_at"),
    )
    return names.folder(root) / "emg" / data_file.name


def bids_names(
    metadata: Mapping[str, Any],
    subject: str | None = None,
    task: str | None = None,
    session: str | None = None,
    run: int | None = None,
    *,
    source: str | None = None,
    subject_field: str = "subject",
) -> BidsNames:
    """Entity labels from the arguments, else the metadata, else the defaults.

    Parameters
    ----------
    metadata
        The recording's metadata (``subject``, ``exercise``).
    subject, task, session, run
        The labels given; a subject not given is the recording's (``metadata["subject"]``),
        else ``01``.
    source
        The file the metadata was read from (:func:`subject_origin`), named when the
        recording's subject is refused.
    subject_field
        The field of ``source`` that holds the subject, named with it.

    Returns
    -------
    BidsNames
        The labels, checked.

    Raises
    ------
    EmgInputError
        For a subject, session or given task that is not a BIDS label (:func:`bids_label`;
        never rewritten), or a negative run. A recorded subject that is not one (or not text)
        is one line naming ``source`` and ``subject_field``.
    """
    task_name = str(task if task is not None else metadata.get("exercise") or "emg")
    if run is not None and run < 0:
        raise EmgInputError(f"run must be 0 or more, got {run}", field="run")
    if subject is None:
        subject = _recorded_subject(metadata.get("subject"), source, subject_field)
    return BidsNames(
        subject=bids_label(subject, "subject"),
        task=bids_label(task, "task") if task is not None else _task_label(task_name),
        session=bids_label(session, "session") if session is not None else None,
        run=run,
        task_name=task_name,
    )


def subject_origin(recording: Recording) -> tuple[str | None, str]:
    """Where a recording's subject was read from, for a message that refuses it.

    Parameters
    ----------
    recording
        As read (its ``source`` and ``metadata["source_format"]``).

    Returns
    -------
    source, field
        ``FOLDER/session.json`` and ``subject`` for a session folder; the BDF/EDF file and
        ``patient code``; the BIDS data file and ``sub`` (the label in its name); else the
        recording's source (None without one) and ``subject``.
    """
    source = recording.source or None
    kind = recording.metadata.get("source_format")
    if kind == "native" and source is not None:
        return str(Path(source) / METADATA_FILE), "subject"
    return source, {"bdf": "patient code", "edf": "patient code", "bids": "sub"}.get(
        str(kind), "subject"
    )


def _recorded_subject(value: Any, source: str | None, field: str) -> str:
    """The recording's subject as a BIDS subject label (``sub-`` dropped): ``01`` when it
    names none (absent, null or blank); whole numbers as their digits.

    Raises
    ------
    EmgInputError
        Naming ``source`` and ``field``, for a subject that is not a BIDS label (nor a whole
        number): a list, ``true``, ``a_b``, longer than :data:`MAX_LABEL_LENGTH`.
    """
    if value is None or value == "":
        return "01"
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise EmgInputError(
            f"field '{field}': the recording's subject is "
            f"{_shown(json.dumps(value, default=str))}, not text: give a BIDS subject label "
            "(emg export --subject 01)",
            source=source,
        )
    text = str(value)
    recorded = text.removeprefix("sub-")
    if not _LABEL.fullmatch(recorded) or len(recorded) > MAX_LABEL_LENGTH:
        raise EmgInputError(
            f"field '{field}': the recording's subject '{_shown(text)}' is not a BIDS subject "
            f"label (letters and digits only, at most {MAX_LABEL_LENGTH}): give one (emg export "
            "--subject 01)",
            source=source,
        )
    return text


def emg_sidecar(recording: Recording, task_name: str) -> dict[str, Any]:
    """The ``_emg.json`` sidecar: every REQUIRED field, and the RECOMMENDED ones known."""
    muscles = list(dict.fromkeys(c.muscle for c in recording.channels))
    sidecar: dict[str, Any] = {
        "TaskName": task_name,
        "TaskDescription": _task_description(task_name, muscles),
        "EMGPlacementScheme": "Other",
        "EMGPlacementSchemeDescription": placement_description(muscles),
        "EMGReference": REFERENCE,
        "SamplingFrequency": _number(recording.sample_rate),
        "PowerLineFrequency": _power_line(recording.metadata),
        "RecordingType": "continuous",
        "SoftwareFilters": "n/a",
        "HardwareFilters": "n/a",
        "EMGChannelCount": len(recording.channels),
        "RecordingDuration": recording.duration_s,
        "SoftwareVersions": str(recording.metadata.get("software") or f"{TOOLKIT} {__version__}"),
    }
    sidecar.update(_sensor_fields(recording.metadata.get("sensors")))
    settings = recording.metadata.get("analysis")
    if isinstance(settings, Mapping) and settings:
        # not a BIDS field: the settings the session was recorded with, for emg to read back
        sidecar[SETTINGS_KEY] = dict(settings)
    return sidecar


def placement_description(muscles: Sequence[str]) -> str:
    """``EMGPlacementSchemeDescription``: SENIAM and the site of each muscle recorded."""
    sites = [
        f"{ANATOMICAL_NAMES.get(m, m)}: {SENIAM_SITES[m]}" for m in muscles if m in SENIAM_SITES
    ]
    return f"{SENIAM}: {'; '.join(sites)}." if sites else f"{SENIAM}."


def bids_label(value: str, entity: str, option: str | None = None) -> str:
    """A BIDS entity label as given, checked: letters and digits only, not empty (the BIDS
    ``label`` rule), at most :data:`MAX_LABEL_LENGTH` of them; a leading ``sub-`` / ``ses-`` /
    ``task-`` is dropped. Never rewritten, so that two labels given differently never land on
    the same files.

    Parameters
    ----------
    value
        The label as given.
    entity
        ``subject``, ``session`` or ``task``.
    option
        The command-line option that gave it (``--subject``), to name in the error.

    Raises
    ------
    EmgInputError
        For a label with anything but letters and digits (``a_b``, ``../x``, ``é1``, ``""``),
        or longer than :data:`MAX_LABEL_LENGTH`.
    """
    label = value.removeprefix(f"{_ENTITY_PREFIXES.get(entity, entity)}-")
    where = option or entity
    if len(label) > MAX_LABEL_LENGTH:
        raise _label_error(
            f"{where} '{_shown(value)}' is {len(label)} characters long: a BIDS {entity} label "
            f"may have at most {MAX_LABEL_LENGTH} here, which keeps every file name of the "
            "dataset under 255 bytes",
            entity,
            option,
        )
    if not _LABEL.fullmatch(label):
        raise _label_error(
            f"{where} '{value}' is not a BIDS {entity} label: use letters and digits only "
            "(A-Z, a-z, 0-9)",
            entity,
            option,
        )
    return label


def _shown(value: str) -> str:
    """``value`` for a message: its start only when it is longer than a label may be."""
    return value if len(value) <= MAX_LABEL_LENGTH else f"{value[:16]}..."


def _label_error(message: str, entity: str, option: str | None) -> EmgInputError:
    """A refused label, from the command line (``option``) or naming the ``entity``."""
    return EmgInputError(
        message,
        source="command line" if option else None,
        field=None if option else entity,
    )


#: Entity keys in file names.
_ENTITY_PREFIXES = {"subject": "sub", "session": "ses", "task": "task"}

#: A BIDS label: alphanumeric, not empty (ASCII only).
_LABEL = re.compile(r"[0-9A-Za-z]+")

#: Most characters (ASCII, so bytes) of a label: with a subject, a session and a task label
#: this long, the longest file name of a recording
#: (``sub-<s>_ses-<x>_task-<t>_run-<n>_channels.tsv``) is 225 bytes and a run number, under the
#: 255 bytes most file systems allow in a name.
MAX_LABEL_LENGTH = 64


def _task_label(exercise: str) -> str:
    """The task label made from an exercise's name (``hip_thrust`` -> ``hipthrust``)."""
    label = re.sub(r"[^0-9a-zA-Z]", "", exercise)
    if not label:
        raise EmgInputError(
            f"exercise '{exercise}' has no letter or digit to make a BIDS task label: "
            "give the task",
            field="task",
        )
    if len(label) > MAX_LABEL_LENGTH:
        raise EmgInputError(
            f"exercise '{exercise[:40]}...' makes a BIDS task label of {len(label)} "
            f"characters (at most {MAX_LABEL_LENGTH}): give the task",
            field="task",
        )
    return label


def _task_description(task_name: str, muscles: Sequence[str]) -> str:
    recorded = ", ".join(ANATOMICAL_NAMES.get(m, m) for m in muscles)
    return (
        f"{task_name}: surface EMG of {recorded}, recorded to find the onset order of the "
        "glutes and hamstrings"
    )


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def _power_line(metadata: Mapping[str, Any]) -> float | int | str:
    analysis = metadata.get("analysis")
    chain = analysis.get("chain") if isinstance(analysis, Mapping) else None
    mains = chain.get("mains_hz") if isinstance(chain, Mapping) else None
    if mains is None:
        mains = metadata.get("power_line_hz")
    return _number(mains) if _is_number(mains) else "n/a"


def _sensor_fields(sensors: Any) -> dict[str, str]:
    """``Manufacturer``, ``ManufacturersModelName``, ``DeviceSerialNumber`` from sensor info."""
    if isinstance(sensors, Mapping):
        flat = any(k in sensors for keys in _SENSOR_KEYS.values() for k in keys)
        entries = [sensors] if flat else list(sensors.values())
    elif isinstance(sensors, (list, tuple)):
        entries = [_with_profile(e) for e in sensors]
    else:
        return {}
    fields: dict[str, str] = {}
    for field, keys in _SENSOR_KEYS.items():
        values = sorted(
            {str(e[k]) for e in entries if isinstance(e, Mapping) for k in keys if e.get(k)}
        )
        if values and (field != "DeviceSerialNumber" or len(values) == 1):
            fields[field] = ", ".join(values)
    return fields


def _with_profile(sensor: Any) -> Any:
    """A sensor entry with the maker and model of its profile, when it names a known one."""
    if not isinstance(sensor, Mapping) or sensor.get("manufacturer") or not sensor.get("profile"):
        return sensor
    from emg.devices.profiles import load_profiles  # reads the profile folder: only when needed

    try:
        profile = load_profiles().get(str(sensor["profile"]))
    except EmgInputError:
        return sensor
    if profile is None or not profile.manufacturer:
        return sensor
    return {**sensor, "manufacturer": profile.manufacturer, "model": profile.model}


def _channel_rows(recording: Recording, labels: Sequence[str]) -> list[list[str]]:
    return [
        _channel_row(channel, label, recording.sample_rate)
        for channel, label in zip(recording.channels, labels, strict=True)
    ]


def _channel_row(channel: Channel, name: str, fs: float) -> list[str]:
    anatomical = ANATOMICAL_NAMES.get(channel.muscle, "n/a")
    site = SENIAM_SITES.get(channel.muscle)
    side = f"{channel.side} " if channel.side else ""
    muscle = f", {side}{anatomical}" if anatomical != "n/a" else ""
    values = {
        "name": name,
        "type": "EMG",
        "units": UNITS,
        "description": f"surface EMG{muscle}",
        "sampling_frequency": f"{_number(fs)}",
        "signal_electrode": "n/a",
        "reference": REFERENCE.lower(),
        "group": channel.device or "n/a",
        "target_muscle": anatomical,
        "placement_scheme": "other" if site else "n/a",
        "placement_description": f"SENIAM: {site}" if site else "n/a",
        "status": "good",
    }
    return [values[column] for column in CHANNEL_COLUMNS]


def _write_events(base: Path, events: Sequence[Event]) -> None:
    rows = []
    for e in sorted(events, key=lambda e: e.time_s):
        typed = rep_columns(e)
        rows.append(
            [
                repr(float(e.time_s)),
                repr(float(e.duration_s)),
                e.kind,
                e.channel or "n/a",
                e.description or "n/a",
                *("n/a" if typed[k] is None else str(typed[k]) for k in REP_COLUMNS),
                _compact_json(e.data) if e.data else "n/a",
            ]
        )
    _write_tsv(_with_suffix(base, "_events.tsv"), tuple(EVENT_COLUMNS), rows)
    write_json(_with_suffix(base, "_events.json"), EVENT_COLUMNS)


def _compact_json(data: Mapping[str, Any]) -> str:
    return json.dumps(dict(data), separators=(",", ":"), default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON data")


def _dataset_root(root: Path, target: Path, info: DatasetInfo) -> None:
    """Write to ``target`` the ``dataset_description.json`` of the dataset ``root``: a new one,
    or when ``root`` has one and ``info`` gives fields, that one with them put in."""
    if root.exists() and not root.is_dir():
        raise EmgInputError("is a file; expected a dataset folder", source=str(root))
    path = root / "dataset_description.json"
    target.mkdir(parents=True, exist_ok=True)
    if path.exists():
        description = _read_json(path)
        if info.description_fields():
            write_json(target / path.name, dict(description) | info.description_fields())
        return
    write_json(
        target / path.name,
        {
            "Name": "Surface EMG recordings (emg-toolkit export)",
            "BIDSVersion": BIDS_VERSION,
            "DatasetType": "raw",
            **info.description_fields(),
            "GeneratedBy": [
                {
                    "Name": TOOLKIT,
                    "Version": __version__,
                    "Description": "Export of wearable surface EMG recordings to BIDS-EMG",
                }
            ],
        },
    )


def _with_suffix(base: Path, suffix: str) -> Path:
    return base.with_name(base.name + suffix)


def _readme(
    root: Path, target: Path, info: DatasetInfo, task_name: str, recording: Recording
) -> None:
    """A README for people who open the dataset (written once; a lab's own is kept)."""
    if root.is_dir() and any(p.name.startswith("README") for p in root.iterdir()):
        return
    muscles = ", ".join(
        dict.fromkeys(ANATOMICAL_NAMES.get(c.muscle, c.muscle) for c in recording.channels)
    )
    lines = [
        "# Surface EMG recordings (BIDS-EMG)",
        "",
        f"Surface EMG of the {muscles}, recorded during the {task_name} with wearable sensors "
        f"and exported by {TOOLKIT} {__version__}. Each recording is a 24-bit BDF+ file of the "
        "raw signal in microvolts (no software filter applied), one channel per muscle, each "
        "sensor with its own bipolar electrode pair; electrode sites follow SENIAM (see "
        "`EMGPlacementSchemeDescription` and `channels.tsv`).",
        "",
        "## Events",
        "",
        "`events.tsv` lists what the toolkit detected, in stream time: each muscle's onsets "
        "and bursts, every rep with the muscle that switched on first (`order`), the "
        "hamstring-minus-glute onset difference (`lead_ms`) and the glute : hamstring level "
        "ratio (`ratio`), raised and cleared flags, cramp-risk changes, samples lost in "
        "transit (`loss`, filled with zeros), stretches in which a channel stayed at one value "
        "(`no-signal`: an electrode off or a sensor frozen) and markers; `detail` holds each "
        "event in full as "
        "JSON. `events.json` describes every column and event kind.",
        "",
        "The onset order is a training aid, not a diagnosis: a hamstring-first pattern is "
        "normal in some exercises, and no study yet links it to cramps.",
    ]
    if info.authors or info.license or info.institution:
        lines += ["", "## Credits", ""]
        if info.authors:
            lines.append(f"Authors: {'; '.join(info.authors)}.")
        if info.institution:
            lines.append(f"Recorded at: {info.institution}.")
        if info.license:
            lines.append(f"Licence: {info.license}.")
    (target / "README").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _participant(root: Path, target: Path, subject: str) -> None:
    """Add ``subject`` to ``participants.tsv`` of ``root``, written to ``target``."""
    path = root / "participants.tsv"
    participant = f"sub-{subject}"
    if not path.exists():
        _write_tsv(target / path.name, ("participant_id",), [[participant]])
        return
    columns, rows = _read_tsv(path)
    if "participant_id" not in columns:
        raise EmgInputError("no 'participant_id' column", source=str(path), field="participant_id")
    if any(row["participant_id"] == participant for row in rows):
        return
    new = {c: "n/a" for c in columns} | {"participant_id": participant}
    table = [[row[c] for c in columns] for row in [*rows, new]]
    _write_tsv(target / path.name, columns, table)


def _scans(path: Path, written: Path, filename: str, started_at: Any) -> None:
    """Add the start time of a file to ``scans.tsv`` at ``path``, written to ``written``
    (nothing if it is unknown)."""
    if not started_at:
        return
    try:
        acq_time = datetime.fromisoformat(str(started_at)).isoformat()
    except ValueError:
        raise EmgInputError(
            f"'{started_at}' is not an ISO 8601 date and time", field="started_at"
        ) from None
    rows: list[list[str]] = []
    if path.exists():
        _, old = _read_tsv(path)
        rows = [[r.get("filename", ""), r.get("acq_time", "n/a")] for r in old]
        rows = [r for r in rows if r[0] != filename]
    rows.append([filename, acq_time])
    _write_tsv(written, ("filename", "acq_time"), rows)


# --- reading -----------------------------------------------------------------------------


def read_bids(path: str | Path, channels: Mapping[str, str] | None = None) -> Recording:
    """Read an EMG recording of a BIDS dataset.

    Parameters
    ----------
    path
        The dataset root (with ``dataset_description.json``) holding one EMG recording, or
        an ``_emg.bdf`` / ``_emg.edf`` file of a dataset.
    channels
        ``--channel`` overrides: target label -> channel name in the data file.

    Returns
    -------
    Recording
        Samples in microvolts, channels named from ``channels.tsv`` (``target_muscle`` and a
        side in the name or the muscle text), events from ``events.tsv`` (else the
        annotations), loss mask from the ``loss`` events, metadata with the entities, the
        sidecar, ``exercise`` (``TaskName``), ``power_line_hz`` and ``started_at``.

    Raises
    ------
    EmgInputError
        Naming the file (and field or line): no dataset or recording there, several
        recordings (pass the file), malformed sidecars, a ``SamplingFrequency`` that does
        not match the data, and everything :func:`emg.io.edf_format.read_edf` raises.
    """
    try:
        data_file = _data_file(Path(path))
        sidecars = _sidecars(data_file)
        recording = read_edf(data_file, channels, hints=sidecars.hints)
        _check_rate(recording, sidecars)
        events_tsv = _sibling(data_file, "_events.tsv")
        if events_tsv.exists():
            _use_events(recording, _read_events(events_tsv))
        recording.metadata.update(_bids_metadata(data_file, sidecars.sidecar, sidecars.emg_json))
    except OSError as error:  # a folder or file the system will not let us look into
        raise EmgInputError(read_error(error), source=str(error.filename or path)) from None
    return recording


@dataclass(frozen=True)
class _Sidecars:
    """What the sidecars of a data file say (empty where a sidecar is absent)."""

    channels_tsv: Path
    emg_json: Path
    hints: dict[str, SourceChannel]
    rates: dict[str, float]
    sidecar: dict[str, Any]


def _sibling(data_file: Path, suffix: str) -> Path:
    """``..._emg.bdf`` -> ``..._<suffix>``."""
    return data_file.with_name(data_file.name[: -len("_emg.bdf")] + suffix)


def _sidecars(data_file: Path) -> _Sidecars:
    channels_tsv = _sibling(data_file, "_channels.tsv")
    emg_json = _sibling(data_file, "_emg.json")
    hints, rates = _channel_hints(channels_tsv) if channels_tsv.exists() else ({}, {})
    sidecar = _read_json(emg_json) if emg_json.exists() else {}
    return _Sidecars(channels_tsv, emg_json, hints, rates, sidecar)


def _data_file(path: Path) -> Path:
    if not path.exists():
        raise EmgInputError("no such file or folder", source=str(path))
    if path.is_file():
        if not path.name.lower().endswith(_DATA_SUFFIXES):
            raise EmgInputError(
                "not a BIDS EMG data file (expected a name ending in _emg.bdf or _emg.edf)",
                source=str(path),
            )
        return path
    description = path / "dataset_description.json"
    if not description.is_file():
        raise EmgInputError("not a BIDS dataset (no dataset_description.json)", source=str(path))
    _read_json(description)
    found = _recordings(path)
    if not found:
        raise EmgInputError(
            "no EMG recording in this BIDS dataset (no sub-*/[ses-*/]emg/*_emg.bdf or *_emg.edf)",
            source=str(path),
        )
    if len(found) > 1:
        listed = ", ".join(str(p.relative_to(path)) for p in found)
        raise EmgInputError(
            f"{len(found)} EMG recordings in this dataset ({listed}); pass the file to read, "
            f"e.g. {found[0]}",
            source=str(path),
        )
    return found[0]


def _recordings(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.glob("sub-*/**/emg/*")
        if p.is_file() and p.name.lower().endswith(_DATA_SUFFIXES)
    )


def _channel_hints(path: Path) -> tuple[dict[str, SourceChannel], dict[str, float]]:
    """Muscle hints and sampling frequencies by channel name, from ``channels.tsv``."""
    columns, rows = _read_tsv(path)
    for column in ("name", "type"):
        if column not in columns:
            raise EmgInputError(f"no '{column}' column", source=str(path), field=column)
    hints: dict[str, SourceChannel] = {}
    rates: dict[str, float] = {}
    for line, row in enumerate(rows, start=2):
        name = row["name"]
        muscle, side = _muscle_hint(row.get("target_muscle", ""), name)
        hints[name] = SourceChannel(name, muscle, side, kind=row["type"].strip().upper())
        rate = row.get("sampling_frequency", "n/a")
        if rate not in ("", "n/a"):
            rates[name] = _float(rate, path, "sampling_frequency", line)
    return hints, rates


def _muscle_hint(target: str, name: str) -> tuple[str | None, str | None]:
    """Canonical muscle and side from ``target_muscle`` (side also from the channel name)."""
    words = [] if target.strip().lower() in ("", "n/a") else re.findall(r"[a-z]+", target.lower())
    side = next((w for w in words if w in ("left", "right")), None)
    text = " ".join(w for w in words if w not in ("left", "right"))
    by_name = {v: k for k, v in ANATOMICAL_NAMES.items()}
    muscle = by_name.get(text) or _parsed(text)
    if side is None:
        try:
            side = parse_muscle_name(signal_type(name)[1]).side
        except KeyError:
            side = None
    return muscle, side


def _parsed(text: str) -> str | None:
    if not text:
        return None
    try:
        return parse_muscle_name(text).muscle
    except KeyError:
        return None


def _check_rate(recording: Recording, sidecars: _Sidecars) -> None:
    """The data's rate against ``channels.tsv`` (per channel) and ``SamplingFrequency``.

    A ``SamplingFrequency`` other than the analysed channels' rate is accepted only when
    ``channels.tsv`` gives those channels their own rate and some channel runs at the main
    rate (BIDS: channels that deviate from the main rate are listed in ``channels.tsv``).
    """
    fs = recording.sample_rate
    taken = list(recording.metadata["channel_names"].values())
    for name in taken:
        if name in sidecars.rates and not math.isclose(sidecars.rates[name], fs, rel_tol=1e-6):
            raise _wrong_rate(sidecars.rates[name], recording, name, sidecars.channels_tsv)
    declared = _declared_rate(sidecars)
    if declared is None or math.isclose(declared, fs, rel_tol=1e-6):
        return
    documented = all(name in sidecars.rates for name in taken)
    main_used = any(
        not math.isclose(sidecars.rates.get(name, declared), fs, rel_tol=1e-6)
        for name in sidecars.hints
    )
    if not (documented and main_used):
        raise _wrong_rate(declared, recording, taken[0], sidecars.emg_json)


def _declared_rate(sidecars: _Sidecars) -> float | None:
    if not sidecars.emg_json.exists():
        return None
    declared = sidecars.sidecar.get("SamplingFrequency")
    if not _is_number(declared):
        problem = "is missing" if declared is None else f"must be a number, got {declared!r}"
        raise EmgInputError(
            f"the required field SamplingFrequency {problem}",
            source=str(sidecars.emg_json),
            field="SamplingFrequency",
        )
    return float(declared)


def _wrong_rate(expected: float, recording: Recording, name: str, where: Path) -> EmgInputError:
    field = "SamplingFrequency" if where.suffix == ".json" else "sampling_frequency"
    return EmgInputError(
        f"wrong sample rate: {expected:g} Hz here, but {recording.source} holds channel "
        f"'{name}' at {recording.sample_rate:g} Hz",
        source=str(where),
        field=field,
    )


def _read_events(path: Path) -> list[Event]:
    columns, rows = _read_tsv(path)
    for column in ("onset", "duration"):
        if column not in columns:
            raise EmgInputError(f"no '{column}' column", source=str(path), field=column)
    events = [_row_event(row, path, line) for line, row in enumerate(rows, start=2)]
    return sorted((e for e in events if e is not None), key=lambda e: e.time_s)


def _row_event(row: Mapping[str, str], path: Path, line: int) -> Event | None:
    if row["onset"] in ("", "n/a"):
        return None
    onset = _float(row["onset"], path, "onset", line)
    duration = (
        0.0 if row["duration"] in ("", "n/a") else _float(row["duration"], path, "duration", line)
    )
    if duration < 0:
        raise EmgInputError("negative duration", source=str(path), field="duration", line=line)
    trial_type = _text(row.get("trial_type"))
    description = (
        _text(row.get("summary")) or _text(row.get("description")) or _text(row.get("value"))
    )
    kind = event_kind(trial_type)
    if kind is None:
        kind, description = "other", " ".join(filter(None, (trial_type, description)))
    detail = _detail(row.get("detail"), path, line)
    channel = _text(row.get("channel")) or None
    try:
        return Event(onset, kind, description, duration, channel=channel, data=detail)
    except ValueError as error:
        raise EmgInputError(str(error), source=str(path), field="detail", line=line) from None


def _use_events(recording: Recording, events: list[Event]) -> None:
    """Take the events of ``events.tsv``, and the losses they describe into the mask."""
    meta = recording.metadata
    events = relabel_events(events, meta["channel_names"], meta["file_channels"])
    labels = [c.label for c in recording.channels]
    described = loss_mask(events, labels, recording.sample_rate, recording.n_samples)
    recording.events = events
    recording.lost = recording.lost | described


def _bids_metadata(data_file: Path, sidecar: Mapping[str, Any], path: Path) -> dict[str, Any]:
    entities = dict(re.findall(r"([a-z]+)-([0-9a-zA-Z+]+)", data_file.name))
    metadata: dict[str, Any] = {
        "source_format": "bids",
        "bids": {"file": data_file.name, "entities": entities, "sidecar": dict(sidecar)},
    }
    if "sub" in entities:
        metadata["subject"] = entities["sub"]
    task_name = sidecar.get("TaskName", entities.get("task"))
    if task_name is not None:
        if not isinstance(task_name, str):
            raise EmgInputError("TaskName must be text", source=str(path), field="TaskName")
        metadata["exercise"] = task_name
    mains = sidecar.get("PowerLineFrequency")
    if _is_number(mains):
        metadata["power_line_hz"] = mains
    started_at = _acq_time(data_file)
    if started_at:
        metadata["started_at"] = started_at
    if SETTINGS_KEY in sidecar:
        metadata["analysis"] = sidecar[SETTINGS_KEY]
        metadata["settings_file"], metadata["settings_key"] = str(path), SETTINGS_KEY
    return metadata


def _acq_time(data_file: Path) -> str | None:
    """Start time from ``scans.tsv`` (keeps the time zone the BDF header lacks)."""
    filename = f"emg/{data_file.name}"
    for path in data_file.parent.parent.glob("*_scans.tsv"):
        _, rows = _read_tsv(path)
        for line, row in enumerate(rows, start=2):
            value = _text(row.get("acq_time")) if row.get("filename") == filename else ""
            if not value:
                continue
            try:
                return datetime.fromisoformat(value).isoformat()
            except ValueError:
                raise EmgInputError(
                    f"'{value}' is not a date and time",
                    source=str(path),
                    field="acq_time",
                    line=line,
                ) from None
    return None


# --- files -------------------------------------------------------------------------------


def _write_tsv(path: Path, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    lines = ["\t".join(columns)]
    lines += ["\t".join(_cell(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _cell(value: str) -> str:
    text = re.sub(r"[\t\r\n]+", " ", value).strip()
    return text or "n/a"


def _read_tsv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise EmgInputError(read_error(error), source=str(path)) from None
    except UnicodeDecodeError as error:
        raise EmgInputError(f"cannot read: {error}", source=str(path)) from None
    if not lines or not lines[0].strip():
        raise EmgInputError("the file is empty (no header line)", source=str(path), line=1)
    columns = [c.strip() for c in lines[0].split("\t")]
    rows = []
    for number, text in enumerate(lines[1:], start=2):
        if not text.strip():
            continue
        values = text.split("\t")
        if len(values) != len(columns):
            raise EmgInputError(
                f"{len(values)} values where the header has {len(columns)} columns",
                source=str(path),
                line=number,
            )
        rows.append(dict(zip(columns, (v.strip() for v in values), strict=True)))
    return columns, rows


def _read_json(path: Path) -> dict[str, Any]:
    values = read_json(path)
    if not isinstance(values, dict):
        raise EmgInputError("expected a JSON object", source=str(path))
    return values


def _float(text: str, path: Path, field: str, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise EmgInputError(
            f"'{text}' is not a number", source=str(path), field=field, line=line
        ) from None
    if not np.isfinite(value):
        raise EmgInputError(f"'{text}' is not finite", source=str(path), field=field, line=line)
    return value


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _text(value: str | None) -> str:
    return "" if value is None or value == "n/a" else value


def _detail(value: str | None, path: Path, line: int) -> dict[str, Any]:
    if value in (None, "", "n/a"):
        return {}
    try:
        detail = json.loads(value)
    except json.JSONDecodeError:
        raise EmgInputError("not valid JSON", source=str(path), field="detail", line=line) from None
    if not isinstance(detail, dict):
        raise EmgInputError("expected a JSON object", source=str(path), field="detail", line=line)
    return detail
