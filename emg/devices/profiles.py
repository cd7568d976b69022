"""Sensor profiles: one TOML file per sensor in ``firmware_configs/``, loaded and validated.

A profile is data, not code. Layout (every table and field is checked for its type and range,
and a key that is not in this layout is refused, with the closest known key suggested; an error
names the file, the table and the key). ``[decoder]`` takes the chosen decoder's own parameters
and ``[extra]`` is a free-form table of notes (it must be a table)::

    name = "emg-stream-v1"                 # unique; what --profile and `emg decode` take
    description = "..."
    manufacturer = "..."                   # optional: who makes the sensor, and its model,
    model = "..."                          # written to exports (BIDS Manufacturer ...)

    [match]                                # how `emg scan` recognises the sensor
    names = ["EMG-*"]                      # shell-style patterns on the advertised name
    services = ["e3a10001-..."]            # advertised service UUIDs (any one matches)

    [gatt]
    service = "e3a10001-..."
    notify = ["e3a10002-..."]              # characteristics to subscribe to, in order
    control = "e3a10003-..."               # where commands are written (optional)
    start = ["01"]                         # hex bytes written to start streaming, in order
    stop = ["02"]
    write_with_response = true
    battery = "2a19"                       # a readable battery level in percent (optional;
                                           # the standard Battery Level characteristic)

    [stream]
    sample_rate = 1000.0                   # per channel
    channels = 1
    scale_uv = 4.028                       # microvolts per count (1.0 if already in uV)

    [decoder]
    kind = "emg-stream-v1"                 # a registered decoder (emg.devices.decoders)
    # ... the decoder's own parameters

    [muscles]
    default = ["glute"]                    # muscle name per channel, when not given
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emg.devices.decoding import DECODERS, Decoder, make_decoder
from emg.errors import EmgInputError
from emg.muscles import parse_muscle_name

UUID_PATTERN = re.compile(
    r"^(?:[0-9a-f]{4}|[0-9a-f]{8}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
BLUETOOTH_BASE = "-0000-1000-8000-00805f9b34fb"


@dataclass(frozen=True)
class SensorProfile:
    """A validated sensor profile (see the module docstring for the TOML layout)."""

    name: str
    description: str
    path: Path
    name_patterns: tuple[str, ...]
    advertised_services: tuple[str, ...]
    service: str
    notify: tuple[str, ...]
    control: str | None
    start: tuple[bytes, ...]
    stop: tuple[bytes, ...]
    write_with_response: bool
    sample_rate: float
    channels: int
    scale_uv: float
    decoder_kind: str
    decoder_params: Mapping[str, Any] = field(default_factory=dict)
    muscles: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    manufacturer: str = ""
    model: str = ""
    battery: str | None = None

    def decoder(self) -> Decoder:
        """A fresh decoder for one sensor of this kind."""
        return make_decoder(
            self.decoder_kind, self.decoder_params, self.channels, self.scale_uv, self.sample_rate
        )


def full_uuid(text: str) -> str:
    """Lower-case 128-bit form of a UUID given as 16-, 32- or 128-bit text."""
    key = text.strip().lower()
    if len(key) == 4:
        return f"0000{key}{BLUETOOTH_BASE}"
    if len(key) == 8:
        return f"{key}{BLUETOOTH_BASE}"
    return key


class _Reader:
    """Typed access to a TOML table, with errors naming file and field."""

    def __init__(self, values: Mapping[str, Any], path: Path, prefix: str = "") -> None:
        self.values, self.path, self.prefix = values, path, prefix

    def error(self, key: str, message: str) -> EmgInputError:
        return EmgInputError(message, source=str(self.path), field=self.prefix + key)

    def table(self, key: str, required: bool = True) -> _Reader:
        value = self.values.get(key)
        if value is None and not required:
            return _Reader({}, self.path, f"{self.prefix}{key}.")
        if not isinstance(value, dict):
            raise self.error(key, "missing table" if value is None else "must be a table")
        return _Reader(value, self.path, f"{self.prefix}{key}.")

    def check_keys(self, known: Sequence[str]) -> None:
        """Refuse a key that is not in ``known`` (a typo would otherwise be ignored)."""
        for key in self.values:
            if key not in known:
                where = f"[{self.prefix.rstrip('.')}]" if self.prefix else "the top level"
                raise self.error(key, unknown_key_message(key, where, known))

    def flag(self, key: str, default: bool) -> bool:
        value = self.values.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false (without quotes), not {value!r}")
        return value

    def text(self, key: str, default: str | None = None) -> str:
        value = self.values.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "missing" if value is None else "must be a non-empty string")
        return value.strip()

    def number(self, key: str, low: float, high: float) -> float:
        value = self.values.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, "missing" if value is None else "must be a number")
        if not low <= value <= high:
            raise self.error(key, f"{value} is outside {low:g} .. {high:g}")
        return float(value)

    def texts(self, key: str, required: bool = False) -> tuple[str, ...]:
        value = self.values.get(key, [] if not required else None)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, "missing" if value is None else "must be a list of strings")
        if required and not value:
            raise self.error(key, "must not be empty")
        return tuple(value)

    def uuid(self, key: str, required: bool = True) -> str | None:
        if key not in self.values and not required:
            return None
        return self._check_uuid(key, self.text(key))

    def uuids(self, key: str, required: bool = False) -> tuple[str, ...]:
        return tuple(self._check_uuid(key, v) for v in self.texts(key, required))

    def _check_uuid(self, key: str, value: str) -> str:
        if not UUID_PATTERN.match(value.strip().lower()):
            raise self.error(key, f"'{value}' is not a Bluetooth UUID")
        return full_uuid(value)

    def commands(self, key: str) -> tuple[bytes, ...]:
        out = []
        for text in self.texts(key):
            try:
                out.append(bytes.fromhex(text))
            except ValueError:
                raise self.error(
                    key, f"'{text}' is not hex bytes (e.g. \"01 03 03 00 00\")"
                ) from None
        return tuple(out)


#: The keys of each table (``[decoder]`` keys are checked by the decoder, ``[extra]`` is free).
KNOWN_KEYS: Mapping[str, tuple[str, ...]] = {
    "": (
        "name",
        "description",
        "manufacturer",
        "model",
        "match",
        "gatt",
        "stream",
        "decoder",
        "muscles",
        "extra",
    ),
    "match": ("names", "services"),
    "gatt": ("service", "notify", "control", "start", "stop", "write_with_response", "battery"),
    "stream": ("sample_rate", "channels", "scale_uv"),
    "muscles": ("default",),
}


def unknown_key_message(key: str, where: str, known: Sequence[str]) -> str:
    """``unknown key 'batery' in [gatt]; did you mean 'battery'? (known: ...)``."""
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown key '{key}' in {where}{hint} (known: {', '.join(sorted(known))})"


def load_profile(path: str | Path) -> SensorProfile:
    """Read and validate one profile.

    Raises
    ------
    EmgInputError
        Naming the file and field: unreadable TOML, a missing or ill-typed field, a bad UUID
        or hex command, an unknown decoder kind or parameter, an unknown muscle.
    """
    path = Path(path)
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EmgInputError("no such profile file", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise EmgInputError(f"cannot read: {error}", source=str(path)) from None
    except tomllib.TOMLDecodeError as error:
        raise EmgInputError(f"not valid TOML: {error}", source=str(path)) from None
    top = _Reader(values, path)
    top.check_keys(KNOWN_KEYS[""])
    match, gatt = top.table("match", required=False), top.table("gatt")
    stream, decoder = top.table("stream"), top.table("decoder")
    muscle_table = top.table("muscles", required=False)
    extra = top.table("extra", required=False)
    for name, table in (("match", match), ("gatt", gatt), ("stream", stream)):
        table.check_keys(KNOWN_KEYS[name])
    muscle_table.check_keys(KNOWN_KEYS["muscles"])
    channels = int(stream.number("channels", 1, 64))
    if channels != stream.values["channels"]:
        raise stream.error("channels", "must be a whole number")
    muscles = muscle_table.texts("default")
    for muscle in muscles:
        try:
            parse_muscle_name(muscle)
        except KeyError as error:
            raise EmgInputError(
                str(error.args[0]), source=str(path), field="muscles.default"
            ) from None
    if muscles and len(muscles) != channels:
        raise EmgInputError(
            f"{len(muscles)} muscles for {channels} channels",
            source=str(path),
            field="muscles.default",
        )
    kind = decoder.text("kind")
    params = {k: v for k, v in decoder.values.items() if k != "kind"}
    description = values.get("description", "")
    if not isinstance(description, str):
        raise top.error("description", f"must be a string, not {description!r}")
    profile = SensorProfile(
        name=top.text("name"),
        description=description,
        manufacturer=top.text("manufacturer", "") if "manufacturer" in values else "",
        model=top.text("model", "") if "model" in values else "",
        path=path,
        name_patterns=match.texts("names"),
        advertised_services=match.uuids("services"),
        service=gatt.uuid("service") or "",
        notify=gatt.uuids("notify", required=True),
        control=gatt.uuid("control", required=False),
        start=gatt.commands("start"),
        stop=gatt.commands("stop"),
        write_with_response=gatt.flag("write_with_response", True),
        sample_rate=stream.number("sample_rate", 1, 100_000),
        channels=channels,
        scale_uv=stream.number("scale_uv", 1e-9, 1e9),
        decoder_kind=kind,
        decoder_params=params,
        muscles=muscles,
        extra=dict(extra.values),
        battery=gatt.uuid("battery", required=False),
    )
    try:
        profile.decoder()
    except (KeyError, ValueError) as error:
        message = error.args[0] if error.args else str(error)
        raise EmgInputError(str(message), source=str(path), field="decoder") from None
    return profile


def profile_folders() -> list[Path]:
    """Where profiles are looked for: the package's copy, then the source tree's."""
    package = Path(__file__).resolve().parent.parent
    return [
        p for p in (package / "firmware_configs", package.parent / "firmware_configs") if p.is_dir()
    ]


def load_profiles(
    folders: Sequence[Path] | None = None, extra: Sequence[Path] = ()
) -> dict[str, SensorProfile]:
    """Every profile in ``folders`` (default: :func:`profile_folders`), by name.

    Parameters
    ----------
    folders
        Folders of ``*.toml`` profiles; None for the built-in ones.
    extra
        Folders read first (a user's own profiles): a profile there replaces one of the same
        name in ``folders``.

    Raises
    ------
    EmgInputError
        For a bad profile, a missing folder given (``folders`` or ``extra``), or two profiles
        with one name in one folder.
    """
    for folder in [*extra, *(folders or [])]:
        if not Path(folder).is_dir():
            what = "not a folder" if Path(folder).exists() else "no such folder"
            raise EmgInputError(f"{what} of sensor profiles", source=str(folder))
    profiles: dict[str, SensorProfile] = {}
    for folder in [*extra, *(folders if folders is not None else profile_folders())]:
        for path in sorted(Path(folder).glob("*.toml")):
            profile = load_profile(path)
            if profile.name in profiles and profiles[profile.name].path.parent != path.parent:
                continue  # the package's copy of the same profile
            if profile.name in profiles:
                raise EmgInputError(
                    f"profile name '{profile.name}' is also used by {profiles[profile.name].path}",
                    source=str(path),
                    field="name",
                )
            profiles[profile.name] = profile
    return profiles


def decoder_kinds() -> list[str]:
    """The registered decoder kinds."""
    from emg.devices import decoders  # noqa: F401

    return sorted(DECODERS)
