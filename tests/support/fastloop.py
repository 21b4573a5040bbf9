"""The fast loop's rule, checked: a test that starts a program is marked ``slow``.

``pytest -m "not slow"`` is the loop an engineer runs while working, and it must stay under a
minute on a 2-core machine (STYLE.md habit 12, issue 11). What made it slow was never the
many small tests but the few that start programs: a ``ddsnode`` command through a
subprocess (a new interpreter importing the package: 0.3–1.5 s of CPU each), a real
``ddsnode serve``, PostgreSQL, ``oxigraph serve``, Node.js for the independent parsers. Those
are the real-process tests the style guide names (CLI as a user types it, servers,
conformance judges) and they keep running in CI (``./scripts/test`` runs everything).

So, while a test not marked ``slow`` runs (its setup and call), an audit hook (PEP 578)
watches every process it starts. Teardown is not watched: a module's fixtures stop their
servers there (``pg_ctl stop``), after whichever of the module's tests ran last. The node's own worker processes are part of the
behaviour under test and are allowed: the SPARQL index worker (``ddsnode.store.index``), the
analysis child (``ddsnode.analysis.child``) and the PATCH worker
(``ddsnode.ldp.patch_worker``), which any in-process node starts as a served one does; so is
``ldconfig``, which ``ctypes.util.find_library`` runs. Anything else fails the test with
the command it ran and what to do: mark it ``slow``, or drive the code in-process.

A test that asks for a real server by fixture (PostgreSQL, ``oxigraph serve``, the browser and
the demo node it browses) is marked ``slow`` when collected (:func:`mark_real_servers`), so a
new one cannot land in the fast loop by forgetting the mark. A fixture that picks a server by
parameter carries the mark on that parameter (``tests/test_store.py``).

An audit hook cannot be removed, so the process gets one, added when this module is imported
(by ``tests/conftest.py``); it only looks at ``subprocess.Popen`` and ``os.posix_spawn``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

# ``python -m`` modules the node itself runs as workers (see each module's docstring).
NODE_WORKERS = ("ddsnode.store.index", "ddsnode.analysis.child", "ddsnode.ldp.patch_worker")
SYSTEM_HELPERS = ("ldconfig",)  # ctypes.util.find_library's own probe
# Fixtures that start a real server (tests/support/postgres.py, sparql_server.py, browser.py).
SERVER_FIXTURES = frozenset({"postgres_server", "sparql_server", "browser", "demo_site"})

_watched: list[str | None] = [None]  # the node id of the fast test running, if any
_started: dict[str, list[str]] = {}


def _words(args: Any) -> list[str]:
    if isinstance(args, (str, bytes)):
        return [args.decode() if isinstance(args, bytes) else args]
    if isinstance(args, Sequence):
        return [a.decode() if isinstance(a, bytes) else str(a) for a in args]
    return [str(args)]


def allowed(argv: Sequence[str]) -> bool:
    """Whether a fast test may start ``argv``: one of the node's own workers, or a
    system helper a library runs."""
    if not argv:
        return True
    if any(argv[0].endswith(helper) for helper in SYSTEM_HELPERS):
        return True
    for i, word in enumerate(argv[:-1]):
        if word == "-m":
            return argv[i + 1] in NODE_WORKERS
    return False


def mark_real_servers(items: list[pytest.Item]) -> None:
    """Mark ``slow`` every collected test that uses a fixture starting a real server."""
    for item in items:
        if SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    test = _watched[0]
    if test is None:
        return
    if event == "subprocess.Popen":
        argv = _words(args[1]) if args[1] is not None else _words(args[0])
    elif event == "os.posix_spawn":
        argv = _words(args[1])
    else:
        return
    if not allowed(argv):
        _started.setdefault(test, []).append(" ".join(argv)[:200])


sys.addaudithook(_audit)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Watch the processes a test outside the ``slow`` mark starts (setup and call)."""
    fast = item.get_closest_marker("slow") is None
    _watched[0] = item.nodeid if fast else None
    try:
        yield
    finally:
        _watched[0] = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Teardown unwatched: a module-scoped server stops after the module's last test."""
    _watched[0] = None
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """After the teardown of a fast test that started a program, fail it and say so."""
    outcome = yield
    report = outcome.get_result()
    if call.when != "teardown" or item.nodeid not in _started:
        return
    commands = _started.pop(item.nodeid)
    report.outcome = "failed"
    report.longrepr = (
        "this test is in the fast loop (not marked slow) but started a program:\n  "
        + "\n  ".join(commands[:5])
        + "\nMark it @pytest.mark.slow (it still runs in CI), or drive the code in-process "
        "(tests/support/fastloop.py, docs/testing.md)."
    )
