from __future__ import annotations

from typing import Any

from emg.validation.targets import HamstringFirstCalls, hamstring_first_calls, judge_targets


def _row(family: str, group: str, label: str, **figures: Any) -> dict[str, Any]:
    row = {
        "family": family,
        "group": group,
        "label": label,
        "onset": {"median": 5.0, "signed_median": 1.0, "missed": 0, "spurious": 0, "onsets": 100},
        "lead": {"median": 0.0},
        "order": {"accuracy": 1.0, "wrong_side": 0},
        "near_zero": {"hamstring_first": 0},
        "flags": {"false_flags": 0},
    }
    for key, value in figures.items():
        part, name = key.split("__")
        row[part] = {**row[part], name: value}
    return row


def _grid(**changes: dict[str, Any]) -> dict[str, Any]:
    """Every condition of two families, all good, with ``changes`` per row label."""
    labels = [("equal SNR", f"{db} dB") for db in (20, 10, 5)]
    labels += [("unequal SNR", "glute 5 / hamstring 20 dB")]
    labels += [
        ("recruitment", f"{m} slow, {db} dB") for m in ("glute", "hamstring") for db in (20, 5)
    ]
    labels += [("interference", "20 dB"), ("first burst", "10 dB")]
    rows = [
        _row(family, group, label, **changes.get(f"{family}/{label}", {}))
        for family in ("own", "spectral")
        for group, label in labels
    ]
    first = {"family": "own", "first": {"median": 9.0}, "later": {"median": 5.0}}
    return {"conditions": rows, "first_burst": [first]}


def test_every_target_holds_on_a_good_grid() -> None:
    results = judge_targets(_grid())
    assert len(results) == 15 and all(r.holds for r in results)
    first = next(r for r in results if r.target.startswith("first burst"))
    assert first.value == 4.0 and first.signed


def test_each_target_is_judged_on_its_worst_family_and_condition() -> None:
    results = {
        r.target: r
        for r in judge_targets(
            _grid(
                **{
                    "spectral/10 dB": {"onset__median": 21.0, "onset__signed_median": -6.0},
                    "own/10 dB": {
                        "onset__signed_median": 4.0,
                        "order__accuracy": 0.985,
                        "order__wrong_side": 1,
                    },
                    "own/glute slow, 5 dB": {
                        "lead__median": -25.0,
                        "near_zero__hamstring_first": 2,
                    },
                    "spectral/hamstring slow, 20 dB": {
                        "lead__median": 9.0,
                        "order__accuracy": 0.94,
                    },
                    "spectral/20 dB": {"onset__spurious": 3},
                }
            )
        )
    }
    at_10 = results["onset median |error| at 10 dB <= 20.0 ms"]
    assert (at_10.value, at_10.where, at_10.holds) == (21.0, "spectral: equal SNR: 10 dB", False)
    signed = results["onset signed median at 20 and 10 dB within +-5 ms"]
    assert (signed.value, signed.holds) == (-6.0, False)
    slow = results["lead median error, one muscle slow, 5 dB, within +-20 ms"]
    assert (slow.value, slow.where) == (-25.0, "own: recruitment: glute slow, 5 dB")
    assert results["lead median error, one muscle slow, 20 dB, within +-10 ms"].holds
    clear = results["order right, |lead| >= 80 ms, >= 10 dB, >= 99 %"]
    assert (clear.value, clear.where, clear.holds) == (98.5, "own: equal SNR: 10 dB", False)
    slow_order = results["order right, |lead| >= 80 ms, one muscle slow, 20 dB, >= 95 %"]
    assert (slow_order.value, slow_order.holds) == (94.0, False)
    near = results["reps within +-20 ms called hamstring-first: none"]
    assert (near.value, near.holds) == (2.0, False)
    spurious = results["spurious onsets <= 2 %"]
    assert (spurious.value, spurious.holds) == (3.0, False)
    assert results["missed onsets <= 2 %"].holds
    wrong = results["reps with |lead| >= 80 ms called the other side: none"]
    assert (wrong.value, wrong.where, wrong.holds) == (2.0, "all", False)  # two own 10 dB rows


def test_a_target_without_its_conditions_does_not_hold() -> None:
    grid = _grid()
    grid["conditions"] = [r for r in grid["conditions"] if r["group"] != "recruitment"]
    results = {r.target: r for r in judge_targets(grid)}
    slow = results["lead median error, one muscle slow, 20 dB, within +-10 ms"]
    assert (slow.value, slow.where, slow.holds) == (None, "-", False)


def test_hamstring_first_calls_add_up_over_every_condition() -> None:
    def sides(hamstring: tuple[int, int], glute: tuple[int, int]) -> dict[str, Any]:
        return {
            "hamstring_first": {"reps": hamstring[0], "called_hamstring_first": hamstring[1]},
            "glute_first": {"reps": glute[0], "called_hamstring_first": glute[1]},
        }

    rows = [
        {**_row("own", "equal SNR", "20 dB"), "sides": sides((10, 10), (10, 0))},
        {
            **_row("spectral", "recruitment", "hamstring slow, 5 dB", near_zero__reps=6),
            "sides": sides((10, 7), (10, 1)),
        },
    ]
    rows[0]["near_zero"] = {"reps": 4, "hamstring_first": 1}
    rows[1]["near_zero"]["hamstring_first"] = 2
    calls = hamstring_first_calls({"conditions": rows})
    # missed: 0 + 3 of 20; false: near-zero 1 + 2 and glute-first 0 + 1, of 4 + 6 + 10 + 10
    assert calls == HamstringFirstCalls(
        missed=3, hamstring_first=20, false=4, not_hamstring_first=30
    )
