"""Fixtures shared by every test module.

``browser``: a headless Chromium per browser test module (tests/support/browser.py), for the
browser tests (tests/test_browser_*.py), started on first use; ``demo_site``: the demo node
they browse (``ddsnode demo``, served on a free port); ``postgres_server``: a throwaway
PostgreSQL per test module (tests/support/postgres.py).

Before any test runs, ``SSL_CERT_FILE`` points at a one-CA bundle (tests/support/trust.py):
httpx loads its trust store for every client it builds, and certifi's whole bundle made
each ``httpx.get`` cost 25 ms of CPU.
"""

from tests.support.browser import browser, demo_site  # noqa: F401 (fixtures, registered once)
from tests.support.postgres import postgres_server  # noqa: F401 (fixture, registered once)
from tests.support.trust import use_small_bundle

use_small_bundle()
