"""Fixtures shared by every test module.

``browser``: a headless Chromium per browser test module (tests/support/browser.py), for the
browser tests (tests/test_browser_*.py), started on first use; ``demo_site``: the demo node
they browse (``ddsnode demo``, served on a free port); ``postgres_server``: a throwaway
PostgreSQL per test module (tests/support/postgres.py). Modules run longest first
(tests/support/order.py). A test that starts a program or a real server is marked ``slow``
(tests/support/fastloop.py checks it).

Before any test runs, ``SSL_CERT_FILE`` points at a one-CA bundle (tests/support/trust.py):
httpx loads its trust store for every client it builds, and certifi's whole bundle made
each ``httpx.get`` cost 25 ms of CPU.

Byte-compiled modules are written even where ``PYTHONDONTWRITEBYTECODE`` is set (this
machine sets it; ``scripts/test`` unsets it for the same reason): without them every
pytest worker rewrote every test module's assertions again and every ``ddsnode`` process a
test starts compiled the package again (collection 10 -> 6 s of CPU per worker).

Temporary directories (``tmp_path``, ``tempfile``, in the tests and in the processes they
start) go to ``/dev/shm`` when it is a writable tmpfs with room, unless ``TMPDIR`` says
otherwise: every node a test makes commits its SQLite files with fsync, and on this
machine's disk an in-process node's start and stop took 350 ms of wall time for 60 ms of
CPU (50 ms on tmpfs). The SIGKILL tests kill processes, not the machine: what they check
holds on tmpfs as on a disk.
"""

import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = False  # before the imports below, so they are cached too
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # and in the processes the tests start

SHM = "/dev/shm"
if ("TMPDIR" not in os.environ and os.path.isdir(SHM) and os.access(SHM, os.W_OK)
        and shutil.disk_usage(SHM).free >= 4 << 30):
    os.environ["TMPDIR"] = SHM  # pytest-xdist's workers and the tests' subprocesses
    tempfile.tempdir = None  # read again: pytest's output capture already asked for it

import pytest  # noqa: E402 (after the byte-code switch above)

from tests.support.browser import browser, demo_site  # noqa: F401, E402 (fixtures, registered once)
from tests.support.fastloop import (  # noqa: F401, E402 (its two hooks, registered here:
    # the fast loop's rule, checked while tests run: a test that starts a program is slow)
    mark_real_servers,
    pytest_runtest_makereport,
    pytest_runtest_protocol,
    pytest_runtest_teardown,
)
from tests.support.order import longest_first  # noqa: E402
from tests.support.postgres import postgres_server  # noqa: F401, E402 (fixture, registered once)
from tests.support.trust import use_small_bundle  # noqa: E402

use_small_bundle()



@pytest.hookimpl(tryfirst=True)  # before ``-m "not slow"`` deselects by mark
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests on real servers marked slow (tests/support/fastloop.py), then the longest
    modules first, so that parallel workers finish together (tests/support/order.py;
    scripts/test turns pytest-xdist's own reordering off)."""
    mark_real_servers(items)
    longest_first(items)
