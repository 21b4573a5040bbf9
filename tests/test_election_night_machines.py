"""Election night on several machines (issues 15 x 16): one PostgreSQL, two directories.

Two node directories on one database stand for two machines behind one load balancer
(nothing shared on disk). What must hold: the same publication keys through both (one
JWKS, one rehearsal key, one key history); one hash-chained intake log, whichever
machine takes a tally, verified by ``ddsnode intake verify-log`` from either directory;
a retry with the same Idempotency-Key through the other machine counted once; exactly
one machine publishing generations (the publication lease).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ddsnode import resources
from ddsnode.commands.demo import rebase
from ddsnode.intake.log import ACCEPTED, verify
from ddsnode.intake.shared_log import HEAD, PREFIX, SharedEventLog, append_all, verify_shared
from ddsnode.publication.archive import Archive
from ddsnode.publication.keyring import Keyring
from ddsnode.settings import Settings
from ddsnode.store import open_state
from ddsnode.store.node_key import rotate
from tests.support.inprocess import local_node
from tests.support.node import REPO
from tests.support.pg_nodes import Processes, pg_node
from tests.support.postgres import PostgresServer
from tests.test_intake import ELECTION, events, load_election, post, tally, totals, votes
from tests.test_multiprocess_machines import second_machine

pytestmark = pytest.mark.slow  # two served nodes on one PostgreSQL (tests/support/fastloop.py)


def machine(directory: Path, url: str) -> Settings:
    directory.mkdir(parents=True, exist_ok=True)
    return Settings({"store": "postgresql", "database_url": url}, directory)


# -- keys ---------------------------------------------------------------------------------

def test_two_machines_sign_with_the_same_keys(postgres_server: PostgresServer,
                                              tmp_path: Path) -> None:
    url = postgres_server.database()
    a, b = machine(tmp_path / "a", url), machine(tmp_path / "b", url)
    ring_a = Keyring.open(tmp_path / "a", production=False, settings=a)
    ring_b = Keyring.open(tmp_path / "b", production=False, settings=b)
    assert ring_a.jwks_bytes() == ring_b.jwks_bytes()
    assert ring_a.rehearsal_key is not None and ring_b.rehearsal_key is not None
    assert ring_a.rehearsal_key.kid == ring_b.rehearsal_key.kid != ring_a.node_key.kid
    for directory in (tmp_path / "a", tmp_path / "b"):  # nothing written to either disk
        assert sorted(p.name for p in directory.iterdir() if p.suffix == ".pem") == []
    # A rotation through A: B signs with the new key and lists the old one as retired.
    old = ring_a.node_key.kid
    rotate(a)
    ring_b = Keyring.open(tmp_path / "b", production=False, settings=b)
    ring_a = Keyring.open(tmp_path / "a", production=False, settings=a)
    assert ring_b.node_key.kid != old
    assert ring_a.jwks_bytes() == ring_b.jwks_bytes()
    assert [k["kid"] for k in ring_b.jwks()["keys"] if k.get("retired")] == [old]
    # In production: the same node key, no rehearsal key listed.
    production = Keyring.open(tmp_path / "a", production=True, settings=a)
    assert production.rehearsal_key is None
    assert [k["kid"] for k in production.jwks()["keys"] if not k.get("retired")] == \
        [ring_b.node_key.kid]


def test_machines_starting_at_once_agree_on_the_keys(postgres_server: PostgresServer,
                                                     tmp_path: Path) -> None:
    url = postgres_server.database()
    rings: list[bytes] = []
    lock = threading.Lock()

    def start(name: str) -> None:
        ring = Keyring.open(tmp_path / name, production=False,
                            settings=machine(tmp_path / name, url))
        with lock:
            rings.append(ring.jwks_bytes())

    threads = [threading.Thread(target=start, args=(f"m{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(rings) == 4 and len(set(rings)) == 1
    assert len(json.loads(rings[0])["keys"]) == 2  # node key + rehearsal key, no duplicate


def test_a_directory_moved_onto_postgresql_keeps_its_publication_keys(
        postgres_server: PostgresServer, tmp_path: Path) -> None:
    """Its node key, rehearsal key and key history go into the node state; a second
    machine's own files are not used."""
    on_files = Keyring.open(tmp_path / "a", production=False)
    Keyring.open(tmp_path / "b", production=False)  # another key set, on B's disk
    url = postgres_server.database()
    moved = Keyring.open(tmp_path / "a", production=False, settings=machine(tmp_path / "a", url))
    other = Keyring.open(tmp_path / "b", production=False, settings=machine(tmp_path / "b", url))
    assert moved.jwks_bytes() == on_files.jwks_bytes() == other.jwks_bytes()


# -- the shared log -----------------------------------------------------------------------

def test_two_machines_appending_at_once_make_one_chain(postgres_server: PostgresServer,
                                                       tmp_path: Path) -> None:
    url = postgres_server.database()
    logs = [SharedEventLog(open_state(machine(tmp_path / n, url))) for n in ("a", "b")]
    seen: list[list[int]] = [[], []]  # every event each machine knows of, in order
    own: list[list[int]] = [[], []]  # those it appended

    def append(i: int) -> None:
        for n in range(25):
            # Each attempt reads what the other appended first (as the desk folds it).
            events = append_all(logs[i], lambda log, i=i: seen[i].extend(
                e.seq for e in log.after(seen[i][-1] if seen[i] else 0)),
                [["test", ACCEPTED, {"machine": i, "n": n}, f"m{i}"]])
            seen[i].append(events[0].seq)
            own[i].append(events[0].seq)

    threads = [threading.Thread(target=append, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        state = logs[0].state
        count, faults = verify_shared(state)
        assert (count, faults) == (50, [])
        assert logs[1].head()[0] == 50
        page = logs[1].page(0, 100)
        assert [e.seq for e in page] == list(range(1, 51))
        assert sorted(own[0] + own[1]) == list(range(1, 51))  # none lost, none twice
        assert [e.subject for e in page if e.seq in own[1]] == ["m1"] * 25
        assert seen[0] == sorted(seen[0]) and len(set(seen[0])) == len(seen[0])
        # Tampering is found: a changed event, then a removed tail.
        key, value = state.items(PREFIX, after=f"{PREFIX}{9:012d}", limit=1)[0]
        state.put(key, value.replace(b'"n\\":', b'"n\\": '))
        count, faults = verify_shared(state)
        assert [f.seq for f in faults] == [10]
        state.put(key, value)
        state.commit({}, {f"{PREFIX}{50:012d}": None})
        faults = verify_shared(state)[1]
        assert faults and "head" in faults[-1].problem
        state.put(key, b"\xff not an event")  # garbled by hand: a fault, not a crash
        faults = verify_shared(state)[1]
        assert faults[0].seq == 10 and "not a stored event" in faults[0].problem
    finally:
        for log in logs:
            log.close()


def test_a_retry_through_the_other_machine_is_counted_once(postgres_server: PostgresServer,
                                                           tmp_path: Path) -> None:
    url = postgres_server.database()
    shared = {"store": "postgresql", "database_url": url, "publication_elections": "*",
              "publication_interval_seconds": 0.2}
    with ExitStack() as stack:
        a = stack.enter_context(local_node(tmp_path / "a", settings=shared))
        b = stack.enter_context(local_node(tmp_path / "b", settings=shared))
        http_a, http_b = stack.enter_context(a.client()), stack.enter_context(b.client())
        assert http_a.get("/.well-known/jwks.json").content == \
            http_b.get("/.well-known/jwks.json").content
        load_election(a, http_a)
        body = tally(a, "bureau-101", 500, 300, 200)
        first = post(a, http_a, body, "retry-me")
        assert first.status_code == 201, first.text
        # The same client (its token is shared too) retries through the other machine.
        again = post(b, http_b, body, "retry-me", token=a.token)
        assert again.status_code == 201, again.text
        assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
        other = post(b, http_b, tally(b, "bureau-201", 7, 8, 9), "b-1", token=b.token)
        assert other.status_code == 201, other.text
        refused = post(a, http_a, tally(a, "bureau-101", 1, 1, 1), "retry-me")
        assert refused.status_code == 422  # the key, used through B's log too
        for http in (http_a, http_b):
            _, rows = totals(a, http)
            assert votes(rows[("municipal-2026-council", "rivemont")])["rc"] == 507
            kinds = [e["kind"] for e in events(http)]
            assert kinds.count("tally-counted") == 2 and kinds[-1] == "tally-refused"
        assert events(http_a) == events(http_b)
        logged = len(events(http_a))
        # Exactly one of the two machines publishes (the publication lease).
        archives = [Archive.of(tmp_path / d / "node") for d in ("a", "b")]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(x.elections() for x in archives):
            time.sleep(0.2)
        time.sleep(1.0)  # five more rounds: the other must still not publish
        assert sorted(bool(x.elections()) for x in archives) == [False, True]
    # The chain, from either directory, by the command a user runs.
    for name in ("a", "b"):
        count, faults = verify(tmp_path / name / "node")
        assert count == logged == 3 and faults == []
        run = subprocess.run([sys.executable, "-m", "ddsnode", "intake", "verify-log",
                              str(tmp_path / name / "node")], cwd=REPO, capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr
        assert run.stdout.startswith("3 events;")
    assert not (tmp_path / "a" / "node" / "intake.db").exists()
    state = open_state(Settings.load(tmp_path / "a" / "node"))
    try:
        assert state.get(HEAD) is not None
    finally:
        state.close()


# -- two real servers ---------------------------------------------------------------------

@dataclass
class Remote:
    """What the intake tests' helpers need of a node, for a served one."""

    base: str
    token: str

    def url(self, path: str = "") -> str:
        return self.base + path.lstrip("/")

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    def example(self, name: str) -> tuple[str, bytes]:
        text = rebase((resources.examples_dir() / f"{name}.jsonld").read_text("utf-8"),
                      self.base)
        return json.loads(text)["id"], text.encode("utf-8")


@pytest.mark.slow
def test_two_servers_one_chain_one_publisher(postgres_server: PostgresServer,
                                             tmp_path: Path) -> None:
    publishing = {"publication_elections": "*", "publication_interval_seconds": 0.5}
    a = pg_node(tmp_path, postgres_server.database(), publishing)
    b = second_machine(a, tmp_path)
    with (b.dir / "settings.toml").open("a", encoding="utf-8") as f:
        f.write('publication_elections = "*"\npublication_interval_seconds = 0.5\n')
    node = Remote(a.base, a.token)
    with Processes(a) as on_a, Processes(b) as on_b:
        url_a, url_b = on_a.start(a.port), on_b.start(b.port)
        with httpx.Client(base_url=url_a, timeout=60) as http_a, \
                httpx.Client(base_url=url_b, timeout=60) as http_b:
            assert http_a.get("/.well-known/jwks.json").content == \
                http_b.get("/.well-known/jwks.json").content
            load_election(node, http_a)  # type: ignore[arg-type]
            body = tally(node, "bureau-104", 40, 30, 20)  # type: ignore[arg-type]
            first = post(node, http_a, body, "night-1")  # type: ignore[arg-type]
            again = post(node, http_b, body, "night-1")  # type: ignore[arg-type]
            assert first.status_code == again.status_code == 201, again.text
            assert again.headers["idempotent-replayed"] == "true"
            assert again.json() == first.json()
            other = tally(node, "bureau-201", 1, 2, 3)  # type: ignore[arg-type]
            assert post(node, http_b, other, "night-2").status_code == 201  # type: ignore[arg-type]
            for http in (http_a, http_b):
                _, rows = totals(node, http)  # type: ignore[arg-type]
                assert votes(rows[("municipal-2026-council", "rivemont")])["rc"] == 41
            assert events(http_a) == events(http_b)
            assert [e["kind"] for e in events(http_a)] == ["tally-counted"] * 2
            # One machine publishes the results; the other has nothing of its own.
            deadline, answers = time.monotonic() + 60, [404, 404]
            while time.monotonic() < deadline and 200 not in answers:
                answers = [h.get(f"/{ELECTION}/results/current").status_code
                           for h in (http_a, http_b)]
                time.sleep(0.3)
            time.sleep(2.0)  # four more rounds: the other must still not publish
            answers = [h.get(f"/{ELECTION}/results/current").status_code
                       for h in (http_a, http_b)]
            assert sorted(answers) == [200, 404]
    for machine_dir in (a.dir, b.dir):
        run = subprocess.run([sys.executable, "-m", "ddsnode", "intake", "verify-log",
                              str(machine_dir)], cwd=REPO, env=a.env, capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 0 and run.stdout.startswith("2 events;"), run.stdout
