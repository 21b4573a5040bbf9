"""Pages in a real browser: Debian's Chromium driven by Playwright's Python API.

    def test_page(browser):                   # the session's Chromium (tests/conftest.py)
        with visit(browser, url) as v:        # fails on console errors, failed or foreign requests
            assert_accessible(v.page)         # axe-core: 0 serious or critical violations
            assert_focus_visible(v.page)      # Tab through: every focused element shows it
            screenshot(v.page, "proposal")    # test-artifacts/screenshots/proposal-{desktop,mobile}.png

The browser is ``/usr/bin/chromium`` (``scripts/test`` installs Debian's package); Playwright's
own browser download (``playwright install``) is never used, it cannot be reached from CI.
axe-core comes from npm, installed once into ``~/.cache/ddsnode-judges/axe`` like the other
judges (:mod:`tests.support.judges`), at a pinned version so results do not move under us.

The pages' Content-Security-Policy forbids inline scripts, so axe cannot be added as a
``<script>`` element: it is given to the browser context as an init script
(``BrowserContext.add_init_script``), which Chromium evaluates through the DevTools protocol
before the page's own scripts, outside the page's CSP. The policy itself stays in force for
everything the page loads, and a violation of it is a console error, which fails the visit.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.judges import CACHE, node_available
from tests.support.node import RunningNode, _cli, _wait, free_port
from tests.support.once import installed_once

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# From the machine notes: without the background-networking flags Chromium's own calls home
# are refused by the closed network (many at a time); a fresh profile keeps runs apart.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE_VERSION = "4.10.3"  # pinned: a new axe release may add rules; upgrade on purpose
AXE_DIR = CACHE / f"axe-{AXE_VERSION}"
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR", REPO / "test-artifacts" / "screenshots"))
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}
# A full-page screenshot stops here: a reviewer sees the top of a very long page (the
# ontology as one page is 180,000 px tall) without a PNG of tens of megabytes.
MAX_HEIGHT = 8000
# WCAG 2.1 A and AA success criteria, and axe's best practices (their serious and critical
# findings fail too; moderate and minor ones are reported, not failed).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING_IMPACTS = ("serious", "critical")


def browser_available() -> bool:
    """True when Debian's Chromium, Playwright and npm (for axe-core) are all here."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return CHROMIUM.is_file() and node_available()


def ensure_axe() -> Path:
    """Install axe-core (pinned) once from npm; returns the path of ``axe.min.js``."""
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"

    def install(folder: Path) -> None:
        subprocess.run(["npm", "init", "-y"], cwd=folder, check=True, capture_output=True)
        subprocess.run(["npm", "install", "-s", "--no-audit", "--no-fund",
                        f"axe-core@{AXE_VERSION}"],
                       cwd=folder, check=True, capture_output=True, timeout=600)

    installed_once(AXE_DIR, install)  # one process installs; xdist workers wait
    return script


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module (skipped where it cannot run): Playwright's
    sync API keeps an event loop running in this thread while it lives, which would make
    every later asyncio.run() in the session fail."""
    if not browser_available():
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: scripts/test installs chromium, "
                        "playwright and npm")
        pytest.skip("needs /usr/bin/chromium, playwright and npm (scripts/test installs them)")
    from playwright.sync_api import sync_playwright

    ensure_axe()
    with sync_playwright() as p:
        # launch() gives Chromium a new empty --user-data-dir of its own (removed at close).
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@contextmanager
def served_demo(root: Path) -> Iterator[RunningNode]:
    """The demo node as ``ddsnode demo`` makes it (examples and example directory loaded,
    for its own address), served by ``ddsnode serve`` on a free port of 127.0.0.1."""
    port = free_port()
    node_dir = root / "node-demo"
    _cli("demo", str(node_dir), "--port", str(port), "--no-serve")
    token = _cli("token", "create", str(node_dir), "--label", "tests").strip()
    read_token = _cli("token", "create", str(node_dir), "--scope", "read").strip()
    log = node_dir / "serve.log"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ddsnode", "serve", str(node_dir), "--port", str(port)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    try:
        _wait(base, process, log)
        yield RunningNode(base, node_dir, token, read_token, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    """The demo node of :func:`served_demo`, one for every browser test of the session."""
    with served_demo(tmp_path_factory.mktemp("browser-demo")) as node:
        yield node


def loopback(url: str) -> bool:
    """True for URLs a page may load: this machine (127.0.0.0/8, ::1), data: and blob:."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Visit:
    """A page opened by :func:`visit`, and what went wrong while it was open."""

    page: Any
    status: int
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Every console error, failed request and request off this machine, as text."""
        return ([f"console: {e}" for e in self.console_errors]
                + [f"failed: {r}" for r in self.failed_requests]
                + [f"third party: {r}" for r in self.foreign_requests])

    def goto(self, url: str) -> int:
        """Navigate this visit's page to ``url``; the HTTP status of the document."""
        response = self.page.goto(url, wait_until="load")
        return int(response.status) if response is not None else 0


@contextmanager
def visit(browser: Any, url: str, *, locale: str = "en-GB", expect_status: int = 200,
          viewport: dict[str, int] | None = None) -> Iterator[Visit]:
    """Open ``url`` in a fresh context; fail at exit on any console error, failed request
    (network error or HTTP status >= 400) or request to a host other than this machine."""
    context = browser.new_context(viewport=viewport or DESKTOP, locale=locale)
    context.add_init_script(path=str(ensure_axe()))
    page = context.new_page()
    v = Visit(page, 0)

    def on_console(message: Any) -> None:
        where = message.location.get("url", "")
        if message.type != "error":
            return
        if (expect_status >= 400 and where == url
                and message.text.startswith("Failed to load resource")):
            return  # Chromium's note on the error status the test asked for
        v.console_errors.append(f"{message.text} ({where})")

    def on_response(response: Any) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            v.failed_requests.append(f"{response.status} {response.url}")

    def refuse(route: Any) -> None:
        # Never let a third-party request leave: record it and abort it here.
        v.foreign_requests.append(route.request.url)
        route.abort()

    context.route(lambda u: not loopback(u), refuse)
    page.on("console", on_console)
    page.on("pageerror", lambda error: v.console_errors.append(f"uncaught: {error}"))
    page.on("requestfailed", lambda r: v.failed_requests.append(
        f"{r.failure} {r.url}") if loopback(r.url) else None)
    page.on("response", on_response)
    try:
        v.status = v.goto(url)
        assert v.status == expect_status, f"{url}: HTTP {v.status}, expected {expect_status}"
        yield v
        # Wait until nothing has been in flight for 500 ms (the favicon, late fetches of
        # scripts), so that their errors are counted too.
        v.page.wait_for_load_state("networkidle")
        # Chromium skips its own /favicon.ico fetch while requests are routed (above), yet
        # every visitor's browser makes it, and a 404 is a console error on every page.
        origin = "{0.scheme}://{0.netloc}/".format(urlsplit(v.page.url))
        icon = context.request.get(origin + "favicon.ico")
        if icon.status >= 400:
            v.failed_requests.append(f"{icon.status} {origin}favicon.ico")
        assert not v.problems(), f"{url}:\n" + "\n".join(v.problems())
    finally:
        context.close()


def axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (WCAG 2.1 A/AA and best practices)."""
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})", AXE_TAGS)
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation and up to three offending elements, for a failure message."""
    lines = []
    for v in violations:
        targets = "; ".join(" ".join(n["target"]) if isinstance(n["target"], list)
                            else str(n["target"]) for n in v["nodes"][:3])
        lines.append(f"{v['impact']}: {v['id']} ({v['help']}) x{len(v['nodes'])}: {targets}")
    return "\n".join(lines)


def assert_accessible(page: Any) -> list[dict[str, Any]]:
    """Fail on any serious or critical axe violation; returns the milder ones."""
    violations = axe(page)
    bad = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    assert not bad, f"{page.url}: axe found\n{describe(bad)}"
    return violations


def screenshot(page: Any, name: str) -> list[Path]:
    """Full-page PNGs (up to ``MAX_HEIGHT`` px) of ``page`` at desktop and mobile widths
    into ``SCREENSHOTS``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    written = []
    for label, size in (("desktop", DESKTOP), ("mobile", MOBILE)):
        page.set_viewport_size(size)
        path = SCREENSHOTS / f"{name}-{label}.png"
        height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT)
        # written beside, then renamed: two xdist workers shooting the same page name
        # leave one whole PNG, never a torn one
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        page.screenshot(path=str(partial), type="png", full_page=True,
                        clip={"x": 0, "y": 0, "width": size["width"], "height": height})
        os.replace(partial, path)
        written.append(path)
    page.set_viewport_size(before)
    return written


# With data tables (and the map) set aside (WCAG 1.4.10 exempts "content which requires
# two-dimensional layout for usage or meaning"), whether the page is wider than the window,
# and if so the innermost elements that stick out or whose text does. Set aside through
# the CSSOM, which the pages' style-src policy allows, and put back after.
_OVERFLOW = """() => {
  const exempt = [...document.querySelectorAll('table, svg')];
  const kept = exempt.map(el => el.style.display);
  exempt.forEach(el => el.style.display = 'none');
  const width = document.documentElement.clientWidth;
  let wide = [];
  if (document.documentElement.scrollWidth > width) {
    const out = [...document.body.querySelectorAll('*')].filter(el =>
      el.getBoundingClientRect().right > width + 1 || el.scrollWidth > el.clientWidth + 1);
    wide = out.filter(el => !out.some(o => o !== el && el.contains(o)))
      .map(el => el.outerHTML.slice(0, 120));
    if (!wide.length) wide = ['(the page is ' + document.documentElement.scrollWidth + ' px)'];
  }
  exempt.forEach((el, i) => el.style.display = kept[i]);
  return wide;
}"""
REFLOW = {"width": 320, "height": 640}


def assert_reflows(page: Any) -> None:
    """At 320 CSS px wide (1280 px at 400 % zoom), nothing outside a data table makes the
    page scroll sideways (WCAG 2.1, 1.4.10 Reflow)."""
    before = page.viewport_size
    page.set_viewport_size(REFLOW)
    try:
        wide: list[str] = page.evaluate(_OVERFLOW)
    finally:
        page.set_viewport_size(before)
    assert not wide, f"{page.url}: wider than 320 px:\n" + "\n".join(wide[:5])


# What an element looks like now: an outline, a shadow, a border, a background, an
# underline or a colour that changes when it gets focus is a visible focus (WCAG 2.4.7).
_STYLE_JS = """function focusStyle(el) {
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0
    ? s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor : 'none';
  return [outline, s.boxShadow, s.borderColor, s.backgroundColor, s.textDecorationLine,
          s.color].join(' | ');
}"""
_FOCUSABLE = ("a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), "
              "select:not([disabled]), textarea:not([disabled]), summary, "
              "[tabindex]:not([tabindex='-1'])")
# Marks every visible focusable element with a number and returns its unfocused style.
_PROBE = "selector => {" + _STYLE_JS + """
  document.activeElement && document.activeElement.blur();
  window.scrollTo(0, 0);
  const styles = [];
  for (const el of document.querySelectorAll(selector)) {
    if (el.tabIndex < 0 || !el.checkVisibility()) continue;
    el.dataset.focusProbe = String(styles.length);
    styles.push(focusStyle(el));
  }
  return styles;
}"""
# Focuses each listed element from script (as :focus-visible, which a keyboard user sees)
# and returns the start of the markup of those whose look does not change.
_EACH = "plain => {" + _STYLE_JS + """
  const unchanged = [];
  for (const el of document.querySelectorAll('[data-focus-probe]')) {
    el.focus({focusVisible: true});
    if (focusStyle(el) === plain[Number(el.dataset.focusProbe)]) {
      unchanged.push(el.outerHTML.slice(0, 120));
    }
    el.blur();
  }
  return unchanged;
}"""
# The element that has focus now: [its number, its style, the start of its markup]; the
# number is -2 when nothing has focus (the keyboard went past the last element), -1 for an
# element the probe did not list.
_ACTIVE = "() => {" + _STYLE_JS + """
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return [-2, '', ''];
  if (!el.dataset || el.dataset.focusProbe === undefined) return [-1, '', ''];
  return [Number(el.dataset.focusProbe), focusStyle(el), el.outerHTML.slice(0, 120)];
}"""


def assert_focus_visible(page: Any, *, limit: int = 80) -> int:
    """Tab through the page from the top (up to ``limit`` stops): every element the
    keyboard reaches shows that it has focus and, on pages with no more focusable elements
    than ``limit``, every visible one is reached. Past ``limit`` (a long index page), the
    others are focused from script instead, each with its focus shown as to a keyboard
    user (``:focus-visible``), and must show it too. Returns the number of Tab stops."""
    plain: list[str] = page.evaluate(_PROBE, _FOCUSABLE)
    invisible: list[str] = []
    seen: set[int] = set()
    previous = -1
    # A date input takes several presses (day, month, year, its calendar button), so there
    # are more presses than stops.
    for _ in range(4 * min(limit, len(plain) + 1)):
        page.keyboard.press("Tab")
        index, style, markup = page.evaluate(_ACTIVE)
        if index == -2 or (index in seen and index != previous) or len(seen) >= limit:
            break  # past the last element, or wrapped round to the first
        if index == previous or index == -1:
            continue  # the next part of the same field, or something the probe left out
        previous = index
        seen.add(index)
        if style == plain[index]:
            invisible.append(markup)
    if len(plain) > limit:
        invisible += page.evaluate(_EACH, plain)
    assert not invisible, f"{page.url}: focus not visible on\n" + "\n".join(invisible[:10])
    if len(plain) <= limit:
        assert len(seen) == len(plain), (
            f"{page.url}: the keyboard reached {len(seen)} of {len(plain)} focusable elements")
    return len(seen)


def tab_to(page: Any, selector: str, *, limit: int = 150) -> None:
    """Press Tab until the element matching ``selector`` has focus (fails after ``limit``
    presses): how a keyboard user gets to it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{page.url}: Tab never reached {selector}")
