"""LSL for the tests: loopback only, unique stream names, and a skip when liblsl is missing.

Import this module before anything calls into liblsl: liblsl reads its configuration once, at
its first use in the process, from the file ``LSLAPICFG`` names (``lsl_api_loopback.cfg``
beside this file: discovery on 127.0.0.1 only, so the tests need no network but loopback and
send nothing anywhere else). Child processes (the ``emg`` command run by a test) inherit it.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from emg.sources.synthetic import SynthConfig

CONFIG = Path(__file__).resolve().parent / "lsl_api_loopback.cfg"
os.environ["LSLAPICFG"] = str(CONFIG)

pylsl = pytest.importorskip("pylsl", reason="pylsl (with liblsl) is not installed")


def unique_name(prefix: str) -> str:
    """A stream name no other test (or test run on this machine) uses."""
    return f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def ten_second_set() -> SynthConfig:
    """A 10 s synthetic set at 2 kHz: a glute-first rep, then two hamstring-first reps (the
    flag goes up at the third), 1 % of the samples lost in packets."""
    return SynthConfig(
        reps=3,
        lead_ms=(90.0, -110.0, -100.0),
        rep_period_s=2.2,
        active_s=1.2,
        rest_s=2.4,
        end_rest_s=1.0,
        seed=3,
        loss=0.01,
    )
