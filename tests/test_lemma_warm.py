"""``explorer_warm_lemmas``: after start-up the node loads the lemma dictionaries of its
four languages in a background thread, so the first search with words after a start does
not wait for them (docs/explorer.md, Performance)."""

from __future__ import annotations

from pathlib import Path

from tests.support.inprocess import local_node


def test_start_loads_the_four_dictionaries_in_the_background(tmp_path: Path) -> None:
    with local_node(tmp_path / "on", settings={"explorer_warm_lemmas": True}) as node:
        warming = node.app.assembly.warming  # type: ignore[attr-defined]
        assert warming is not None and warming.name == "ddsnode-lemmas"
        warming.join(timeout=240)
        assert not warming.is_alive()
    from ddsnode.explorer import text
    assert text.warm() == {"fr": "ecole", "en": "school", "ca": "escola", "es": "escuela"}


def test_the_setting_turns_it_off(tmp_path: Path) -> None:
    with local_node(tmp_path / "off") as node:
        assert node.app.assembly.warming is None  # type: ignore[attr-defined]
