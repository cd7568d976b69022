"""``python -m emg``: the ``emg`` command."""

import sys

from emg.cli import main

sys.exit(main())
