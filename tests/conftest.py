"""Fixtures shared by every test module.

``browser``: a headless Chromium per browser test module (tests/support/browser.py), for the
browser tests (tests/test_browser_*.py), started on first use; ``demo_site``: the demo node
they browse (``ddsnode demo``, served on a free port).
"""

from tests.support.browser import browser, demo_site  # noqa: F401 (fixtures, registered once)
