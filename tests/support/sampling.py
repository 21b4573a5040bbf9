"""Generated variants in the fast loop: a fixed sample; all of them in CI.

The differential suites generate hundreds of variants per example. ``pytest -m "not
slow"`` (the loop while working, under a minute) runs every ``EVERY``-th variant, the
same ones each time; the rest carry the ``slow`` mark, so ``./scripts/test`` (CI) still
runs every variant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

EVERY = 8


def sampled(cases: Sequence[Any], ids: Sequence[str], *, keep: int = 0) -> list[Any]:
    """``cases`` as pytest params: the first ``keep`` and every ``EVERY``-th after them in
    the fast loop, the others marked slow. A case that is a tuple is unpacked."""
    params = []
    for i, (case, name) in enumerate(zip(cases, ids, strict=True)):
        values = case if isinstance(case, tuple) else (case,)
        marks = () if i < keep or (i - keep) % EVERY == 0 else (pytest.mark.slow,)
        params.append(pytest.param(*values, id=name, marks=marks))
    return params
