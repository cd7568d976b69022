"""Checks of an exported BIDS-EMG dataset against the BIDS schema of bidsschematools.

Each check returns a list of problems (empty when the dataset complies), so a failing test
says everything that is wrong at once. Only the parts of the schema that an EMG export
touches are checked: file names, the required ``_emg.json`` fields and their types,
``channels.tsv`` and ``events.tsv`` columns, and ``dataset_description.json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bidsschematools import rules, schema, validator

from emg.io.json_files import SETTINGS_KEY

SCHEMA = schema.load_schema()

_SELECTOR = re.compile(r"""^([\w.]+) == ["'](.*)["']$""")


def level(rule: Any) -> str:
    """``required``, ``recommended`` or ``optional`` of a field or column rule."""
    return str(rule if isinstance(rule, str) else rule["level"])


def selectors_apply(selectors: list[str], context: Mapping[str, Any]) -> bool:
    """Evaluate the simple selectors the EMG rules use (``x == "y"``, ``sidecar.X == "y"``)."""
    for selector in selectors:
        match = _SELECTOR.match(selector)
        if match is None:
            raise AssertionError(f"selector not understood by this check: {selector}")
        key, value = match.groups()
        if key.startswith("sidecar."):
            actual = context["sidecar"].get(key.removeprefix("sidecar."))
        else:
            actual = context[key]
        if actual != value:
            return False
    return True


def satisfies(value: Any, definition: Mapping[str, Any]) -> bool:
    """True if ``value`` has the JSON type, enum and bounds of a schema object definition."""
    if "anyOf" in definition:
        return any(satisfies(value, option) for option in definition["anyOf"])
    kinds = {
        "string": str,
        "number": (int, float),
        "integer": int,
        "object": dict,
        "array": list,
        "boolean": bool,
    }
    kind = definition.get("type")
    if kind is not None:
        if isinstance(value, bool) and kind != "boolean":
            return False
        if not isinstance(value, kinds[kind]):
            return False
    if "enum" in definition and value not in definition["enum"]:
        return False
    if "minimum" in definition and value < definition["minimum"]:
        return False
    if "exclusiveMinimum" in definition and value <= definition["exclusiveMinimum"]:
        return False
    return True


def file_name_problems(root: Path) -> list[str]:
    """Files no schema rule names, and EMG data files that break the raw EMG rule."""
    paths = sorted(str(p) for p in root.rglob("*") if p.is_file())
    all_rules, _ = rules.regexify_all()
    unmatched = validator.validate_all(paths, all_rules)["path_tracking"]
    problems = [f"no BIDS rule matches {p}" for p in unmatched]
    emg_rules = rules.regexify_filename_rules(SCHEMA.rules.files.raw.emg, SCHEMA, level=1)
    rule = SCHEMA.rules.files.raw.emg.emg
    for path in root.glob("sub-*/**/emg/*_emg.*"):
        relative = path.relative_to(root).as_posix()
        matches = [re.fullmatch(r["regex"], relative) for r in emg_rules]
        found = next((m for m in matches if m), None)
        if found is None:
            problems.append(f"{relative} breaks the raw EMG file rule")
            continue
        if found["suffix"] not in rule.suffixes or found["extension"] not in rule.extensions:
            problems.append(f"{relative}: suffix or extension not allowed")
        for entity, need in rule.entities.items():
            if need == "required" and not found[entity]:
                problems.append(f"{relative}: required entity {entity} missing")
    return problems


def sidecar_problems(path: Path) -> list[str]:
    """Required ``_emg.json`` fields (whose selectors apply) missing or of the wrong type."""
    sidecar = json.loads(path.read_text(encoding="utf-8"))
    context = {"datatype": "emg", "suffix": "emg", "sidecar": sidecar}
    problems = []
    for name, group in SCHEMA.rules.sidecars.emg.items():
        if not selectors_apply(list(group.selectors), context):
            continue
        for field, rule in group.fields.items():
            if level(rule) != "required":
                continue
            if field not in sidecar:
                problems.append(f"{name}: required field {field} missing")
            elif not satisfies(sidecar[field], SCHEMA.objects.metadata[field].to_dict()):
                problems.append(f"{field} = {sidecar[field]!r} breaks its definition")
    for field, value in sidecar.items():
        definition = SCHEMA.objects.metadata.get(field)
        if field == SETTINGS_KEY:
            # emg's own field (the analysis settings), beside BIDS's: BIDS allows keys it
            # does not define, and the official validator does not flag it
            if not isinstance(value, dict):
                problems.append(f"{field} = {value!r} is not an object")
        elif definition is None:
            problems.append(f"{field} is not a BIDS metadata field")
        elif not satisfies(value, definition.to_dict()):
            problems.append(f"{field} = {value!r} breaks its definition")
    return problems


def table_problems(path: Path, table: Any) -> list[str]:
    """Columns of a TSV against a ``rules.tabular_data`` entry (order, names, values)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]
    names = {key: SCHEMA.objects.columns[key].name for key in table.columns}
    problems = []
    initial = [names[key] for key in table.get("initial_columns", [])]
    if header[: len(initial)] != initial:
        problems.append(f"first columns {header[: len(initial)]}, expected {initial}")
    for key, rule in table.columns.items():
        if level(rule) == "required" and names[key] not in header:
            problems.append(f"required column {names[key]} missing")
    if table.additional_columns == "allowed_if_defined":
        problems += [
            f"column {c} is not defined for this table" for c in header if c not in names.values()
        ]
    for key, name in names.items():
        definition = SCHEMA.objects.columns[key].to_dict()
        for row in rows:
            value = row.get(name, "n/a")
            if value == "n/a":
                continue
            typed = _typed(value, definition)
            if not satisfies(typed, definition):
                problems.append(f"{name} = {value!r} breaks its definition")
    return problems


def _typed(value: str, definition: Mapping[str, Any]) -> Any:
    kinds = {d.get("type") for d in definition.get("anyOf", [definition])}
    if kinds & {"number", "integer"}:
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() and "integer" in kinds else number
    return value


def description_problems(path: Path) -> list[str]:
    """Required ``dataset_description.json`` fields missing."""
    description = json.loads(path.read_text(encoding="utf-8"))
    fields = SCHEMA.rules.json.dataset.dataset_description.fields
    problems = [
        f"required field {field} missing"
        for field, rule in fields.items()
        if level(rule) == "required" and field not in description
    ]
    for field, value in description.items():
        definition = SCHEMA.objects.metadata.get(field)
        if definition is not None and not satisfies(value, definition.to_dict()):
            problems.append(f"{field} = {value!r} breaks its definition")
    return problems
