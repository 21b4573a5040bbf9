"""Two real nodes (issue 15): a mirror follows a publishing node over HTTP, verifies it,
re-serves the same bytes, keeps serving while the origin is down, and catches up."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ddsnode.publication.jws import verify
from ddsnode.publication.keyring import keys_of
from tests.support.node import REPO, RunningNode, _wait, running_node
from tests.test_publication import CORRECTION, ELECTION, FIRST, SETUP

pytestmark = pytest.mark.slow
IDENTITY = {"Accept-Encoding": "identity"}


def _put(node: RunningNode, http: httpx.Client, name: str) -> None:
    iri, body = node.example(name)
    r = http.put(iri, content=body, headers={"Content-Type": "application/ld+json",
                                             **node.auth()})
    assert r.status_code in (201, 204), r.text


def _until(check: Callable[[], Any], what: str, seconds: float = 90) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            found = check()
        except httpx.HTTPError:
            found = None
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what} never happened")


def _pointer(base: str) -> dict[str, Any] | None:
    r = httpx.get(f"{base}{ELECTION}/results/current", headers=IDENTITY, timeout=10)
    return r.json() if r.status_code == 200 else None


def _generation_bytes(base: str, pointer: dict[str, Any]) -> dict[str, bytes]:
    """Every file of the pointer's generation at ``base``, by path, with the manifest."""
    results = f"{base}{ELECTION}/results/"
    jws = httpx.get(results + pointer["manifest"], headers=IDENTITY, timeout=10).content
    manifest = json.loads(_payload(jws))
    out = {"manifest.jws": jws}
    for entry in manifest["files"]:
        out[entry["path"]] = httpx.get(f"{results}g/{pointer['generation']}/{entry['path']}",
                                       headers=IDENTITY, timeout=10).content
    return out


def _payload(jws: bytes) -> bytes:
    from ddsnode.publication.jws import b64url_decode
    return b64url_decode(jws.split(b".")[1].decode())


def test_a_mirror_node_follows_verifies_survives_an_outage_and_catches_up(
        tmp_path: Path) -> None:
    settings = {"publication_elections": "*", "publication_interval_seconds": 0.5}
    with running_node(tmp_path / "o", settings=settings) as origin:
        with origin.client() as http:
            for name in SETUP + FIRST:
                _put(origin, http, name)
        first = _until(lambda: (p := _pointer(origin.base)) and len(httpx.get(
            f"{origin.base}{ELECTION}/results/g/{p['generation']}/results.json",
            headers=IDENTITY).json()["results"]) == 2 and p, "the first results published")
        follow = {"publication_follow": origin.url(ELECTION),
                  "publication_mirror_poll_seconds": 0.2}
        with running_node(tmp_path / "m", settings=follow) as mirror:
            seen = _until(lambda: (p := _pointer(mirror.base)) and
                          p["generation"] >= first["generation"] and p, "the mirror followed")
            origin_files = _generation_bytes(origin.base, seen)
            mirror_files = _generation_bytes(mirror.base, seen)
            assert mirror_files == origin_files  # the same bytes, at the same paths
            # Readers of the mirror check the publisher's signature with the publisher's keys.
            jwks = keys_of(httpx.get(origin.url(".well-known/jwks.json")).json(),
                           production=False)
            manifest = json.loads(verify(mirror_files["manifest.jws"].decode(), jwks))
            for entry in manifest["files"]:
                assert hashlib.sha256(mirror_files[entry["path"]]).hexdigest() == entry["sha256"]

            # The origin goes down: the mirror keeps serving its last verified generation.
            origin.process.terminate()
            origin.process.wait(timeout=10)
            time.sleep(1.0)  # several mirror polls against a closed port
            assert _pointer(mirror.base) == seen
            assert _generation_bytes(mirror.base, seen) == origin_files

            # Back up, with a correction: the mirror catches up.
            port = origin.base.rsplit(":", 1)[1].strip("/")
            env = {**os.environ, "PYTHONPATH": str(REPO)}
            with (origin.dir / "serve-again.log").open("wb") as out:
                again = subprocess.Popen(
                    [sys.executable, "-m", "ddsnode", "serve", str(origin.dir), "--port", port],
                    cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
            try:
                _wait(origin.base, again, origin.dir / "serve-again.log")
                with origin.client() as http:
                    _put(origin, http, CORRECTION)
                latest = _until(lambda: (p := _pointer(origin.base)) and
                                p["generation"] > seen["generation"] and p, "the correction")
                caught = _until(lambda: (p := _pointer(mirror.base)) and
                                p["generation"] == latest["generation"] and p,
                                "the mirror caught up")
                assert _generation_bytes(mirror.base, caught) == \
                    _generation_bytes(origin.base, latest)
                changes = httpx.get(f"{mirror.base}{ELECTION}/results/changes",
                                    params={"since": str(seen["generation"])}).json()
                assert changes["units"] == [origin.url("places/rivemont-secteur-1")]
            finally:
                again.terminate()
                again.wait(timeout=10)
