"""Mirrors (issue 15): an origin is an attacker until its bytes are verified.

The origin's generations are real: a node directory publishes the example election
(generation 1: the first results; 2: a correction). A fake origin serves them over
``httpx.MockTransport`` behind the node's one outbound client, and misbehaves on
demand: down, slow, tampered bytes, another key, a forged or regressing generation, a
huge manifest, a rehearsal. The mirror must serve only what it verified.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ddsnode import resources
from ddsnode.commands.demo import rebase
from ddsnode.commands.node import init_node
from ddsnode.ldp.node import Node
from ddsnode.outbound.client import OutboundClient
from ddsnode.publication import documents as docs
from ddsnode.publication.archive import Archive, pointer_bytes
from ddsnode.publication.jws import b64url, public_jwk, sign
from ddsnode.publication.keyring import Keyring
from ddsnode.publication.mirror import Mirror, Origin
from ddsnode.publication.publisher import Publisher
from ddsnode.publication.shelf import Shelf
from ddsnode.publication.stored import StoredResults
from ddsnode.settings import Settings
from tests.test_publication import CORRECTION, ELECTION, FIRST, SETUP

ORIGIN = "http://127.0.0.1:9"
URL = f"{ORIGIN}/{ELECTION}"


@dataclass
class Published:
    """The origin's real publication: its archive, keys and each generation's pointer."""

    dir: Path
    archive: Archive
    keyring: Keyring
    pointers: dict[int, bytes] = field(default_factory=dict)


def publish_origin(root: Path, *, rehearsal: str = "") -> Published:
    """A node directory that published generation 1 (first results) and 2 (a correction)."""
    node_dir = root / "origin"
    init_node(node_dir, base_url=ORIGIN + "/")
    settings = Settings.load(node_dir)
    node = Node.open(settings)
    out = Published(node_dir, Archive.of(node_dir), Keyring.open(node_dir, production=False))
    try:
        feed = StoredResults(node, "*")
        publisher = Publisher(feed, out.archive, out.keyring, base=node.base, interval=0,
                              rehearsal=rehearsal)

        def write(name: str) -> None:
            text = rebase((resources.examples_dir() / f"{name}.jsonld").read_text("utf-8"),
                          node.base)
            node.write_document(json.loads(text)["id"], text.encode(), "application/ld+json")

        for name in SETUP + FIRST:
            write(name)
        assert len(publisher.publish_once(force=True)) == 1
        out.pointers[1] = (out.archive.results_dir(ELECTION) / "current").read_bytes()
        write(CORRECTION)
        assert len(publisher.publish_once(force=True)) == 1
        out.pointers[2] = (out.archive.results_dir(ELECTION) / "current").read_bytes()
    finally:
        node.close()
    return out


class SlowStream(httpx.AsyncByteStream):
    """A body that trickles: a byte, then a long wait."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"{"
        await asyncio.sleep(30)
        yield b"}"


class Body(httpx.AsyncByteStream):
    """A body streamed as from the network (the outbound client reads it raw)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data


def answer(status: int, body: bytes = b"", kind: str = "application/json") -> httpx.Response:
    """A streamed response."""
    return httpx.Response(status, stream=Body(body), headers={"content-type": kind,
                                                             "content-length": str(len(body))})


@dataclass
class FakeOrigin:
    """Serves a Published over MockTransport; each knob is one way of misbehaving."""

    published: Published
    pointer: int = 2
    down: bool = False
    slow: bool = False
    jwks: bytes | None = None
    replace: dict[str, bytes] = field(default_factory=dict)  # path after /results/ -> bytes
    huge_manifest: bool = False
    slow_paths: set[str] = field(default_factory=set)  # paths after /results/ that trickle
    requests: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests.append(path)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if path == "/.well-known/jwks.json":
            body = self.jwks or self.published.keyring.jwks_bytes()
            return answer(200, body, "application/jwk-set+json")
        prefix = f"/{ELECTION}/results/"
        if not path.startswith(prefix):
            return answer(404)
        rest = path[len(prefix):]
        if self.slow or rest in self.slow_paths:
            return httpx.Response(200, stream=SlowStream(),
                                  headers={"content-type": "application/json"})
        if rest == "current":
            body = self.replace.get(rest, self.published.pointers[self.pointer])
            return answer(200, body)
        if self.huge_manifest and rest.endswith("manifest.jws"):
            return answer(200, b"a" * (9 * 1024 * 1024), "application/jose")
        try:
            body = self.replace.get(rest) or self.published.archive.read(ELECTION, rest)
        except FileNotFoundError:
            return answer(404)
        kind = "application/jose" if rest.endswith(".jws") else "application/octet-stream"
        return answer(200, body, kind)


def mirror_of(root: Path, origin: FakeOrigin, *, production: bool = False,
              timeout: float = 30.0, jwks_file: Path | None = None) -> Mirror:
    client = OutboundClient(allowed_origins={ORIGIN}, transport=httpx.MockTransport(origin),
                            total_timeout=timeout)
    return Mirror([Origin.parse(URL)], Archive(root / "mirror" / "publication"), client,
                  production=production, poll_seconds=0.1, max_manifest_bytes=8 * 1024 * 1024,
                  max_file_bytes=64 * 1024 * 1024, max_generation_bytes=1024 * 1024 * 1024,
                  max_catchup=1000, jwks_file=jwks_file)


def poll(mirror: Mirror) -> str:
    async def once() -> str:
        try:
            return (await mirror.poll_once())[URL]
        finally:
            await mirror.aclose()
    return asyncio.run(once())


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    return publish_origin(tmp_path_factory.mktemp("origin"))


def served_generation(mirror: Mirror) -> int | None:
    pointer = mirror.archive.pointer(ELECTION)
    return pointer.generation if pointer else None


def test_a_mirror_verifies_and_re_serves_the_same_bytes(published: Published,
                                                        tmp_path: Path) -> None:
    mirror = mirror_of(tmp_path, FakeOrigin(published))
    assert poll(mirror) == "generation 2"
    origin_dir = published.archive.results_dir(ELECTION)
    mirror_dir = mirror.archive.results_dir(ELECTION)
    assert (mirror_dir / "current").read_bytes() == (origin_dir / "current").read_bytes()
    originals = published.archive.listed(ELECTION, 2)
    assert mirror.archive.listed(ELECTION, 2) == originals
    for relative in [*originals, "manifest.jws"]:
        assert mirror.archive.read(ELECTION, f"g/2/{relative}") == \
            published.archive.read(ELECTION, f"g/2/{relative}")
    # Stored as the origin stores them: the generation's folder holds its manifest, and
    # every file is the object of its hash.
    assert [p.name for p in (mirror_dir / "g" / "2").iterdir()] == ["manifest.jws"]
    for line in originals.values():
        assert mirror.archive.objects(ELECTION).has(line.sha256, line.size)
    # Generation 1 was checked for the chain; its diff is kept so changes?since works.
    assert mirror.archive.read(ELECTION, "g/1/diff.json") == \
        published.archive.read(ELECTION, "g/1/diff.json")
    shelf = Shelf(mirror.archive, 1 << 20)
    changes = shelf.changes(ELECTION, 0, 100)
    assert changes is not None and changes["generation"] == 2
    body = shelf.changes_body(ELECTION, 0, 100)
    assert body is not None and json.loads(body) == changes
    assert shelf.changes_body(ELECTION, 0, 100) is body  # the same answer, kept
    with pytest.raises(ValueError, match="read the snapshot"):
        shelf.changes(ELECTION, 0, 1)  # two generations back, at most one allowed
    records: dict[docs.Key, docs.Json] = {}
    for n in (1, 2):
        served = shelf.file(ELECTION, f"g/{n}/diff.json")
        assert served is not None
        docs.apply_diff(records, json.loads(served.body))
    snapshot = shelf.file(ELECTION, "g/2/results.json")
    assert snapshot is not None and docs.snapshot_bytes(URL, records) == snapshot.body
    assert shelf.file(ELECTION, "g/1/results.json") is None  # not kept, so not served


def test_the_mirror_keeps_serving_when_the_origin_is_down_and_catches_up(
        published: Published, tmp_path: Path) -> None:
    origin = FakeOrigin(published, pointer=1)
    assert poll(mirror_of(tmp_path, origin)) == "generation 1"
    origin.down = True
    assert poll(mirror_of(tmp_path, origin)).startswith("unreachable")
    mirror = mirror_of(tmp_path, origin)
    assert served_generation(mirror) == 1
    origin.down, origin.pointer = False, 2
    assert poll(mirror_of(tmp_path, origin)) == "generation 2"
    assert poll(mirror_of(tmp_path, origin)) == "up to date (generation 2)"


def test_a_slow_origin_times_out_and_the_last_generation_stays(published: Published,
                                                               tmp_path: Path) -> None:
    origin = FakeOrigin(published, pointer=1)
    assert poll(mirror_of(tmp_path, origin)) == "generation 1"
    origin.slow, origin.pointer = True, 2
    outcome = poll(mirror_of(tmp_path, origin, timeout=0.5))
    assert outcome.startswith("unreachable") and "within 0.5 s" in outcome
    assert served_generation(mirror_of(tmp_path, origin)) == 1


def _first_file(published: Published, generation: int) -> str:
    jws = published.archive.read(ELECTION, f"g/{generation}/manifest.jws")
    payload = json.loads(docs_payload(jws))
    return str(next(f["path"] for f in payload["files"] if f["path"].endswith(".csv")))


def docs_payload(jws: bytes) -> bytes:
    from ddsnode.publication.jws import b64url_decode
    return b64url_decode(jws.split(b".")[1].decode())


def _refused(mirror: Mirror, words: str) -> None:
    outcome = poll(mirror)
    assert outcome.startswith("refused") and words in outcome, outcome
    assert mirror.refusals and words in mirror.refusals[-1]
    assert served_generation(mirror) is None  # nothing half-verified is ever served


def test_a_tampered_file_is_refused(published: Published, tmp_path: Path) -> None:
    path = _first_file(published, 2)
    original = published.archive.read(ELECTION, f"g/2/{path}")
    tampered = original.replace(b"11052", b"11053")
    assert tampered != original
    origin = FakeOrigin(published, replace={f"g/2/{path}": tampered})
    _refused(mirror_of(tmp_path, origin), "does not match its hash")


def test_a_manifest_whose_payload_was_changed_is_refused(published: Published,
                                                         tmp_path: Path) -> None:
    jws = published.archive.read(ELECTION, "g/1/manifest.jws")
    head, payload, signature = jws.split(b".")
    manifest = json.loads(docs_payload(jws))
    manifest["stationsReported"] = manifest["stationsTotal"] + 1
    forged = b".".join([head, b64url(json.dumps(manifest).encode()).encode(), signature])
    origin = FakeOrigin(published, replace={"g/1/manifest.jws": forged})
    _refused(mirror_of(tmp_path, origin), "signature does not verify")


def test_another_key_is_refused(published: Published, tmp_path: Path) -> None:
    stranger = public_jwk(Ed25519PrivateKey.generate())
    origin = FakeOrigin(published, jwks=json.dumps({"keys": [stranger]}).encode())
    _refused(mirror_of(tmp_path, origin), "unknown key")


def test_a_configured_jwks_wins_over_what_the_origin_serves(published: Published,
                                                            tmp_path: Path) -> None:
    pinned = tmp_path / "origin-jwks.json"
    pinned.write_bytes(published.keyring.jwks_bytes())
    stranger = public_jwk(Ed25519PrivateKey.generate())
    origin = FakeOrigin(published, jwks=json.dumps({"keys": [stranger]}).encode())
    assert poll(mirror_of(tmp_path, origin, jwks_file=pinned)) == "generation 2"
    assert "/.well-known/jwks.json" not in origin.requests


def test_keys_are_pinned_on_first_use(published: Published, tmp_path: Path) -> None:
    origin = FakeOrigin(published, pointer=1)
    assert poll(mirror_of(tmp_path, origin)) == "generation 1"
    # The origin now serves another key set and re-signs generation 2 with a new key.
    key = Ed25519PrivateKey.generate()
    jwk = public_jwk(key)
    jws = published.archive.read(ELECTION, "g/2/manifest.jws")
    resigned = sign(docs_payload(jws), key, jwk["kid"]).encode()
    origin.jwks = json.dumps({"keys": [jwk]}).encode()
    origin.pointer = 2
    origin.replace = {"g/2/manifest.jws": resigned, "current": _pointer(2, resigned)}
    outcome = poll(mirror_of(tmp_path, origin))
    assert outcome.startswith("refused") and "unknown key" in outcome
    assert served_generation(mirror_of(tmp_path, origin)) == 1


def _pointer(generation: int, jws: bytes) -> bytes:
    return pointer_bytes(URL, generation, hashlib.sha256(jws).hexdigest(),
                         "2026-03-15T22:00:00Z")


def test_a_regressing_generation_is_refused(published: Published, tmp_path: Path) -> None:
    origin = FakeOrigin(published)
    assert poll(mirror_of(tmp_path, origin)) == "generation 2"
    origin.pointer = 1
    mirror = mirror_of(tmp_path, origin)
    outcome = poll(mirror)
    assert outcome.startswith("refused") and "backwards" in outcome
    assert served_generation(mirror) == 2


def test_a_rewritten_generation_is_refused(published: Published, tmp_path: Path) -> None:
    origin = FakeOrigin(published)
    assert poll(mirror_of(tmp_path, origin)) == "generation 2"
    jws = published.archive.read(ELECTION, "g/2/manifest.jws")
    origin.replace = {"current": _pointer(2, jws + b"x")}
    outcome = poll(mirror_of(tmp_path, origin))
    assert outcome.startswith("refused") and "changed at the origin" in outcome


def _resign(published: Published, generation: int,
            change: Callable[[dict[str, object]], None]) -> bytes:
    jws = published.archive.read(ELECTION, f"g/{generation}/manifest.jws")
    manifest = json.loads(docs_payload(jws))
    change(manifest)
    key = published.keyring.node_key
    return sign(json.dumps(manifest).encode(), key.key, key.kid).encode()


def test_a_broken_chain_is_refused_even_when_signed(published: Published,
                                                    tmp_path: Path) -> None:
    forged = _resign(published, 2, lambda m: m.update(previous="0" * 64))
    origin = FakeOrigin(published, replace={"g/2/manifest.jws": forged,
                                            "current": _pointer(2, forged)})
    _refused(mirror_of(tmp_path, origin), "does not chain")


def test_a_manifest_of_another_generation_or_election_is_refused(published: Published,
                                                                 tmp_path: Path) -> None:
    forged = _resign(published, 1, lambda m: m.update(generation=7))
    origin = FakeOrigin(published, pointer=1, replace={"g/1/manifest.jws": forged,
                                                       "current": _pointer(1, forged)})
    _refused(mirror_of(tmp_path, origin), "says generation 7")
    other = _resign(published, 1, lambda m: m.update(election=ORIGIN + "/elections/other"))
    origin = FakeOrigin(published, pointer=1, replace={"g/1/manifest.jws": other,
                                                       "current": _pointer(1, other)})
    _refused(mirror_of(tmp_path / "2", origin), "another election")


@pytest.mark.parametrize("path", ["../../../etc/passwd", "/abs", "a/b/c/d.json", "manifest.jws",
                                  ".hidden", ""])
def test_a_manifest_naming_a_bad_path_is_refused(published: Published, tmp_path: Path,
                                                 path: str) -> None:
    def change(m: dict[str, object]) -> None:
        files = list(m["files"])  # type: ignore[call-overload]
        files.append({"path": path, "sha256": "0" * 64, "size": 1, "type": "text/plain"})
        m["files"] = files
    forged = _resign(published, 1, change)
    origin = FakeOrigin(published, pointer=1, replace={"g/1/manifest.jws": forged,
                                                       "current": _pointer(1, forged)})
    _refused(mirror_of(tmp_path, origin), "bad file path")


def test_a_huge_manifest_is_refused_unread(published: Published, tmp_path: Path) -> None:
    origin = FakeOrigin(published, huge_manifest=True)
    _refused(mirror_of(tmp_path, origin), "exceeds")


def test_a_garbage_pointer_is_refused(published: Published, tmp_path: Path) -> None:
    for garbage in (b"not json", b"[]", b'{"generation": -1}', b"\xff" * 10):
        origin = FakeOrigin(published, replace={"current": garbage})
        _refused(mirror_of(tmp_path, origin), "pointer")


def test_a_production_mirror_refuses_a_rehearsal(tmp_path: Path) -> None:
    rehearsal = publish_origin(tmp_path / "rehearsal", rehearsal="*")
    pinned = tmp_path / "jwks.json"
    pinned.write_bytes(rehearsal.keyring.jwks_bytes())
    origin = FakeOrigin(rehearsal)
    _refused(mirror_of(tmp_path / "prod", origin, production=True, jwks_file=pinned),
             "unknown key")
    # Signed by the production key but labelled a rehearsal: refused too.
    forged = _resign(rehearsal, 1, lambda m: m.update(rehearsal=True, kid="x"))
    origin = FakeOrigin(rehearsal, pointer=1, replace={"g/1/manifest.jws": forged,
                                                       "current": _pointer(1, forged)})
    _refused(mirror_of(tmp_path / "prod2", origin, production=True, jwks_file=pinned),
             "rehearsal")
    # A mirror not in production follows a rehearsal.
    assert poll(mirror_of(tmp_path / "test", FakeOrigin(rehearsal))) == "generation 2"


def test_a_rotated_key_verifies_the_past_but_not_the_newest(tmp_path: Path) -> None:
    from ddsnode.keys import old_node_key, rotate_node_key
    from ddsnode.publication.jws import verify
    from ddsnode.publication.keyring import keys_of

    node_dir = tmp_path / "origin"
    init_node(node_dir, base_url=ORIGIN + "/")
    node = Node.open(Settings.load(node_dir))
    archive = Archive.of(node_dir)
    out = Published(node_dir, archive, Keyring.open(node_dir, production=False))
    try:
        def write(name: str) -> None:
            text = rebase((resources.examples_dir() / f"{name}.jsonld").read_text("utf-8"),
                          node.base)
            node.write_document(json.loads(text)["id"], text.encode(), "application/ld+json")

        for name in SETUP + FIRST:
            write(name)
        Publisher(StoredResults(node, "*"), archive, out.keyring, base=node.base,
                  interval=0).publish_once(force=True)
        out.pointers[1] = (archive.results_dir(ELECTION) / "current").read_bytes()
        old_kid = out.keyring.node_key.kid
        rotate_node_key(node_dir)
        out.keyring = Keyring.open(node_dir, production=False)
        write(CORRECTION)
        Publisher(StoredResults(node, "*"), archive, out.keyring, base=node.base,
                  interval=0).publish_once(force=True)
        out.pointers[2] = (archive.results_dir(ELECTION) / "current").read_bytes()
    finally:
        node.close()
    jwks = out.keyring.jwks()
    assert [k.get("retired", False) for k in jwks["keys"] if k["kid"] == old_kid] == [True]
    first = archive.read(ELECTION, "g/1/manifest.jws").decode()
    assert json.loads(verify(first, keys_of(jwks, production=False)))["kid"] == old_kid
    pinned = tmp_path / "jwks.json"
    pinned.write_bytes(out.keyring.jwks_bytes())
    # Generation 1 (old key) is walked over, generation 2 (new key) is served.
    assert poll(mirror_of(tmp_path / "a", FakeOrigin(out), jwks_file=pinned)) == "generation 2"
    # The newest generation signed with the retired key: refused.
    old = old_node_key(node_dir)
    assert old is not None
    payload = docs_payload(archive.read(ELECTION, "g/2/manifest.jws"))
    forged = sign(payload, old, old_kid).encode()
    origin = FakeOrigin(out, replace={"g/2/manifest.jws": forged, "current": _pointer(2, forged)})
    _refused(mirror_of(tmp_path / "b", origin, jwks_file=pinned), "retired key")
