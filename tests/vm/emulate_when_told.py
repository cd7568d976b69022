"""``emg emulate ARGS``, started early and run when told.

Imports take tens of seconds under the VM's software emulation; this loads them while other
checks run, prints ``loaded``, waits for a line on standard input, then runs the ``emg
emulate`` command exactly as the console script does (``emg.cli.main``).
"""

from __future__ import annotations

import sys

import bumble.controller
import bumble.device
import bumble.link
import bumble.transport.vhci

import emg.commands.emulate
import emg.devices.emulation
from emg.cli import main

if __name__ == "__main__":
    del bumble, emg
    print("loaded", flush=True)
    if sys.stdin.readline():
        sys.exit(main(["emulate", *sys.argv[1:]]))
