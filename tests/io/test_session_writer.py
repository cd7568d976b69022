"""The session writer's folder: two recordings that ask for the same name get two folders."""

from __future__ import annotations

from pathlib import Path


def test_two_recordings_asking_for_one_folder_get_two(tmp_path: Path) -> None:
    from emg.io.session_writer import claim_folder

    asked = tmp_path / "20261206-101558-hip-thrust"
    first, second, third = (claim_folder(asked) for _ in range(3))
    assert first == asked and second.name == f"{asked.name}-2" and third.name == f"{asked.name}-3"
    assert all(p.is_dir() for p in (first, second, third))
