"""The Democracy Data Space pilot, end to end, in about a minute.

    .venv/bin/python examples/pilot-decidim/run.py [--keep]

1. slices the real Decidim export in ../shared/data/decidim-nightly/ in two (the
   assemblies' contributions for node A, the processes' and conferences' for node B);
2. creates two nodes on 127.0.0.1 and imports one slice into each (`ddsnode import decidim`);
3. serves them and makes each follow the other (`ddsnode peer add`);
4. a person on B supports and comments on a proposal published by A — the reactions
   live on B, and B notifies A;
5. waits until A has verified both and counts them (a deadline, never a guess), and
   shows A's counts before and after: each is one more, or the pilot fails;
6. records, on A, the council's decision and an implementation result for that proposal
   (the nightly export has no result→proposal links), and prints the trace from the
   result back to the proposal and its reactions, across both nodes;
7. shows node B's explorer listing node A's proposals (from B's peer cache) beside its
   own, each of A's linking to its original on A.

Every step prints what happened. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from html import unescape
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EXPORT = ROOT.parent / "shared" / "data" / "decidim-nightly"
PY = sys.executable
JSONLD = "application/ld+json"
CONTEXT = "https://w3id.org/dds/context/v1"


def say(step: str, text: str = "") -> None:
    """Print a step heading, or a line under it."""
    print(f"\n== {step}" if not text else f"   {text}", flush=True)


def cli(*args: str) -> str:
    """Run the ddsnode command line; its stdout."""
    return cli_all([args])[0]


def cli_all(commands: list[tuple[str, ...]]) -> list[str]:
    """Run several ddsnode commands at once (each its own process); their stdouts."""
    running = [(args, subprocess.Popen([PY, "-m", "ddsnode", *args], stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True))
               for args in commands]
    out = []
    for args, process in running:
        stdout, stderr = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"ddsnode {' '.join(args[:2])} failed:\n{stderr[-2000:]}")
        out.append(stdout)
    return out


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def space_of(col: dict[str, int], row: list[str]) -> str | None:
    """The URL of the space (or component) a row belongs to."""
    for name in ("participatory_space/url", "url"):
        if name in col and col[name] < len(row) and "/f/" in row[col[name]]:
            return row[col[name]]
    return row[col["participatory_space/url"]] if "participatory_space/url" in col \
        and col["participatory_space/url"] < len(row) else None


def slice_export(target: Path, keep: tuple[str, ...]) -> int:
    """Copy the export into ``target``, keeping contributions of spaces whose URL has one
    of ``keep`` (e.g. "/assemblies/"); comments follow the contribution they are on."""
    target.mkdir(parents=True)
    csv.field_size_limit(sys.maxsize)
    kept_urls: set[str] = set()
    kept = 0
    files = sorted(EXPORT.glob("*.csv"), key=lambda p: "comments" in p.name)  # comments last
    for path in files:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f, delimiter=";")
            header = next(reader)
            rows = list(reader)
        col = {name: i for i, name in enumerate(header)}
        out_rows = []
        for row in rows:
            if "root_commentable_url" in col and col["root_commentable_url"] < len(row):
                if row[col["root_commentable_url"]] in kept_urls:
                    out_rows.append(row)
                continue
            space = space_of(col, row)
            if space is None or any(k in space for k in keep):
                out_rows.append(row)
                if "url" in col and col["url"] < len(row):
                    kept_urls.add(row[col["url"]])
        kept += len(out_rows)
        with (target / path.name).open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, delimiter=";")
            writer.writerow(header)
            writer.writerows(out_rows)
    return kept


class Node:
    """One pilot node: directory, base URL, token, process."""

    def __init__(self, name: str, work: Path) -> None:
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/"
        self.dir = work / f"node-{name}"
        cli("init", str(self.dir), "--base-url", self.base, "--name", f"Pilot node {name}")
        self.token = cli("token", "create", str(self.dir)).strip()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = work / f"node-{name}.log"

    def serve(self) -> None:
        """Start ``ddsnode serve`` (``wait_ready`` waits until it answers)."""
        self.process = subprocess.Popen([PY, "-m", "ddsnode", "serve", str(self.dir),
                                         "--port", str(self.port)],
                                        stdout=self.log.open("wb"), stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        """Wait until the server answers."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(self.base, timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise SystemExit(f"node {self.name} did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """Stop the server."""
        if self.process:
            self.process.terminate()
            self.process.wait(15)

    def write(self, client: httpx.Client, iri: str, doc: dict[str, Any]) -> None:
        """PUT a JSON-LD document (validated by the node)."""
        r = client.put(iri, content=json.dumps({"@context": CONTEXT, "id": iri, **doc}),
                       headers={"Authorization": f"Bearer {self.token}",
                                "Content-Type": JSONLD})
        if r.status_code not in (201, 204):
            raise SystemExit(f"PUT {iri}: {r.status_code} {r.text[:1500]}")


def counts(client: httpx.Client, iri: str) -> dict[str, Any]:
    """The reaction counts a proposal's own representation carries."""
    doc = client.get(iri, headers={"Accept": JSONLD}).json()
    return {k: doc.get(k) for k in ("supportCount", "commentCount", "countsComputedAt")}


def number(value: Any) -> int:
    """A count as a number (absent = 0)."""
    return int(str(value or 0))


def first_proposal(client: httpx.Client, node: Node) -> tuple[str, str]:
    """(IRI, English or any title) of a proposal listed by ``node``."""
    page = client.get(f"{node.base}proposals/", headers={"Accept": JSONLD},
                      params={"type": "https://w3id.org/dds/ns#Proposal", "limit": 50}).json()
    members = page.get("contains") or []
    members = members if isinstance(members, list) else [members]
    found: list[tuple[str, str]] = []
    for m in members:
        title = m.get("title") or {}
        text = (title.get("en") or next(iter(title.values()), "")) if isinstance(title, dict) \
            else str(title)
        found.append((m["id"], text))
        # one with no supports yet shows the remote one most plainly
        if counts(client, m["id"])["supportCount"] in (None, 0, "0"):
            return m["id"], text
    if not found:
        raise SystemExit("node A lists no proposal")
    return found[0]


def wait_for(check: Any, what: str, timeout: float = 60) -> Any:
    """Poll ``check()`` until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise SystemExit(f"timed out waiting for {what}")


PROPOSAL = "https://w3id.org/dds/ns#Proposal"


def proposals_by_node(client: httpx.Client, node: Node) -> dict[str, int]:
    """How many proposals ``node``'s explorer finds, per publishing node (its search's
    ``node`` facet, the same results as the HTML page, as JSON-LD)."""
    r = client.get(f"{node.base}explore", params={"kind": PROPOSAL, "size": 1},
                   headers={"Accept": JSONLD}, timeout=120)
    if r.status_code != 200:
        raise SystemExit(f"{node.base}explore: {r.status_code} {r.text[:500]}")
    # A node is its base IRI; a peer, its origin (no trailing slash): keyed by origin here.
    return {k.rstrip("/"): v for k, v in r.json().get("facetCounts", {}).get("node",
                                                                            {}).items()}


def explorer(client: httpx.Client, a: Node, b: Node) -> None:
    """Step 7: B's explorer lists A's proposals (its peer cache) beside its own, each of
    A's linking to its origin on A."""
    say("7. B's explorer lists A's proposals beside its own (federated, from B's peer cache)")
    origin_a, origin_b = a.base.rstrip("/"), b.base.rstrip("/")
    own_a = proposals_by_node(client, a).get(origin_a, 0)
    # B caches what A's feed lists (polled at once for a new peer) and indexes new copies
    # on its next explorer request: wait until every proposal of A is there.
    seen: dict[str, int] = {}

    def complete() -> dict[str, int] | None:
        seen.update(proposals_by_node(client, b))
        return dict(seen) if own_a and seen.get(origin_a, 0) >= own_a else None
    try:
        counts = wait_for(complete, "B's explorer to list A's proposals", timeout=180)
    except SystemExit:
        raise SystemExit(f"B's explorer lists {seen} proposals per node; A publishes "
                         f"{own_a}") from None
    url = f"{b.base}explore?kind={PROPOSAL.replace('#', '%23')}"
    say("", f"{url}")
    say("", f"proposals on B's explorer: {counts.get(origin_b, 0)} of node B's own, "
            f"{counts.get(origin_a, 0)} of node A's (cached; A publishes {own_a})")
    html = {"Accept": "text/html"}
    page = client.get(f"{b.base}explore", params={"kind": PROPOSAL, "node": origin_a},
                      headers=html).text
    found = re.search(r'<li class="dds-result" data-iri="([^"]+)">\s*<h3[^>]*><a '
                      r'class="govuk-link" href="([^"]+)">([^<]*)</a>', page)
    if found is None:
        raise SystemExit("B's explorer shows no proposal of A")
    iri, href, title = (unescape(g) for g in found.groups())
    say("", f"one of A's on B's explorer: {b.base}{href.lstrip('/')}  «{title[:60]}»")
    copy = client.get(f"{b.base}{href.lstrip('/')}", headers=html).text
    origin = re.search(r'href="([^"]+)">See the original<', copy)
    if origin is None or unescape(origin.group(1)) != iri or not iri.startswith(a.base):
        raise SystemExit(f"B's page of {iri} does not link to its origin on A")
    say("", f"its page on B links to the original on A: {unescape(origin.group(1))}")
    page = client.get(f"{b.base}explore", params={"kind": PROPOSAL, "node": b.base},
                      headers=html).text
    mine = re.search(r'<li class="dds-result" data-iri="([^"]+)"', page)
    if mine is None:
        raise SystemExit("B's explorer shows none of its own proposals")
    say("", f"and one of B's own, beside them: {unescape(mine.group(1))}")


def main() -> int:
    """Run the pilot."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", action="store_true", help="keep the node directories")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dds-pilot-"))
    nodes: list[Node] = []
    try:
        say("1. Slice the Decidim export (nightly.decidim.org, ODbL) in two")
        for name, keep in (("A", ("/assemblies/",)), ("B", ("/processes/", "/conferences/"))):
            rows = slice_export(work / f"slice-{name}", keep)
            say("", f"slice {name}: {rows} rows (contributions of {', '.join(keep)} spaces)")
        say("2. Two nodes, one slice imported into each (validated, authors pseudonymised)")
        a, b = Node("A", work), Node("B", work)
        nodes += [a, b]
        # The two imports are independent (one node each): run them side by side.
        outputs = cli_all([("import", "decidim", str(node.dir), str(work / f"slice-{node.name}"),
                            "--quiet") for node in (a, b)])
        for node, out in zip((a, b), outputs):
            total = next((ln for ln in out.splitlines() if ln.startswith("total")), "").split()
            say("", f"node {node.name} at {node.base}: imported "
                    f"{total[1] if len(total) > 1 else '?'} resources "
                    f"({total[4] if len(total) > 4 else '?'} rejected)")
        say("3. Serve both, and make each follow the other")
        for node in (a, b):
            node.serve()
        for node in (a, b):
            node.wait_ready()
        cli_all([("peer", "add", str(a.dir), b.base), ("peer", "add", str(b.dir), a.base)])
        say("", "A follows B, B follows A (signed Follow activities, RFC 9421)")
        client = httpx.Client(timeout=30)
        proposal, title = first_proposal(client, a)
        say("", f"A's proposal: {proposal}  «{title[:70]}»")
        before = counts(client, proposal)
        say("", f"counts on A before: {before}")
        wait_for(lambda: client.get(f"{b.base}federation/resource",
                                    params={"iri": proposal}).status_code == 200,
                 "B to cache A's proposal")
        say("", "B has A's proposal in its cache (dereferenced, validated, from A's origin)")
        say("4. A person on B supports and comments on A's proposal (reactions live on B)")
        person = f"{b.base}participants/pilot-person"
        b.write(client, person, {"type": "Participant", "nickname": "pilot-person"})
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        b.write(client, f"{b.base}reactions/pilot-support", {
            "type": "Support", "supportKind": "vote", "actor": person, "reactsTo": proposal,
            "created": now})
        b.write(client, f"{b.base}comments/pilot-comment", {
            "type": "Comment", "author": person, "inReplyTo": proposal, "stance": "inFavour",
            "body": {"en": "Seen from platform B: we support this."}, "created": now})
        say("", f"B stored {b.base}reactions/pilot-support and comments/pilot-comment,")
        say("", "and notified A's inbox; A verifies each by dereferencing it from B")
        say("5. A's proposal now counts the remote reactions with its own (deduplicated)")
        support = f"{b.base}reactions/pilot-support"
        comment = f"{b.base}comments/pilot-comment"
        # Wait for what is reported: A has verified both reactions and published counts
        # that include them (before + 1 each), or the pilot fails at the deadline.
        want = {"supportCount": number(before["supportCount"]) + 1,
                "commentCount": number(before["commentCount"]) + 1}

        def arrived() -> dict[str, Any] | None:
            listed = client.get(f"{a.base}federation/reactions", params={"iri": proposal})
            ids = json.dumps(listed.json()) if listed.status_code == 200 else ""
            now = counts(client, proposal)
            done = support in ids and comment in ids and now["countsComputedAt"] and \
                all(number(now[k]) == v for k, v in want.items())
            return {"listing": listed.json(), "counts": now} if done else None

        try:
            seen = wait_for(arrived, "A to verify and count B's support and comment")
        except SystemExit:
            shown = counts(client, proposal)
            raise SystemExit(f"the counts do not add up: before {before}, expected "
                             f"{want}, A shows {shown}") from None
        for r in seen["listing"].get("reactions", []):
            where = "remote, from B" if r.get("id", "").startswith(b.base) else "local"
            say("", f"{str(r.get('type')).lower()}: {r.get('id')} ({where})")
        after = seen["counts"]
        say("", f"counts on A after:  {after}")
        say("", f"supports {number(before['supportCount'])} + 1 = "
                f"{number(after['supportCount'])}, comments {number(before['commentCount'])} "
                f"+ 1 = {number(after['commentCount'])} (a reply counts in its thread, as on "
                "Decidim)")
        say("", "(A computes its counts from verified reactions; B shows A's count, "
                "not a sum of its own cache)")
        say("6. The institution records its decision and the implementation, then: trace")
        decision = f"{a.base}decisions/pilot-answer"
        result = f"{a.base}results/pilot-result"
        a.write(client, decision, {
            "type": "Decision", "decisionType": "answer", "answers": proposal,
            "outcome": "accepted", "date": time.strftime("%Y-%m-%d"),
            "title": {"en": "Answer of the council"}})
        a.write(client, result, {
            "type": "Result", "title": {"en": f"Implementation of «{title[:60]}»"},
            "status": "inProgress", "progress": 25, "implements": proposal})
        trace = cli("trace", str(a.dir), result)
        say("", f"ddsnode trace {a.dir.name} {result}")
        for line in trace.splitlines():
            say("", line)
        explorer(client, a, b)
        say("Done", "")
        print(f"   the Democracy Data Space pilot ran; node directories in {work}"
              if args.keep else "   (run with --keep to keep the node directories)")
        return 0
    finally:
        for node in nodes:
            node.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
