"""The arguments of :func:`emg.analyze_many`, checked before any recording is read: what is
not a path, a channel map or a number of workers is refused in one line naming it."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from numbers import Integral
from typing import Any

import numpy as np

from emg.errors import EmgInputError
from emg.io.library_input import channel_overrides
from emg.recording import Recording

#: What a scheduler's address looks like, for the messages.
ADDRESS = "tcp://HOST:PORT"


def path_texts(paths: Any) -> list[str]:
    """``analyze_many``'s ``paths`` as texts, one per path or pattern.

    Raises
    ------
    EmgInputError
        Naming ``paths`` (or the item) that is not a path: an array, a recording (which
        :func:`emg.analyze` takes), None, no path at all.
    """
    if isinstance(paths, str | os.PathLike):
        return [str(paths)]
    wanted = "paths of recordings, folders or glob patterns (str or os.PathLike, or a list"
    if isinstance(paths, Mapping | np.ndarray | Recording) or not isinstance(paths, Iterable):
        raise EmgInputError(
            f"must be {wanted} of them), got {type(paths).__name__}{_in_memory(paths)}",
            source="paths",
        )
    texts = []
    for index, path in enumerate(paths):
        if not isinstance(path, str | os.PathLike):
            raise EmgInputError(
                f"must be a path (str or os.PathLike), got {type(path).__name__}{_in_memory(path)}",
                source=f"paths[{index}]",
            )
        texts.append(str(path))
    if not texts:
        raise EmgInputError(f"must be {wanted} of them): none given", source="paths")
    return texts


def _in_memory(data: Any) -> str:
    """A hint for data in memory given as a path: emg.analyze takes it."""
    if isinstance(data, np.ndarray | Recording):
        return ": a recording in memory is analysed with emg.analyze"
    return ""


def channel_names(channels: Any) -> dict[str, str]:
    """``analyze_many``'s ``channels`` checked before any recording is read, taken as
    :func:`emg.read` takes them (:func:`~emg.io.library_input.channel_overrides`: a mapping
    ``{"glute": "EMG1"}`` or strings ``["glute=EMG1"]``).

    Raises
    ------
    EmgInputError
        Naming ``channels``: neither of those, a name that is not a string, an unknown
        muscle, a muscle given twice.
    """
    return channel_overrides(channels) or {}


def check_cluster(workers: Any, scheduler: Any) -> None:
    """Refuse ``workers`` that are not a whole number from 1 (a local cluster of none, or of
    -1, never starts), and ``workers`` with ``scheduler`` (whose cluster has its own), as
    ``emg analyze --workers`` does.

    Raises
    ------
    EmgInputError
        Naming ``workers`` or ``scheduler``.
    """
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, Integral):
            raise EmgInputError(
                f"must be a whole number from 1, got {workers!r:.40}", source="workers"
            )
        if workers < 1:
            raise EmgInputError(f"must be at least 1, got {workers}", source="workers")
        if scheduler is not None:
            raise EmgInputError(
                "sizes the local cluster; with scheduler the running cluster's workers are "
                "used: give one of them",
                source="workers",
            )
    if scheduler is not None and not isinstance(scheduler, str):
        raise EmgInputError(
            f"must be the scheduler's address ({ADDRESS}), got {type(scheduler).__name__}",
            source="scheduler",
        )
