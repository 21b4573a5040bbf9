"""A node that is closed is freed: a process that starts many nodes (a test worker, a
command that opens several directories) does not keep every one of them.

The federation registry (``ddsnode/federation/hub.py``) maps a node to its Federation with
weak references both ways; a Federation held strongly as the value kept its own key, the
node, alive with everything it holds (0.7 MiB a node, 140 MiB after 200 in a test worker).
"""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from ddsnode.assembly import assemble
from ddsnode.commands.node import init_node
from ddsnode.federation.hub import Federation
from ddsnode.settings import Settings


def test_a_closed_node_and_its_federation_are_freed(tmp_path: Path) -> None:
    init_node(tmp_path / "node", base_url="http://127.0.0.1:8000/",
              extra={"gc_freeze": False, "explorer_warm_lemmas": False})
    assembly = assemble(Settings.load(tmp_path / "node"))
    node, federation = weakref.ref(assembly.node), weakref.ref(assembly.federation)
    assert Federation.for_node(assembly.node) is assembly.federation
    assembly.close()
    del assembly
    gc.collect()
    assert node() is None and federation() is None


def test_a_node_without_its_assembly_has_no_federation(tmp_path: Path) -> None:
    init_node(tmp_path / "node", base_url="http://127.0.0.1:8000/",
              extra={"gc_freeze": False, "explorer_warm_lemmas": False})
    assembly = assemble(Settings.load(tmp_path / "node"))
    kept = assembly.node
    assembly.close()
    del assembly
    gc.collect()
    with pytest.raises(KeyError):
        Federation.for_node(kept)
    kept.close()
