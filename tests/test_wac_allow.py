"""Access hints and existence: WAC-Allow on GET/HEAD (issue 10, item 6) and OPTIONS that
answers the same for an existing private resource and a missing one (issue 9, item 12).

One node in-process with a public shaped container (``proposals/``), an open container
(``open/``) and a private one (``private/``); each case is a row of a table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.inprocess import LocalNode, local_node

TURTLE = "text/turtle"
DOC = b"<#it> <http://purl.org/dc/terms/title> \"secret plan\" ."
RW = "read write append"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    root: Path = tmp_path_factory.mktemp("wac")
    with local_node(root, settings={"open_containers": "open/",
                                    "private_containers": "private/"}) as node:
        with node.client() as http:
            iri, body = node.example("a-proposal-quai-bike-lane")
            assert http.put(iri, content=body, headers={"Content-Type": "application/ld+json",
                                                        **node.auth()}).status_code == 201
            for path in ("open/note", "private/plan", "private/box/"):
                r = http.put(path, content=DOC,
                             headers={"Content-Type": TURTLE, **node.auth()})
                assert r.status_code == 201, r.text
        node.proposal = iri  # type: ignore[attr-defined]
        yield node


def wac(response: httpx.Response) -> dict[str, str]:
    """WAC-Allow parsed into {"user": modes, "public": modes} (modes sorted)."""
    value = response.headers["wac-allow"]
    pairs = dict(re.findall(r'(\w+)="([^"]*)"', value))
    return {k: " ".join(sorted(v.split())) for k, v in pairs.items()}


def norm(modes: str) -> str:
    return " ".join(sorted(modes.split()))


# (path or "proposal", credentials, expected user modes, expected public modes)
CASES = [
    ("", None, "read", "read"),
    ("", "write", "read", "read"),
    ("proposals/", None, "read", "read"),
    ("proposals/", "write", "read append", "read"),
    ("proposals/", "read", "read", "read"),
    ("proposal", None, "read", "read"),
    ("proposal", "write", RW, "read"),
    ("proposal", "read", "read", "read"),
    ("proposal", "bogus", "read", "read"),  # an unknown token is the public, not a 401
    ("open/", None, "read append", "read append"),
    ("open/note", None, RW, RW),
    ("open/note", "write", RW, RW),
    ("private/", "read", "read", ""),
    ("private/", "write", RW.replace("write ", ""), ""),
    ("private/plan", "read", "read", ""),
    ("private/plan", "write", RW, ""),
]


@pytest.mark.parametrize(("path", "credentials", "user", "public"), CASES)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_wac_allow_says_what_the_credentials_and_the_public_may_do(
        node: LocalNode, method: str, path: str, credentials: str | None, user: str,
        public: str) -> None:
    target = node.proposal if path == "proposal" else node.url(path)  # type: ignore[attr-defined]
    headers = {"Accept": TURTLE}
    if credentials == "write":
        headers.update(node.auth())
    elif credentials == "read":
        headers.update(node.auth(node.read_token))
    elif credentials == "bogus":
        headers["Authorization"] = "Bearer dds_not-a-token"
    with node.client() as http:
        r = http.request(method, target, headers=headers)
    assert r.status_code == 200, r.text
    assert wac(r) == {"user": norm(user), "public": norm(public)}


def test_wac_allow_is_exposed_to_browser_apps(node: LocalNode) -> None:
    with node.client() as http:
        r = http.get("proposals/", headers={"Origin": "https://app.example"})
    assert "WAC-Allow" in r.headers["access-control-expose-headers"]
    assert wac(r)["public"] == "read"


# --- OPTIONS does not tell an existing private resource from a missing one -------------

# (an existing path, a missing one): in the private container, and outside it for contrast
PRIVATE_PAIRS = [
    ("private/plan", "private/nothing-here"),
    ("private/plan", "private/deeper/nothing"),
    ("private/box/", "private/nobox/"),
    ("private/plan", "private/plan.meta"),
]

ANONYMOUS_HEADER_SETS: list[dict[str, str]] = [
    {},
    {"Authorization": "Bearer dds_not-a-token"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Origin": "https://app.example"},
]


def answer(r: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    """Everything a client can see in an OPTIONS answer."""
    headers = sorted((k, v) for k, v in r.headers.items() if k not in ("date",))
    return r.status_code, headers, r.content


@pytest.mark.parametrize(("existing", "missing"), PRIVATE_PAIRS)
@pytest.mark.parametrize("headers", ANONYMOUS_HEADER_SETS)
def test_options_without_read_access_is_the_same_for_existing_and_missing(
        node: LocalNode, existing: str, missing: str, headers: dict[str, str]) -> None:
    with node.client() as http:
        a = http.options(existing, headers=headers)
        b = http.options(missing, headers=headers)
        assert a.status_code == 204
        assert answer(a) == answer(b)
        # The node still answers: a read of another resource and /sparql.
        assert http.get("proposals/").status_code == 200
        assert http.get("sparql", params={"query": "ASK {}"},
                        headers=node.auth(node.read_token)).status_code == 200


def test_options_with_a_read_token_describes_the_resource(node: LocalNode) -> None:
    with node.client() as http:
        r = http.options("private/plan", headers=node.auth(node.read_token))
    assert r.status_code == 204
    assert "RDFSource" in r.headers["link"]


def test_options_on_a_public_resource_is_unchanged(node: LocalNode) -> None:
    with node.client() as http:
        r = http.options(node.proposal)  # type: ignore[attr-defined]
    assert r.status_code == 204 and "RDFSource" in r.headers["link"]
