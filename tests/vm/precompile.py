"""Compile, on the host and before the test VM boots, the bytecode of every module the VM's
checks load, so that the VM never compiles.

Python inside the VM runs about 20-30 times slower than on the host (software emulation),
and it sees this machine's root file system read-only: a module without an up-to-date
``__pycache__`` file there would be compiled again at every import, on every run. This
imports what ``tests/vm/checks.py`` and ``tests/vm/emulate_sensors.py`` import (and what
``emg record`` loads only when it exports), then writes the bytecode of each loaded module
whose cached file is missing or stale, as the import system would (timestamp-checked, next
to its source, where the VM reads it). The project's own ``emg/`` and ``tests/vm/`` are
compiled whole. It prints one JSON line: modules loaded, files compiled, files that could not
be written (a read-only install: the VM then compiles those), seconds.

    python tests/vm/precompile.py
"""

from __future__ import annotations

import compileall
import importlib
import importlib.util
import json
import py_compile
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: Loaded inside the VM only when a recording stops (the BIDS export).
LATER = ("emg.io.bids_format", "emg.io.edf_format", "pyedflib")


def stale(source: Path, cached: Path) -> bool:
    """Whether ``cached`` is missing or not the bytecode of ``source`` as it is now."""
    try:
        header = cached.read_bytes()[:16]
        stat = source.stat()
    except OSError:
        return True
    if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
        return True
    if int.from_bytes(header[4:8], "little") != 0:  # hash-based: checked by hash, leave it
        return False
    mtime = int.from_bytes(header[8:12], "little")
    size = int.from_bytes(header[12:16], "little")
    return mtime != int(stat.st_mtime) & 0xFFFFFFFF or size != stat.st_size & 0xFFFFFFFF


def main() -> int:
    """Compile; print the figures."""
    started = time.monotonic()
    sys.path[:0] = [str(HERE), str(ROOT)]
    for folder in (ROOT / "emg", HERE):
        compileall.compile_dir(folder, quiet=1, workers=1)
    import checks

    checks.preload()
    importlib.import_module("emulate_sensors")
    for name in LATER:
        importlib.import_module(name)
    compiled, unwritable, loaded = 0, [], 0
    for module in list(sys.modules.values()):
        source = getattr(module, "__file__", None)
        if not source or not source.endswith(".py"):
            continue
        loaded += 1
        cached = Path(importlib.util.cache_from_source(source))
        if not stale(Path(source), cached):
            continue
        try:
            py_compile.compile(source, cfile=str(cached), doraise=True)
            compiled += 1
        except (OSError, py_compile.PyCompileError):
            unwritable.append(source)
    figures = {
        "modules": loaded,
        "compiled": compiled,
        "not_written": len(unwritable),
        "not_written_first": unwritable[:5],
        "seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
