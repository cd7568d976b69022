"""The accuracy targets of the onset and lead estimation, judged on a family validation.

Each target is judged on the worst family and condition it covers, never on an average: a
detector that is right on the project's own generator and late on a motor-unit model fails.
The targets (what the onset and lead must achieve before an estimator can be the default):

- median |onset error| at most 10 / 20 / 40 ms at 20 / 10 / 5 dB (equal SNR), and its signed
  median within +-5 ms from 10 dB up;
- at most 2 % of the true onsets missed, and spurious onsets at most 2 % of them;
- the first burst of a stream (0.5-1.5 s after it starts) within 5 ms of the later bursts
  (median |error|);
- the lead's median error within +-10 ms with one muscle recruiting slowly at 20 dB and with
  5 against 20 dB SNR either way, within +-20 ms with one muscle slow at 5 dB;
- the order right for at least 99 % of the reps with |lead| >= 80 ms from 10 dB up (95 % with
  one muscle recruiting slowly), no rep with |lead| >= 80 ms called the other side, no rep
  within +-20 ms called hamstring-first, and no flag on a glute-first set.

Beside the targets, :func:`hamstring_first_calls` counts the two errors of the call the
athlete is warned on, over every family and condition: hamstring-first reps missed, and reps
called hamstring-first that were not. The targets ask for both to be rare and the two trade
against each other through the order margin, so a refinement is weighed on both.

Only numbers come out (:func:`judge_targets`); printing is the command's job.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True)
class TargetResult:
    """One target, judged on a family validation.

    Attributes
    ----------
    target
        What is measured and its limit, in words.
    value
        The worst figure over the rows it covers (None when none had one).
    where
        The family and condition of that figure (``family: condition``), or ``all`` for a
        count over every row or a figure every row has.
    holds
        Whether the worst figure is within the limit (False when there was no figure).
    unit
        ``ms``, ``%`` or ``reps`` (how ``value`` reads).
    signed
        Whether ``value`` is a signed error (its sign says early or late).
    """

    target: str
    value: float | None
    where: str
    holds: bool
    unit: str
    signed: bool = False


def _label(row: Row) -> str:
    return f"{row['family']}: {row['group']}: {row['label']}"


def _rows(rows: list[Row], group: str, label: Callable[[str], bool]) -> list[Row]:
    return [r for r in rows if r["group"] == group and label(r["label"])]


def _worst(
    target: str,
    rows: Iterable[Row],
    figure: Callable[[Row], float | None],
    within: Callable[[float], bool],
    unit: str,
    badness: Callable[[float], float] = abs,
    signed: bool = False,
) -> TargetResult:
    """The row whose figure is worst (largest ``badness``), judged by ``within``."""
    found = [(value, row) for row in rows if (value := figure(row)) is not None]
    if not found:
        return TargetResult(target, None, "-", False, unit, signed)
    value, row = max(found, key=lambda pair: badness(pair[0]))
    where = "all" if len({v for v, _ in found}) == 1 and len(found) > 1 else _label(row)
    return TargetResult(target, value, where, within(value), unit, signed)


def _count(target: str, rows: list[Row], figure: Callable[[Row], int]) -> TargetResult:
    total = sum(figure(r) for r in rows)
    return TargetResult(target, float(total), "all", total == 0, "reps")


def _ending(suffix: str) -> Callable[[str], bool]:
    return lambda label: label.endswith(suffix)


def _snr(db: int) -> Callable[[str], bool]:
    return lambda label: label == f"{db} dB"


def judge_targets(summary: dict[str, Any]) -> list[TargetResult]:
    """Judge the targets on a family validation's tables.

    Parameters
    ----------
    summary
        :func:`~emg.validation.families.summarize_families`'s tables: its
        ``conditions`` (one row per family and condition) and ``first_burst`` rows.

    Returns
    -------
    list of TargetResult
        One per target, in the order of the module's list; a target whose conditions are not
        in ``summary`` (a reduced grid) has no value and does not hold.
    """
    rows: list[Row] = summary["conditions"]
    results = [
        _worst(
            f"onset median |error| at {db} dB <= {limit} ms",
            _rows(rows, "equal SNR", _snr(db)),
            lambda r: r["onset"]["median"],
            partial(operator.ge, limit),
            "ms",
        )
        for db, limit in ((20, 10.0), (10, 20.0), (5, 40.0))
    ]
    results.append(
        _worst(
            "onset signed median at 20 and 10 dB within +-5 ms",
            [r for db in (20, 10) for r in _rows(rows, "equal SNR", _snr(db))],
            lambda r: r["onset"]["signed_median"],
            lambda v: abs(v) <= 5.0,
            "ms",
            signed=True,
        )
    )
    for kind in ("missed", "spurious"):
        results.append(
            _worst(
                f"{kind} onsets <= 2 %",
                rows,
                partial(_share_of_onsets, kind),
                lambda v: v <= 2.0,
                "%",
            )
        )
    results.append(
        _worst(
            "first burst median |error| within 5 ms of the later bursts'",
            [
                {**r, "group": "first burst", "label": "first vs later"}
                for r in summary.get("first_burst", [])
            ],
            _first_against_later,
            lambda v: abs(v) <= 5.0,
            "ms",
            signed=True,
        )
    )
    lead_conditions = (
        ("one muscle slow, 20 dB", "recruitment", "slow, 20 dB", 10.0),
        ("5 vs 20 dB SNR either way", "unequal SNR", "", 10.0),
        ("one muscle slow, 5 dB", "recruitment", "slow, 5 dB", 20.0),
    )
    results += [
        _worst(
            f"lead median error, {what}, within +-{limit:g} ms",
            _rows(rows, group, _ending(ending)),
            lambda r: r["lead"]["median"],
            partial(_within, limit),
            "ms",
            signed=True,
        )
        for what, group, ending, limit in lead_conditions
    ]
    results += [
        _worst(
            "order right, |lead| >= 80 ms, >= 10 dB, >= 99 %",
            [
                r
                for r in rows
                if r["group"] in ("equal SNR", "interference", "first burst")
                and r["label"] != "5 dB"
            ],
            _accuracy,
            lambda v: v >= 99.0,
            "%",
            badness=lambda v: -v,
        ),
        _worst(
            "order right, |lead| >= 80 ms, one muscle slow, 20 dB, >= 95 %",
            _rows(rows, "recruitment", _ending("slow, 20 dB")),
            _accuracy,
            lambda v: v >= 95.0,
            "%",
            badness=lambda v: -v,
        ),
        _count(
            "reps with |lead| >= 80 ms called the other side: none",
            rows,
            lambda r: int(r["order"].get("wrong_side", 0)),
        ),
        _count(
            "reps within +-20 ms called hamstring-first: none",
            rows,
            lambda r: int(r["near_zero"]["hamstring_first"]),
        ),
        _count("flags on glute-first sets: none", rows, lambda r: int(r["flags"]["false_flags"])),
    ]
    return results


@dataclass(frozen=True)
class HamstringFirstCalls:
    """How the hamstring-first call, the one the athlete is warned on, fared over every family
    and condition of a family validation (a count to weigh refinements by, not a target).

    Attributes
    ----------
    missed, hamstring_first
        Reps with the hamstring first by at least 80 ms not called hamstring-first (called
        simultaneous or glute-first), of how many.
    false, not_hamstring_first
        Reps within +-20 ms or with the glute first by at least 80 ms called hamstring-first,
        of how many.
    """

    missed: int
    hamstring_first: int
    false: int
    not_hamstring_first: int


def hamstring_first_calls(summary: dict[str, Any]) -> HamstringFirstCalls:
    """Sum the hamstring-first calls of a family validation's conditions.

    Parameters
    ----------
    summary
        :func:`~emg.validation.families.summarize_families`'s tables.

    Returns
    -------
    HamstringFirstCalls
        Missed and false hamstring-first calls over every condition.
    """
    rows: list[Row] = summary["conditions"]
    hamstring = [r["sides"]["hamstring_first"] for r in rows]
    glute = [r["sides"]["glute_first"] for r in rows]
    return HamstringFirstCalls(
        missed=sum(s["reps"] - s["called_hamstring_first"] for s in hamstring),
        hamstring_first=sum(s["reps"] for s in hamstring),
        false=sum(int(r["near_zero"]["hamstring_first"]) for r in rows)
        + sum(s["called_hamstring_first"] for s in glute),
        not_hamstring_first=sum(int(r["near_zero"]["reps"]) for r in rows)
        + sum(s["reps"] for s in glute),
    )


def _within(limit: float, value: float) -> bool:
    """Whether a signed figure is within +-``limit``."""
    return abs(value) <= limit


def _share_of_onsets(kind: str, row: Row) -> float:
    """Missed or spurious onsets of a row, per cent of its true onsets."""
    return 100.0 * float(row["onset"][kind]) / max(int(row["onset"]["onsets"]), 1)


def _first_against_later(row: Row) -> float | None:
    first, later = row["first"]["median"], row["later"]["median"]
    return None if first is None or later is None else round(first - later, 1)


def _accuracy(row: Row) -> float | None:
    accuracy = row["order"]["accuracy"]
    return None if accuracy is None else round(100.0 * accuracy, 1)
