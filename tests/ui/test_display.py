"""Without a usable display the window's commands say what to do in one line (Qt would abort)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from emg.ui.display import debian_package, display_problem, parse_ldd

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "recordings" / "examples" / "hip-thrust-synthetic"

LDD = """\
\tlinux-vdso.so.1 (0x00007ffc)
\tlibQt6XcbQpa.so.6 => /site/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
"""


def _never(env: Mapping[str, str]) -> str | None:
    raise AssertionError("the display was tried although the answer was known")


def test_ldd_output_gives_the_missing_libraries_once() -> None:
    assert parse_ldd(LDD) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxcb-render-util.so.0", "libxcb-render-util0"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libX11-xcb.so.1", "libx11-xcb1"),
        ("libEGL.so.1", "libegl1"),
        ("libdbus-1.so.3", "libdbus-1-3"),
        ("libglib-2.0.so.0", "libglib2.0-0"),
    ],
)
def test_debian_package_names(soname: str, package: str) -> None:
    assert debian_package(soname) == package


def test_no_display_variable() -> None:
    problem = display_problem({}, "linux", missing=list, probe=_never)
    assert problem == "no display: neither DISPLAY nor WAYLAND_DISPLAY is set"
    forced = display_problem({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "w"}, "linux",
                             missing=list, probe=_never)  # fmt: skip
    assert forced == "no display: QT_QPA_PLATFORM is xcb but DISPLAY is not set"


def test_missing_xcb_libraries_are_named_with_their_packages() -> None:
    problem = display_problem(
        {"DISPLAY": ":0"},
        "linux",
        missing=lambda: ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"],
        probe=_never,
    )
    assert problem == (
        "Qt's xcb display plugin needs system libraries that are missing (libxcb-icccm.so.4, "
        "libxcb-keysyms.so.1); on Debian/Ubuntu: sudo apt-get install libxcb-icccm4 "
        "libxcb-keysyms1"
    )


def test_a_display_that_does_not_answer_is_reported_from_qt() -> None:
    env = {"DISPLAY": ":0"}
    tried: list[Mapping[str, str]] = []

    def probe(env: Mapping[str, str]) -> str | None:
        tried.append(env)
        return "Qt cannot open the display (qt.qpa.xcb: could not connect to display :0)"

    problem = display_problem(env, "linux", missing=list, probe=probe)
    assert tried == [env] and problem is not None and "could not connect" in problem
    assert display_problem(env, "linux", missing=list, probe=lambda env: None) is None


@pytest.mark.parametrize("platform", ["offscreen", "minimal", "vnc"])
def test_a_chosen_platform_without_display_is_left_to_qt(platform: str) -> None:
    assert display_problem({"QT_QPA_PLATFORM": platform}, "linux", list, _never) is None


def test_other_systems_are_not_checked() -> None:
    assert display_problem({}, "darwin", missing=list, probe=_never) is None


def _without_display() -> dict[str, str]:
    drop = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    return {k: v for k, v in os.environ.items() if k not in drop}


@pytest.mark.skipif(sys.platform != "linux", reason="the display check is for Linux")
@pytest.mark.parametrize(
    ("command", "hint"),
    [
        (["live", "--duration", "1"], "use --screenshot PNG to draw it off screen, or emg record"),
        (["replay", str(EXAMPLE), "--speed", "4"], "use --headless"),
    ],
)
def test_window_commands_without_a_display_say_what_to_do(command: list[str], hint: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emg", *command, "--no-sound"],
        capture_output=True,
        text=True,
        env=_without_display(),
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("emg: error: the live window: no display: neither DISPLAY nor")
    assert hint in lines[0] and "(see the README, Set-up)" in lines[0]
    assert result.stdout == ""
