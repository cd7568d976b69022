"""Naming the channels of a file as muscles, with ``--channel glute=<name>`` overrides.

Every reader lists what it found as :class:`SourceChannel` (the name in the file, a muscle if
the file says one, the channel type and unit) and calls :func:`map_channels`:

- without overrides, every EMG channel is named by its muscle hint or, failing that, by its own
  name (``glute``, ``Hamstring_L``, ``biceps_femoris_right``, ``BF``...); a name that is not a
  muscle is an error that says how to fix it; channels of other types (triggers, accelerometers,
  BDF ``Status``) are left out;
- with overrides (``{"glute": "EMG1", "hamstring": "EMG2"}``: target label -> name in the
  file), exactly the named channels are taken, in the order given.

Messages name the overrides as the caller gave them: ``--channel glute=EMG1`` on the command
line (the default), ``channels={"glute": "EMG1"}`` in Python, inside :func:`channels_named`
(which :func:`~emg.io.open_recording.open_recording` opens with the name its caller gives).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from emg.block import Channel
from emg.errors import EmgInputError
from emg.muscles import parse_muscle_name

#: Units (lower case) and their factor to microvolts.
UNIT_TO_MICROVOLTS: dict[str, float] = {
    "": 1.0,
    "uv": 1.0,
    "µv": 1.0,
    "μv": 1.0,
    "microvolt": 1.0,
    "microvolts": 1.0,
    "mv": 1e3,
    "millivolt": 1e3,
    "millivolts": 1e3,
    "v": 1e6,
    "volt": 1e6,
    "volts": 1e6,
    "nv": 1e-3,
    "nanovolts": 1e-3,
}

#: Channel names that are never EMG (BioSemi's trigger channel, EDF+ annotations).
NON_EMG_NAMES = {"status", "edf annotations", "bdf annotations", "trigger", "markers"}

#: How the command line names the channel overrides (``--channel glute=EMG1``).
COMMAND_LINE_CHANNELS = "--channel"
#: How the library names them: a keyword argument (``channels={"glute": "EMG1"}``).
LIBRARY_CHANNELS = "channels="

#: How the overrides are named in the messages of the reading under way.
_CHANNELS_ARGUMENT: ContextVar[str] = ContextVar("channels_argument", default=COMMAND_LINE_CHANNELS)


@contextmanager
def channels_named(argument: str) -> Iterator[None]:
    """Name the channel overrides ``argument`` in the messages of the channels mapped inside.

    Parameters
    ----------
    argument
        :data:`COMMAND_LINE_CHANNELS` (the default outside) or :data:`LIBRARY_CHANNELS`;
        a name ending in ``=`` is a keyword argument, shown with a mapping.

    Examples
    --------
    >>> with channels_named(LIBRARY_CHANNELS):
    ...     channel_naming([("glute", "EMG1")])
    'channels={"glute": "EMG1"}'
    >>> channel_naming([("glute", "EMG1")])
    '--channel glute=EMG1'
    """
    token = _CHANNELS_ARGUMENT.set(argument)
    try:
        yield
    finally:
        _CHANNELS_ARGUMENT.reset(token)


def channel_naming(pairs: Sequence[tuple[str, str]]) -> str:
    """How the caller gives these overrides, for messages: as the command line's options or as
    the library's argument (see :func:`channels_named`).

    Parameters
    ----------
    pairs
        ``(muscle label, channel name)`` each; a placeholder such as ``<name>`` for a name.

    Returns
    -------
    str
        ``--channel glute=EMG1`` or ``channels={"glute": "EMG1"}``.

    Examples
    --------
    >>> channel_naming([("glute", "<name>"), ("hamstring", "<name>")])
    '--channel glute=<name> --channel hamstring=<name>'
    """
    argument = _CHANNELS_ARGUMENT.get()
    if argument.endswith("="):
        items = ", ".join(f'"{label}": "{name}"' for label, name in pairs)
        return f"{argument}{{{items}}}"
    return " ".join(f"{argument} {label}={name}" for label, name in pairs)


def naming_hint() -> str:
    """How to name the glute and hamstring channels, for messages (:func:`channel_naming`)."""
    return channel_naming([("glute", "<name>"), ("hamstring", "<name>")])


@dataclass(frozen=True)
class SourceChannel:
    """A channel as a file describes it.

    Attributes
    ----------
    name
        Its name in the file.
    muscle
        The muscle the file names for it (BIDS ``target_muscle``, XDF ``muscle``), if any;
        may carry a side suffix.
    side
        The side the file gives separately, if any.
    kind
        Channel type; only ``EMG`` channels are taken without overrides.
    unit
        Physical unit of its samples.
    """

    name: str
    muscle: str | None = None
    side: str | None = None
    kind: str = "EMG"
    unit: str = "uV"


def unit_scale(unit: str, source: str, field: str) -> float:
    """Factor from ``unit`` to microvolts.

    Raises
    ------
    EmgInputError
        For a unit that is not a voltage.
    """
    key = unit.strip().lower()
    if key not in UNIT_TO_MICROVOLTS:
        raise EmgInputError(
            f"unit '{unit}' is not a voltage (expected uV, mV or V)", source=source, field=field
        )
    return UNIT_TO_MICROVOLTS[key]


def parse_channel_overrides(
    specs: Sequence[str], source: str | None = "command line", field: str | None = "--channel"
) -> dict[str, str]:
    """``["glute=EMG1", "hamstring=EMG 2"]`` -> ``{"glute": "EMG1", "hamstring": "EMG 2"}``.

    Parameters
    ----------
    specs
        ``MUSCLE=CHANNEL`` each.
    source, field
        Where they were given, for messages: the command line's ``--channel`` (the default),
        or the library's argument (``source="channels"``, no field).

    Raises
    ------
    EmgInputError
        For a spec without ``=``, an unknown muscle, or a muscle given twice.
    """
    overrides: dict[str, str] = {}
    for spec in specs:
        target, sep, name = spec.partition("=")
        if not sep or not target.strip() or not name.strip():
            raise EmgInputError(
                f"expected MUSCLE=CHANNEL, e.g. glute=EMG1, got '{spec}'",
                source=source,
                field=field,
            )
        try:
            label = parse_muscle_name(target).label
        except KeyError as error:
            raise EmgInputError(str(error.args[0]), source=source, field=field) from None
        if label in overrides:
            raise EmgInputError(f"'{label}' is given twice", source=source, field=field)
        overrides[label] = name.strip()
    return overrides


def repeated_label(labels: Sequence[str]) -> tuple[str, list[int]] | None:
    """The first channel label given more than once and the positions of all its copies; None
    when every label is its own.

    Examples
    --------
    >>> repeated_label(["glute", "hamstring", "glute"])
    ('glute', [0, 2])
    >>> repeated_label(["glute_left", "glute_right"]) is None
    True
    """
    for label in labels:
        if labels.count(label) > 1:
            return label, [i for i, other in enumerate(labels) if other == label]
    return None


def map_channels(
    found: Sequence[SourceChannel],
    overrides: Mapping[str, str] | None,
    source: str,
    device: str = "",
) -> list[tuple[int, Channel]]:
    """Pick and name the channels to analyse.

    Parameters
    ----------
    found
        The channels of the file, in file order.
    overrides
        Target label -> channel name in the file (matched exactly, then ignoring case).
    source
        The file, for error messages.
    device
        Device name to put on the channels.

    Returns
    -------
    list of (int, Channel)
        Index into ``found`` and the channel's metadata, for every channel taken.

    Raises
    ------
    EmgInputError
        Naming the file and channel: an override naming a channel the file lacks or one
        already given for another muscle, a channel name that is not a muscle, no EMG channel
        at all, a muscle that appears twice. Overrides are named as the caller gives them
        (:func:`channels_named`: ``--channel`` unless told otherwise).
    """
    names = [c.name for c in found]
    taken: list[tuple[int, Channel]] = []
    if overrides:
        for label, name in overrides.items():
            index = _find(names, name)
            if index is None:
                raise EmgInputError(
                    f"no channel '{name}' (channels: {channel_list(names)})",
                    source=source,
                    field=channel_naming([(label, name)]),
                )
            given = [other for i, other in taken if i == index]
            if given:
                raise EmgInputError(
                    f"channel '{found[index].name}' is given for both '{given[0].label}' and "
                    f"'{label}'; each muscle needs its own",
                    source=source,
                    field=channel_naming([(label, name)]),
                )
            taken.append((index, Channel.from_name(label, device=device)))
    else:
        for index, channel in enumerate(found):
            if channel.kind.upper() != "EMG" or channel.name.strip().lower() in NON_EMG_NAMES:
                continue
            taken.append((index, _named(channel, source, names, device)))
    if not taken:
        raise EmgInputError(
            f"no EMG channel found (channels: {channel_list(names)}); name them with "
            f"{naming_hint()}",
            source=source,
        )
    repeated = repeated_label([channel.label for _, channel in taken])
    if repeated is not None:
        label, positions = repeated
        twice = [found[taken[i][0]].name for i in positions]
        raise EmgInputError(
            f"channels {channel_list(twice)} are all '{label}'; pick one with "
            f"{channel_naming([(label, '<name>')])}",
            source=source,
        )
    return taken


#: How many channel names a message lists before it says how many more there are.
LISTED_NAMES = 12


def channel_list(names: Sequence[str]) -> str:
    """Channel names for a message: all of a few, the first :data:`LISTED_NAMES` of many.

    Examples
    --------
    >>> channel_list(["EMG1", "EMG2"])
    'EMG1, EMG2'
    >>> channel_list([f"E{i}" for i in range(100)]).endswith("E11, ... (100 in all)")
    True
    """
    if not names:
        return "none"
    if len(names) <= LISTED_NAMES:
        return ", ".join(names)
    return f"{', '.join(names[:LISTED_NAMES])}, ... ({len(names)} in all)"


def _find(names: list[str], name: str) -> int | None:
    """The channel called ``name``: exactly, else ignoring case, else the one channel whose
    name without an EDF+ signal type ("EMG glute_l") is the same muscle and side."""
    if name in names:
        return names.index(name)
    lowered = [n.strip().lower() for n in names]
    key = name.strip().lower()
    if key in lowered:
        return lowered.index(key)
    wanted = _muscle_of(name)
    if wanted is None:
        return None
    same = [i for i, n in enumerate(names) if _muscle_of(_untyped(n)) == wanted]
    return same[0] if len(same) == 1 else None


#: EDF+ signal types: the first word of a label ("EMG glute", "EEG Fp1") types the channel.
SIGNAL_TYPES = (
    "EEG", "ECG", "EOG", "ERG", "EMG", "MEG", "MCG", "EP", "TEMP", "RESP", "SAO2", "LIGHT",
    "SOUND", "EVENT",
)  # fmt: skip


def signal_type(label: str) -> tuple[str | None, str]:
    """The EDF+ signal type of a label and the rest: ``"EMG glute_l"`` -> ``("EMG",
    "glute_l")``; ``(None, label)`` for a label without one."""
    head, _, rest = label.strip().partition(" ")
    if head.upper() in SIGNAL_TYPES and rest.strip():
        return head.upper(), rest.strip()
    return None, label.strip()


def _untyped(name: str) -> str:
    kind, rest = signal_type(name)
    return rest if kind == "EMG" else name


def _muscle_of(name: str) -> tuple[str, str | None] | None:
    try:
        parsed = parse_muscle_name(name.strip())
    except KeyError:
        return None
    return parsed.muscle, parsed.side


def _named(channel: SourceChannel, source: str, names: list[str], device: str) -> Channel:
    text = channel.muscle or channel.name
    try:
        parsed = parse_muscle_name(text)
    except KeyError as error:
        raise EmgInputError(
            f"{error.args[0]}. Name the muscles with {naming_hint()} (channels: "
            f"{channel_list(names)})",
            source=source,
            field=channel.name,
        ) from None
    side = parsed.side or (channel.side.lower() if channel.side else None)
    if side not in (None, "left", "right"):
        side = None
    label = f"{parsed.muscle}_{side}" if side else parsed.muscle
    return Channel(label=label, muscle=parsed.muscle, side=side, device=device)
