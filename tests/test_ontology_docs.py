"""``ddsnode ontology docs``: a static site in en and fr whose links all resolve."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag

import pytest

from ddsnode.cli import main
from ddsnode.rdf.vocab import DDS

GOOD = Path(__file__).parent / "fixtures" / "authoring" / "good"


class Page(HTMLParser):
    """What the tests look at in a page: links, ids, the lang attribute, the title."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.lang = ""
        self.scripts = 0
        self.h1 = ""
        self._in_h1 = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang") or ""
        if tag == "script":
            self.scripts += 1
        if tag == "h1":
            self._in_h1 = True
        for name in ("href", "src"):
            if values.get(name):
                self.links.append(values[name] or "")
        if values.get("id"):
            self.ids.add(values["id"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data: str) -> None:
        if self._in_h1:
            self.h1 += data


def build(root: Path | None, out: Path) -> dict[Path, Page]:
    args = ["ontology", "docs", str(out)] + (["--root", str(root)] if root else [])
    assert main(args) == 0
    return {p: Page(p.read_text(encoding="utf-8")) for p in out.rglob("*.html")}


def assert_links_resolve(pages: dict[Path, Page]) -> None:
    for path, page in pages.items():
        assert page.scripts == 0, path
        for href in page.links:
            if href.startswith(("http://", "https://", "mailto:")):
                continue  # links out (external terms) are shown, never fetched
            target, fragment = urldefrag(href)
            file = (path.parent / target).resolve() if target else path
            assert file.is_file(), f"{path}: broken link {href}"
            if fragment and file.suffix == ".html":
                ids = pages[file].ids if file in pages else Page(file.read_text()).ids
                assert fragment in ids, f"{path}: no #{fragment} in {file}"


def test_fixture_site(tmp_path: Path) -> None:
    pages = build(GOOD, tmp_path)
    for lang, title in (("en", "Proposal"), ("fr", "Proposition")):
        page = pages[tmp_path / lang / "class" / "Proposal.html"]
        assert page.lang == lang and page.h1 == title
        assert f"../../{'fr' if lang == 'en' else 'en'}/class/Proposal.html" in page.links
        assert "../../examples/proposal.jsonld" in page.links
        assert "../property/state.html" in page.links
        assert "../scheme/state.html#accepted" in page.links
        assert "https://www.w3.org/ns/activitystreams#Note" in page.links  # closeMatch
    french = (tmp_path / "fr" / "class" / "Proposal.html").read_text(encoding="utf-8")
    assert "Une proposition doit avoir un titre." in french  # sh:message in French
    assert (tmp_path / "examples" / "proposal.jsonld").is_file()
    assert (tmp_path / "style.css").is_file()
    assert_links_resolve(pages)


def test_text_is_escaped(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    shutil.copytree(GOOD, root)
    core = root / "ontology" / "core.ttl"
    core.write_text(core.read_text(encoding="utf-8").replace(
        '"Proposal"@en', '"Proposal <script>alert(1)</script> & co"@en'), encoding="utf-8")
    pages = build(root, tmp_path / "site")
    page = pages[tmp_path / "site" / "en" / "class" / "Proposal.html"]
    assert page.scripts == 0
    assert page.h1 == "Proposal <script>alert(1)</script> & co"


def test_bundled_site(tmp_path: Path) -> None:
    """The real ontology: a page per class in both languages, every link resolving."""
    if "Proposal" not in DDS.terms:
        pytest.skip("the ontology does not declare dds:Proposal yet")
    pages = build(None, tmp_path)
    for lang in ("en", "fr"):
        assert tmp_path / lang / "index.html" in pages
        assert tmp_path / lang / "class" / "Proposal.html" in pages
    assert_links_resolve(pages)
