"""Many recordings analysed in parallel on Dask, each exactly as alone, into one table.

Every recording goes through :func:`analyze_session`: read (:func:`emg.api.read`), settings
resolved (:func:`emg.settings_resolution.resolve_settings`), analysed and summarised as
``emg analyze FILE --json`` prints it, then turned into table rows
(:mod:`emg.analysis.batch`). On a local cluster of worker processes (one per core by default)
or on a running cluster (its workers need ``emg-toolkit`` installed and the files at the same
paths); a recording that fails is reported (file and reason) and the others go on. The reps of
all recordings are collected in the order the inputs were given.

Dask (``distributed``) is imported only when a batch runs on a cluster: one recording at a
time works without it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from emg.analysis.batch import (
    SessionFailure,
    SessionRows,
    failures_table,
    rep_rows,
    reps_table,
    session_info,
)
from emg.analysis.offline import analyze_recording
from emg.analysis.summary import summarize
from emg.batch_arguments import ADDRESS as _ADDRESS
from emg.batch_arguments import channel_names, check_cluster, path_texts
from emg.dsp.chain_limits import SettingError
from emg.errors import EmgInputError
from emg.io.batch_inputs import expand_inputs
from emg.io.channel_map import parse_channel_overrides
from emg.io.library_input import LIBRARY_OPTIONS
from emg.io.open_recording import COMMAND_LINE_OPTIONS, open_recording, recording_format
from emg.io.output_guard import check_not_a_recording, check_output_path
from emg.io.rep_table import TABLE_SUFFIXES, failures_path, table_format
from emg.settings_resolution import (
    LIBRARY_SETTINGS,
    SettingOverrides,
    default_settings,
    library_overrides,
    resolve_settings,
)

if TYPE_CHECKING:
    from distributed import Client

#: What to install for a batch on Dask (the toolkit is installed from its checkout).
DASK_HINT = "python -m pip install -e '.[batch]' in the toolkit's checkout"

#: Dask's settings of the environment its worker processes start with.
_PRE_SPAWN = "distributed.nanny.pre-spawn-environ"

#: Seconds a running Dask cluster's scheduler has to answer (connection, handshake and the
#: client's registration, each).
SCHEDULER_TIMEOUT_S = 20.0

#: The Dask servers (``identity()["type"]``) a client cannot use as its scheduler.
_NOT_SCHEDULERS = ("Worker", "Nanny")

#: Called after each finished recording with (finished, failed).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BatchJob:
    """How every recording of a batch is analysed (sent to the workers).

    Attributes
    ----------
    channels
        Which column is which muscle (``--channel``), by muscle; empty: from the names.
    overrides
        Settings given (:class:`~emg.settings_resolution.SettingOverrides`).
    option_names
        The option that gave each setting (``chain.highpass_hz`` -> ``--highpass``), so
        that a setting a recording cannot run with is reported as the command line gave it;
        empty: by the setting's own name.
    stream
        In the XDF files, the stream to read (``--stream``; see
        :func:`~emg.io.open_recording.open_recording`; the other recordings have one); None:
        the one EMG stream.
    reader_options
        How the messages of the readers name ``stream`` and ``channels``
        (:func:`~emg.io.open_recording.open_recording`'s ``options``): the command line's
        options, or the library's arguments.
    """

    channels: Mapping[str, str] = field(default_factory=dict)
    overrides: SettingOverrides = field(default_factory=SettingOverrides)
    option_names: Mapping[str, str] = field(default_factory=dict)
    stream: str | None = None
    reader_options: tuple[str, str] = COMMAND_LINE_OPTIONS


def analyze_session(path: str, session: str, job: BatchJob) -> SessionRows | SessionFailure:
    """Analyse one recording into its table rows; the task each Dask worker runs.

    Parameters
    ----------
    path
        Where to read it (absolute, for workers in another folder; else as given).
    session
        Its name in the table (the path as given).
    job
        How to analyse it.

    Returns
    -------
    SessionRows or SessionFailure
        The rows (from the same summary ``emg analyze FILE --json`` prints), or why it failed:
        the message of an input error (naming file, field, line or setting), else the
        exception's type and message.
    """
    try:
        overrides = parse_channel_overrides([f"{m}={c}" for m, c in job.channels.items()])
        # the stream is chosen in the batch's XDF files; its other recordings have one
        xdf = job.stream is not None and recording_format(Path(path)) == "xdf"
        recording = open_recording(
            Path(path),
            overrides or None,
            job.stream if xdf else None,
            options=job.reader_options,
        )
        try:
            config = resolve_settings(recording, job.overrides)
        except SettingError as error:
            if error.setting not in job.option_names:
                raise
            option = job.option_names[error.setting]
            raise EmgInputError(f"{option}: {error.reason}", source="command line") from None
        summary = summarize(analyze_recording(recording, config), recording)
        info = session_info(recording.metadata, recording.events, session)
        return SessionRows(session, tuple(rep_rows(session, summary, info)))
    except EmgInputError as error:
        return SessionFailure(session, str(error))
    except Exception as error:
        return SessionFailure(session, _describe(error))


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


@dataclass
class BatchResult:
    """What a batch gave.

    Attributes
    ----------
    sessions
        The rows of every recording analysed, in input order.
    failures
        The recordings that failed, in input order.
    """

    sessions: list[SessionRows] = field(default_factory=list)
    failures: list[SessionFailure] = field(default_factory=list)

    @property
    def reps(self) -> pd.DataFrame:
        """The table of every rep (see :mod:`emg.analysis.batch`)."""
        return reps_table(self.sessions)

    @property
    def failures_frame(self) -> pd.DataFrame:
        """The failures as a table (``session``, ``error``)."""
        return failures_table(self.failures)


def analyze_batch(
    inputs: Sequence[Path],
    job: BatchJob,
    client: Client | None = None,
    progress: Progress | None = None,
    absolute: bool = False,
) -> BatchResult:
    """Analyse recordings, each as ``emg analyze FILE`` would, on Dask or in this process.

    Parameters
    ----------
    inputs
        The recordings (see :func:`emg.io.batch_inputs.expand_inputs`); each is named in the
        table by its path as given.
    job
        How every recording is analysed.
    client
        A Dask client: one task per recording on its cluster. None: one after the other here.
    progress
        Called after each recording with the number finished and failed so far.
    absolute
        Send the workers absolute paths (for a cluster whose workers run in another folder);
        else the paths as given, so that every message names the file as ``emg analyze FILE``
        would.

    Returns
    -------
    BatchResult
        In input order, whatever order the tasks finished in.
    """
    jobs = [(str(path.resolve() if absolute else path), str(path)) for path in inputs]
    results: list[SessionRows | SessionFailure | None] = [None] * len(jobs)
    failed = 0
    for done, (index, result) in enumerate(_results(jobs, job, client), 1):
        results[index] = result
        failed += isinstance(result, SessionFailure)
        if progress is not None:
            progress(done, failed)
    batch = BatchResult()
    for outcome in results:
        if isinstance(outcome, SessionRows):
            batch.sessions.append(outcome)
        elif isinstance(outcome, SessionFailure):
            batch.failures.append(outcome)
    return batch


def _results(
    jobs: list[tuple[str, str]], job: BatchJob, client: Client | None
) -> Iterator[tuple[int, SessionRows | SessionFailure]]:
    """``(input index, result)`` as each recording finishes."""
    if client is None:
        for index, (path, session) in enumerate(jobs):
            yield index, analyze_session(path, session, job)
        return
    from distributed import as_completed

    futures = [
        client.submit(analyze_session, path, session, job, pure=False) for path, session in jobs
    ]
    position = {future.key: index for index, future in enumerate(futures)}
    for future in as_completed(futures):  # type: ignore[no-untyped-call]
        index = position[future.key]
        try:
            result: SessionRows | SessionFailure = future.result()
        except Exception as error:  # the worker died, or the task could not run
            result = SessionFailure(jobs[index][1], _describe(error))
        future.release()
        yield index, result


def check_table_output(out: Path) -> Path:
    """Refuse a reps table the batch could not write, before any recording is analysed.

    Parameters
    ----------
    out
        Where the table of reps is to be written (``.parquet`` or ``.csv``).

    Returns
    -------
    Path
        Where the failures are written beside it (:func:`emg.io.rep_table.failures_path`).

    Raises
    ------
    EmgInputError
        Naming the file: it, or the failures file beside it, is a folder (which Parquet and
        CSV writers only said once every recording had been analysed); it ends in neither
        ``.parquet`` nor ``.csv``; it would be written into a recorded session's folder, or
        over a recording.
    """
    if out.is_dir():
        suffix = out.suffix.lower() if out.suffix.lower() in TABLE_SUFFIXES else ".parquet"
        raise EmgInputError(
            f"is a folder; the table is written to a file: name one, e.g. {out / f'reps{suffix}'}",
            source=str(out),
        )
    table_format(out)
    failures = failures_path(out)
    if failures.is_dir():
        raise EmgInputError(
            f"is a folder; the recordings that fail are listed in this file beside the table "
            f"{out.name}: move it, or name another table",
            source=str(failures),
        )
    check_output_path(out)
    check_not_a_recording(out)
    return failures


def default_workers() -> int:
    """The cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def require_dask() -> None:
    """Raise a clear error when Dask's ``distributed`` is not installed."""
    if importlib.util.find_spec("distributed") is None:
        raise EmgInputError(
            "analysing several recordings runs on Dask, which is not installed: "
            f"{DASK_HINT} (one recording at a time works without it)"
        )


def main_script_rerunnable() -> bool:
    """Whether worker processes can start: each runs the main script again (Python's
    ``spawn``), which must then be a file; a script read from standard input (``python -``)
    is not one, and Dask's workers failed to start with a ``FileNotFoundError`` for
    ``<stdin>``. An interactive session or ``python -c`` has no main script, and works.
    """
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    return main_file is None or Path(main_file).is_file()


@contextmanager
def local_client(workers: int) -> Iterator[Client]:
    """A client of a local cluster of ``workers`` single-threaded processes, closed after.

    The workers are started without the ``MALLOC_TRIM_THRESHOLD_=65536`` Dask sets for
    long-lived workers by default: it made the analysis of a recording about 20 % slower
    (``benchmarks/bench_batch.py``), and these workers live for one batch only.
    """
    require_dask()
    import dask.config
    from distributed import Client, LocalCluster

    with dask.config.set({f"{_PRE_SPAWN}.MALLOC_TRIM_THRESHOLD_": None}):
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
        )
    with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client


@contextmanager
def remote_client(
    address: str, option: str | None = None, timeout_s: float | None = None
) -> Iterator[Client]:
    """A client of the running cluster at ``address``, closed after.

    Parameters
    ----------
    address
        The scheduler's address (``tcp://HOST:PORT``).
    option
        The option that gave it (``--scheduler``), for the messages.
    timeout_s
        Seconds the scheduler has to answer (default :data:`SCHEDULER_TIMEOUT_S`).

    Raises
    ------
    EmgInputError
        Naming ``option`` (else the address): a missing Dask, an address that is none, or no
        Dask scheduler answering there in time (see :func:`check_scheduler`).
    """
    timeout = SCHEDULER_TIMEOUT_S if timeout_s is None else timeout_s
    check_scheduler(address, option, timeout)
    from distributed import Client

    try:
        client = Client(address, timeout=timeout)  # type: ignore[no-untyped-call]
    except (OSError, ValueError):  # it stopped answering since
        raise _scheduler_error(address, option, _no_answer(timeout)) from None
    with client:
        yield client


def check_scheduler(
    address: str, option: str | None = None, timeout_s: float | None = None
) -> None:
    """Refuse an address where no Dask scheduler answers within ``timeout_s``.

    ``distributed.Client(address, timeout=...)`` bounds the connection, not the handshake
    after it: a server that takes the connection and never answers (an HTTP server) held it
    for ever, and a reply that is not Dask's was read as the length of a message (exabytes
    asked for). The handshake is made here first, bounded as a whole, in a thread of its own
    (so that it works beside a running event loop, as in a notebook).

    Parameters
    ----------
    address
        The scheduler's address (``tcp://HOST:PORT``).
    option
        The option that gave it (``--scheduler``), for the messages.
    timeout_s
        Seconds to wait for its answer (default :data:`SCHEDULER_TIMEOUT_S`).

    Raises
    ------
    EmgInputError
        Naming ``option`` and the address (else the address): a missing Dask, an address
        Dask cannot read, nothing answering within ``timeout_s``, or an answer that is not a
        Dask server's.
    """
    require_dask()
    timeout = SCHEDULER_TIMEOUT_S if timeout_s is None else timeout_s
    try:
        with ThreadPoolExecutor(1) as pool:
            identity = pool.submit(asyncio.run, _identity(address, timeout)).result()
    except ValueError as error:  # raised before any connection: an address Dask cannot read
        hint = f"give the one the scheduler printed ({_ADDRESS})"
        reason = f"not a Dask scheduler's address: {error}; {hint}"
        raise _scheduler_error(address, option, reason) from None
    except OSError:  # nothing answered (TimeoutError is one), or the connection was closed
        raise _scheduler_error(address, option, _no_answer(timeout)) from None
    except Exception:  # an answer, but not Dask's (its first bytes taken for a length ...)
        identity = None
    kind = identity.get("type") if isinstance(identity, dict) else None
    if kind in _NOT_SCHEDULERS:
        reason = f"is a Dask {kind.lower()}, not the scheduler: give the scheduler's address"
        raise _scheduler_error(address, option, f"{reason} ({_ADDRESS})")
    if kind is None:
        reason = "what answers there is not a Dask scheduler"
        hint = f"is this the address the scheduler printed ({_ADDRESS})?"
        raise _scheduler_error(address, option, f"{reason}: {hint}")


async def _identity(address: str, timeout_s: float) -> Any:
    """What the Dask server at ``address`` says it is, asked within ``timeout_s`` in all
    (connection, handshake and answer)."""
    from distributed import rpc

    async def ask() -> Any:
        async with rpc(address, timeout=timeout_s) as server:  # type: ignore[no-untyped-call]
            return await server.identity()

    return await asyncio.wait_for(ask(), timeout_s)


def _no_answer(timeout_s: float) -> str:
    return (
        f"no Dask scheduler answered within {timeout_s:g} s: is it running, and is this the "
        f"address it printed ({_ADDRESS})?"
    )


def _scheduler_error(address: str, option: str | None, reason: str) -> EmgInputError:
    """``OPTION ADDRESS: reason`` from the command line, else ``ADDRESS: reason``."""
    if option is None:
        return EmgInputError(reason, source=address)
    return EmgInputError(f"{option} {address}: {reason}", source="command line")


def analyze_many(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    channels: Mapping[str, str] | Sequence[str] | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    **settings: Any,
) -> pd.DataFrame:
    """Analyse many recordings, each as :func:`emg.analyze` would, into one table of reps.

    Parameters
    ----------
    paths
        Recordings, folders of recordings (searched recursively; a session folder is one
        recording, a BIDS dataset one per EMG file) and glob patterns.
    channels
        Which column is which muscle, for every recording, as :func:`emg.read` takes it: a
        mapping ``{"glute": "EMG1"}`` or ``["glute=EMG1"]`` (as ``--channel glute=EMG1``);
        None: from the column names.
    workers
        Local worker processes, a whole number from 1 (default: one per core); one recording
        runs in this process.
    scheduler
        Address of a running Dask cluster (``tcp://HOST:PORT``) instead (then without
        ``workers``: the cluster's own are used).
    **settings
        As :func:`emg.analyze` takes them (``exercise``, ``mvc``, ``rest``, ``mains``,
        ``refinement``, ``lead``); those that hold for every recording are checked before
        any is read, as ``emg analyze PATHS --out`` checks its options (an ``mvc`` trial and a
        ``rest`` period depend on each recording: one that does not fit it fails that
        recording, in ``.attrs["failures"]``).

    Returns
    -------
    pandas.DataFrame
        One row per rep of every recording, in input order (the table ``emg analyze PATHS
        --out`` writes); ``.attrs["failures"]`` holds the recordings that failed and why.

    Raises
    ------
    EmgInputError
        Naming the argument at fault (``paths``, ``channels``, ``workers``, ``scheduler``), a
        setting that is not known or that no recording could be analysed with (a
        :class:`~emg.dsp.chain_limits.SettingError` naming it, as :func:`emg.analyze` raises
        it), paths that match no recording, a missing Dask or an unreachable scheduler.
    """
    unknown = sorted(set(settings) - set(LIBRARY_SETTINGS))
    if unknown:
        raise EmgInputError(f"not a setting of an analysis: {', '.join(unknown)}")
    overrides = library_overrides(**settings)
    default_settings(overrides)  # the settings checked before any recording is read
    texts = path_texts(paths)
    job = BatchJob(channel_names(channels), overrides, reader_options=LIBRARY_OPTIONS)
    check_cluster(workers, scheduler)
    inputs = expand_inputs(texts)
    if scheduler is not None:
        with remote_client(scheduler) as client:
            result = analyze_batch(inputs, job, client, absolute=True)
    elif len(inputs) > 1 and main_script_rerunnable():
        with local_client(min(workers or default_workers(), len(inputs))) as client:
            result = analyze_batch(inputs, job, client)
    else:
        if len(inputs) > 1:
            warnings.warn(
                "worker processes cannot start from a script read from standard input (each "
                "runs the main script again): the recordings are analysed here, one after "
                "another; save the script as a file to use them",
                stacklevel=2,
            )
        result = analyze_batch(inputs, job)
    reps = result.reps
    reps.attrs["failures"] = result.failures_frame
    return reps
