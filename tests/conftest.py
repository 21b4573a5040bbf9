"""Fixtures shared by every test module.

``browser``: the session's headless Chromium (tests/support/browser.py), one for all the
browser tests (tests/test_browser_*.py), started on first use.
"""

from tests.support.browser import browser  # noqa: F401 (a fixture: registered here, once)
