"""Lab Streaming Layer plumbing shared by the LSL source and the LSL outlet.

- :func:`load_pylsl` imports ``pylsl`` (whose wheels bring the native liblsl) only when LSL is
  asked for, and turns a missing or broken install into one clear error.
- :func:`clock_offset` relates the host's monotonic clock (the clock of every
  :attr:`emg.block.Block.t0`) to LSL's clock (``pylsl.local_clock()``, a steady clock as
  well; on Linux both read ``CLOCK_MONOTONIC`` and the offset is about zero, elsewhere it need
  not be).
- :func:`write_channels` and :func:`read_channels` keep the channel metadata in a stream's
  ``desc`` as the XDF meta-data conventions for EMG describe it
  (``desc/channels/channel/{label,unit,type}``), plus ``muscle`` and ``side``, which this
  toolkit's XDF reader also takes.

LSL's network configuration (which interfaces and multicast groups stream discovery uses) is
liblsl's own: an ``lsl_api.cfg`` file or the ``LSLAPICFG`` environment variable naming one.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Sequence
from typing import Any

from emg.block import Channel
from emg.errors import EmgDeviceError
from emg.io.channel_map import SourceChannel

#: The unit written into the desc of an outlet (the XDF convention's spelling).
UNIT = "microvolts"


def load_pylsl() -> Any:
    """Import ``pylsl``.

    Returns
    -------
    module
        The ``pylsl`` module.

    Raises
    ------
    EmgDeviceError
        When ``pylsl`` is not installed or cannot load liblsl.
    """
    try:
        return importlib.import_module("pylsl")
    except (ImportError, OSError, RuntimeError) as error:
        raise EmgDeviceError(
            f"Lab Streaming Layer needs pylsl, whose wheels bring liblsl (pip install pylsl): "
            f"{error}"
        ) from None


def clock_offset(
    lsl_clock: Callable[[], float],
    host_clock: Callable[[], float] = time.monotonic,
    tries: int = 5,
) -> float:
    """LSL time minus host monotonic time, read as tightly as possible.

    Parameters
    ----------
    lsl_clock
        ``pylsl.local_clock``.
    host_clock
        The clock blocks are stamped with (``time.monotonic``).
    tries
        Readings taken; the one whose host readings bracket the LSL reading most tightly wins.

    Returns
    -------
    float
        Seconds to add to a host monotonic time to get the LSL time of the same moment.
    """
    best: tuple[float, float] | None = None
    for _ in range(max(1, tries)):
        before = host_clock()
        lsl = lsl_clock()
        after = host_clock()
        candidate = (after - before, lsl - (before + after) / 2)
        if best is None or candidate[0] < best[0]:
            best = candidate
    assert best is not None
    return best[1]


def write_channels(desc: Any, channels: Sequence[Channel]) -> None:
    """Describe the channels in a stream info's ``desc`` (XDF meta-data conventions).

    Parameters
    ----------
    desc
        ``pylsl.StreamInfo.desc()``.
    channels
        The stream's channels; every one gets ``label``, ``unit`` (microvolts), ``type``
        (EMG), ``muscle``, ``side`` (empty when not known) and ``device``.
    """
    parent = desc.append_child("channels")
    for channel in channels:
        node = parent.append_child("channel")
        node.append_child_value("label", channel.label)
        node.append_child_value("unit", UNIT)
        node.append_child_value("type", "EMG")
        node.append_child_value("muscle", channel.muscle)
        node.append_child_value("side", channel.side or "")
        node.append_child_value("device", channel.device)


def read_channels(info: Any) -> list[SourceChannel]:
    """The channels a stream's ``desc`` describes, one per channel of the stream.

    Channels the desc leaves out are named ``ch<i>`` (1-based); a channel without a type
    has the stream's type, one without a unit is taken to be in microvolts.

    Parameters
    ----------
    info
        A ``pylsl.StreamInfo`` with its full desc (``StreamInlet.info()``; the infos
        :func:`pylsl.resolve_byprop` returns have an empty desc).

    Returns
    -------
    list of SourceChannel
        In stream order.
    """
    entries: list[dict[str, str]] = []
    node = info.desc().child("channels").child("channel")
    while not node.empty():
        entries.append(
            {
                key: str(node.child_value(key)).strip()
                for key in ("label", "unit", "type", "muscle", "side")
            }
        )
        node = node.next_sibling("channel")
    stream_type = str(info.type()).strip() or "EMG"
    found = []
    for i in range(int(info.channel_count())):
        entry = entries[i] if i < len(entries) else {}
        found.append(
            SourceChannel(
                name=entry.get("label") or f"ch{i + 1}",
                muscle=entry.get("muscle") or None,
                side=entry.get("side") or None,
                kind=entry.get("type") or stream_type,
                unit=entry.get("unit") or "uV",
            )
        )
    return found
