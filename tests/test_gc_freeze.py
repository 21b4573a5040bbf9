"""``gc_freeze``: after start-up the node moves what it built out of the garbage
collector's full passes (``Assembly.start``), and a full pass then walks only what came
after, which is what keeps a full collection from stalling every request."""

from __future__ import annotations

import gc
from pathlib import Path

from tests.support.inprocess import local_node


def test_start_freezes_what_it_built_and_the_setting_turns_it_off(tmp_path: Path) -> None:
    gc.unfreeze()
    try:
        with local_node(tmp_path / "off"):
            assert gc.get_freeze_count() == 0
        with local_node(tmp_path / "on", settings={"gc_freeze": True}):
            # Everything alive at the end of the start is frozen (here the test process's
            # own objects too): a full collection then walks only what came after.
            frozen = gc.get_freeze_count()
            assert frozen > 0
            assert len(gc.get_objects()) < frozen
    finally:
        gc.unfreeze()  # this test process starts other nodes after this one
