"""Outside judges the tests call: independent RDF parsers from npm (jsonld.js, N3.js).

Installed once into ``~/.cache/ddsnode-judges/parsers`` (``JUDGES_CACHE`` overrides) from the
npm registry, so CI on a fresh machine gets them by itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import rdflib

from ddsnode import resources
from tests.support.once import installed_once

CACHE = Path(os.environ.get("JUDGES_CACHE", Path.home() / ".cache" / "ddsnode-judges"))
PARSERS = CACHE / "parsers"
SCRIPT = Path(__file__).resolve().parent / "js" / "to_nquads.js"


def node_available() -> bool:
    """True when node and npm are on PATH."""
    return bool(shutil.which("node") and shutil.which("npm"))


def ensure_parsers() -> Path:
    """Install jsonld.js and N3.js once; returns the folder holding node_modules."""

    def install(folder: Path) -> None:
        subprocess.run(["npm", "init", "-y"], cwd=folder, check=True, capture_output=True)
        subprocess.run(["npm", "install", "-s", "--no-audit", "--no-fund", "jsonld@8", "n3@1"],
                       cwd=folder, check=True, capture_output=True, timeout=600)

    return installed_once(PARSERS, install)  # one process installs; xdist workers wait


def parse_many(items: list[tuple[bytes, str, str | None]], *,
               bundled: bool = True) -> list[rdflib.Graph]:
    """Parse each (body, format, base) with the npm parsers, in one node process.

    Contexts are fetched only from loopback addresses (a node under test); with
    ``bundled`` the shared context's w3id IRI is also served from ddsnode's copy."""
    folder = ensure_parsers()
    env = {**os.environ, "NODE_PATH": str(folder / "node_modules")}
    if bundled:
        # one file per process: xdist workers share the folder, and a file rewritten
        # while another worker's node process reads it would be read half-written
        ctx_file = folder / f"contexts-{os.getpid()}.json"
        ctx_file.write_text(json.dumps({resources.CONTEXT_IRI: resources.context_document()}))
        env["CONTEXTS"] = str(ctx_file)
    payload = json.dumps([{"body": body.decode("utf-8"), "format": fmt, "base": base or ""}
                          for body, fmt, base in items])
    out = subprocess.run(["node", str(SCRIPT)], check=False, input=payload.encode("utf-8"),
                         capture_output=True, env=env, timeout=300)
    if out.returncode != 0:
        raise AssertionError(f"independent parsers failed: {out.stderr[:500]!r}")
    graphs = []
    for (_, fmt, _), answer in zip(items, json.loads(out.stdout), strict=True):
        if "error" in answer:
            raise AssertionError(f"independent {fmt} parser refused a body: {answer['error'][:500]}")
        g = rdflib.Graph()
        # default-graph N-Quads lines are N-Triples; a named graph would fail here, as it should
        g.parse(data=answer["nquads"], format="nt")
        graphs.append(g)
    return graphs


def parse_independently(body: bytes, fmt: str, base: str | None = None) -> rdflib.Graph:
    """Parse ``body`` (json-ld, turtle or n-triples) with the npm parsers; an rdflib graph."""
    return parse_many([(body, fmt, base)])[0]
