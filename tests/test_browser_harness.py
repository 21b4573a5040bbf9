"""The browser harness catches what it is there to catch (tests/support/browser.py).

Pages built to fail one check each are served from 127.0.0.1 with the node's own
Content-Security-Policy (no inline script), so these tests also show that axe-core runs
under that policy: a page with a known violation must be reported, a clean page must pass.
Pages under ``/no-csp/`` go without the policy, to show that the harness itself refuses a
request to another host (a page whose policy allowed one, say a tile server, still fails).
"""

from __future__ import annotations

import http.server
import struct
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from ddsnode.http.middleware import PAGE_POLICY
from tests.support.browser import (
    assert_accessible,
    assert_focus_visible,
    assert_reflows,
    axe,
    loopback,
    screenshot,
    visit,
)

pytestmark = pytest.mark.slow


def _page(body: str, head: str = "") -> bytes:
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Probe</title>'
            f'<link rel="stylesheet" href="/style.css">{head}</head><body><main><h1>Probe</h1>'
            f"{body}</main></body></html>").encode()


CSS = b"a:focus-visible{outline:3px solid #1d4f91}.flat:focus{outline:none}" \
      b".faint{color:#bbb;background:#fff}"
PAGES: dict[str, tuple[str, bytes]] = {
    "/style.css": ("text/css", CSS),
    "/throws.js": ("text/javascript", b"window.addEventListener('load', () => { null.x; });"),
    "/favicon.ico": ("image/x-icon", b"\0\0\1\0\0\0"),
    "/clean": ("text/html", _page('<p>Read <a href="/other">the other page</a> or '
                                  '<a href="/clean#top">go up</a>.</p>')),
    "/throws": ("text/html", _page("<p>Script error</p>", '<script src="/throws.js"></script>')),
    "/inline": ("text/html", _page("<p>Inline</p><script>document.title = 'x'</script>")),
    "/missing-image": ("text/html", _page('<img src="/nowhere.png" alt="A chart">')),
    "/no-csp/third-party": ("text/html", _page('<img src="http://example.com/pixel.png" alt="A pixel">')),
    "/no-alt": ("text/html", _page('<img src="/favicon.ico">')),
    "/faint": ("text/html", _page('<p class="faint">Barely readable text on white.</p>')),
    "/flat-focus": ("text/html", _page('<p><a href="/clean">one</a> '
                                       '<a class="flat" href="/clean">two</a></p>')),
    "/wide": ("text/html", _page("<p>" + "x" * 300 + "</p><table><tr><td>" + "y" * 300
                                 + "</td></tr></table>")),
    "/wide-table": ("text/html", _page("<p>Votes</p><table><tr><td>" + "y" * 300
                                       + "</td></tr></table>")),
    "/skip": ("text/html", _page('<p><a href="/clean">before</a> '
                                 '<a href="/clean" tabindex="-1">skipped</a> '
                                 '<span tabindex="0">custom</span></p>')),
}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        media, body = PAGES.get(self.path.partition("?")[0], ("text/plain", b"not found"))
        self.send_response(200 if self.path in PAGES else 404)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        if media == "text/html" and not self.path.startswith("/no-csp/"):
            self.send_header("Content-Security-Policy", PAGE_POLICY.decode())
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The probe pages, served on 127.0.0.1."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_clean_page_passes_every_check(browser: Any, site: str, tmp_path: Any,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain page with visible focus: no problem, no violation, every link reached."""
    monkeypatch.setattr("tests.support.browser.SCREENSHOTS", tmp_path)
    with visit(browser, site + "/clean") as v:
        assert assert_accessible(v.page) == []
        assert assert_focus_visible(v.page) == 2
        shots = screenshot(v.page, "probe")
    assert [p.name for p in shots] == ["probe-desktop.png", "probe-mobile.png"]
    widths = [struct.unpack(">I", p.read_bytes()[16:20])[0] for p in shots]
    assert widths == [1280, 390]


@pytest.mark.parametrize(("path", "expected"), [
    ("/throws", "uncaught"),
    ("/inline", "Content Security Policy"),
    ("/missing-image", "404"),
    ("/no-csp/third-party", "third party: http://example.com/pixel.png"),
])
def test_visit_fails_on_errors_and_foreign_requests(browser: Any, site: str, path: str,
                                                    expected: str) -> None:
    """A script error, a CSP violation, a failed request, a request off this machine."""
    with pytest.raises(AssertionError) as failure, visit(browser, site + path):
        pass
    assert expected in str(failure.value)


@pytest.mark.parametrize(("path", "rule"), [("/no-alt", "image-alt"),
                                            ("/faint", "color-contrast")])
def test_axe_reports_violations_under_the_csp(browser: Any, site: str, path: str,
                                              rule: str) -> None:
    """axe runs although the page forbids inline scripts, and finds what is wrong."""
    with visit(browser, site + path) as v:
        assert rule in {found["id"] for found in axe(v.page)}
        with pytest.raises(AssertionError, match=rule):
            assert_accessible(v.page)


def test_focus_without_outline_is_reported(browser: Any, site: str) -> None:
    """A link whose focus style was removed fails the keyboard check, naming it."""
    with visit(browser, site + "/flat-focus") as v, \
            pytest.raises(AssertionError, match='class="flat"'):
        assert_focus_visible(v.page)


def test_focus_past_the_tab_limit_is_checked_too(browser: Any, site: str) -> None:
    """On a page longer than the Tab walk, the elements after it are still checked."""
    with visit(browser, site + "/flat-focus") as v, \
            pytest.raises(AssertionError, match='class="flat"'):
        assert_focus_visible(v.page, limit=1)


def test_tab_order_is_what_the_keyboard_reaches(browser: Any, site: str) -> None:
    """An element taken out of the tab order (tabindex=-1) is not expected; one put in it
    (tabindex=0) is, with the browser's own focus ring."""
    with visit(browser, site + "/skip") as v:
        assert assert_focus_visible(v.page) == 2


def test_reflow(browser: Any, site: str) -> None:
    """Text wider than 320 px fails the reflow check; a wide data table alone does not."""
    with visit(browser, site + "/wide") as v, pytest.raises(AssertionError, match="xxx"):
        assert_reflows(v.page)
    with visit(browser, site + "/wide-table") as v:
        assert_reflows(v.page)


def test_loopback() -> None:
    """Only this machine's addresses (and data:/blob:) count as first party."""
    assert loopback("http://127.0.0.1:8000/x") and loopback("http://[::1]/")
    assert loopback("http://localhost/") and loopback("data:,x")
    assert not loopback("https://example.org/") and not loopback("http://10.0.0.1/")
