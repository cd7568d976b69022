"""Whether the live window can open here, asked before Qt is started.

Qt aborts the whole process (a core dump, exit status 134) when its platform plugin cannot
start: no display on Linux, or system libraries that the ``xcb`` plugin needs and that are
not installed; and its message then names ``libxcb-cursor0`` whatever is missing. So the
window's commands ask :func:`display_problem` first and, when there is one, say in one line
what to do instead: run off screen, run without a window, or install the libraries (named
as Debian/Ubuntu packages).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

#: Shared libraries whose Debian/Ubuntu package is not named by the usual rule.
PACKAGE_OF = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
}
#: The Debian/Ubuntu packages the xcb plugin of PySide6 needs beyond a minimal system (the
#: README lists them too).
XCB_PACKAGES = (
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-image0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-randr0",
    "libxcb-xkb1",
    "libxkbcommon-x11-0",
    "libegl1",
    "libfontconfig1",
    "libdbus-1-3",
)
#: Platforms that need a display server.
DISPLAY_PLATFORMS = ("xcb", "wayland", "wayland-egl")
#: Seconds the display test may take.
PROBE_TIMEOUT_S = 60.0
_PROBE = "import sys; from PySide6.QtGui import QGuiApplication; QGuiApplication(sys.argv[:1])"


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package of a shared library (``libxcb-icccm.so.4`` ->
    ``libxcb-icccm4``, ``libxkbcommon-x11.so.0`` -> ``libxkbcommon-x11-0``)."""
    if soname in PACKAGE_OF:
        return PACKAGE_OF[soname]
    match = re.fullmatch(r"(.+?)\.so\.(\d+)(?:\.\d+)*", soname)
    if match is None:
        return soname
    name, version = match.group(1).lower(), match.group(2)
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def parse_ldd(output: str) -> list[str]:
    """The libraries ``ldd`` reports as ``not found``, each once, in order."""
    missing: list[str] = []
    for line in output.splitlines():
        match = re.match(r"\s*(\S+)\s+=>\s+not found", line)
        if match and match.group(1) not in missing:
            missing.append(match.group(1))
    return missing


def xcb_plugin() -> Path | None:
    """Qt's xcb platform plugin as installed with PySide6, if it is there."""
    from PySide6 import QtCore

    plugins = QtCore.QLibraryInfo.path(QtCore.QLibraryInfo.LibraryPath.PluginsPath)
    path = Path(plugins) / "platforms" / "libqxcb.so"
    return path if path.is_file() else None


def missing_xcb_libraries() -> list[str]:
    """The shared libraries the xcb plugin needs that the system does not have (by ``ldd``;
    empty when ``ldd`` or the plugin is not there)."""
    plugin = xcb_plugin()
    ldd = shutil.which("ldd")
    if plugin is None or ldd is None:
        return []
    try:
        result = subprocess.run(
            [ldd, str(plugin)], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return parse_ldd(result.stdout)


def probe_display(env: Mapping[str, str]) -> str | None:
    """Start Qt in a child process (where an abort harms nothing); None when it starts, else
    Qt's first line about why not."""
    try:
        result = subprocess.run(
            [sys.executable, "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            env=dict(env),
        )
    except subprocess.TimeoutExpired:
        return None  # slow, not broken: let the window try
    except OSError as error:
        return f"the display test could not run ({error})"
    if result.returncode == 0:
        return None
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    telling = [line for line in lines if re.search(r"connect|failed to create", line, re.I)]
    reason = (telling or lines or [f"exit status {result.returncode}"])[0]
    return f"Qt cannot open the display ({reason[:200]})"


def display_problem(
    env: Mapping[str, str] | None = None,
    platform: str = sys.platform,
    missing: Callable[[], list[str]] = missing_xcb_libraries,
    probe: Callable[[Mapping[str, str]], str | None] = probe_display,
) -> str | None:
    """Why a Qt window cannot open here, or None when it can (or when this cannot be told).

    Parameters
    ----------
    env
        The environment (default: this process's).
    platform
        ``sys.platform``; only Linux is checked.
    missing, probe
        How missing xcb libraries are found and how a display is tried (for tests).

    Returns
    -------
    str or None
        What is wrong, in words, naming the environment variables or the packages to install.
    """
    env = os.environ if env is None else env
    if platform != "linux":
        return None
    requested = re.split(r"[;:]", env.get("QT_QPA_PLATFORM", ""))[0].strip()
    if requested and requested not in DISPLAY_PLATFORMS:
        return None  # offscreen, vnc, eglfs ... chosen on purpose
    x11, wayland = bool(env.get("DISPLAY")), bool(env.get("WAYLAND_DISPLAY"))
    if requested == "xcb" and not x11:
        return "no display: QT_QPA_PLATFORM is xcb but DISPLAY is not set"
    if requested.startswith("wayland") and not wayland:
        return f"no display: QT_QPA_PLATFORM is {requested} but WAYLAND_DISPLAY is not set"
    if not (x11 or wayland):
        return "no display: neither DISPLAY nor WAYLAND_DISPLAY is set"
    if requested == "xcb" or (not requested and x11 and not wayland):
        libraries = missing()
        if libraries:
            packages = list(dict.fromkeys(debian_package(lib) for lib in libraries))
            return (
                f"Qt's xcb display plugin needs system libraries that are missing "
                f"({', '.join(libraries)}); on Debian/Ubuntu: sudo apt-get install "
                f"{' '.join(packages)}"
            )
    return probe(env)
