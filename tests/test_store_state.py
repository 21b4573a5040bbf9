"""The node state (ddsnode/store/state.py): one contract over SQLite and PostgreSQL, and
what rides on it on PostgreSQL — the node key and the bearer tokens, the same for two
node directories (two machines) on one database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ddsnode.keys import KEY_FILE, generate_node_key, private_pem, public_key_pem
from ddsnode.ldp.tokens import TokenRegistry
from ddsnode.settings import Settings
from ddsnode.store import open_state
from ddsnode.store.node_key import node_key, previous_node_key, public_pem, rotate
from ddsnode.store.state import MAX_VALUE_BYTES, NodeState, SqliteState
from tests.support.postgres import PostgresServer


def pg_settings(directory: Path, url: str) -> Settings:
    directory.mkdir(parents=True, exist_ok=True)
    return Settings({"store": "postgresql", "database_url": url}, directory)


# PostgreSQL is a slow-loop test (tests/support/fastloop.py); CI runs both.
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[NodeState]]:
    """Two independent openers of one node state (as two processes would be)."""
    opened: list[NodeState] = []
    if request.param == "sqlite":
        opened = [SqliteState(tmp_path), SqliteState(tmp_path)]
    else:
        pg: PostgresServer = request.getfixturevalue("postgres_server")
        url = pg.database()
        opened = [open_state(pg_settings(tmp_path / "a", url)),
                  open_state(pg_settings(tmp_path / "b", url))]
    yield opened
    for state in opened:
        state.close()


def test_put_get_items_delete_and_head(opener: list[NodeState]) -> None:
    a, b = opener
    assert a.get("x/1") is None and a.head() == 0
    a.put("x/1", b"one")
    a.put("x/2", b"\x00two\xff")  # any bytes
    a.put("y/1", b"other")
    assert b.get("x/1") == b"one"
    assert b.items("x/") == [("x/1", b"one"), ("x/2", b"\x00two\xff")]
    assert b.items("x/", after="x/1") == [("x/2", b"\x00two\xff")]
    assert b.items("x/", limit=1) == [("x/1", b"one")]
    assert b.items("", after="x/2") == [("y/1", b"other")]
    assert b.head() == 3
    assert b.delete("x/1") is True
    assert a.delete("x/1") is False
    assert a.get("x/1") is None and a.head() == 4


def test_commit_is_all_or_nothing(opener: list[NodeState]) -> None:
    a, b = opener
    a.put("head", b"1")
    # A chain step: the new head and the event together, only over the expected head.
    assert b.commit({"head": b"1"}, {"head": b"2", "event/2": b"e2"}) is True
    assert a.commit({"head": b"1"}, {"head": b"3", "event/3": b"e3"}) is False
    assert a.get("event/3") is None and a.get("head") == b"2"
    assert a.commit({"absent": None}, {"absent": b"now"}) is True
    assert a.commit({"absent": None}, {"absent": b"again"}) is False
    assert b.get("absent") == b"now"


def test_add_gives_every_opener_the_first_value(opener: list[NodeState]) -> None:
    """Processes starting together each generate a key: one wins, all read the winner."""
    a, b = opener
    results: list[bytes] = []
    lock = threading.Lock()

    def start(state: NodeState, mine: bytes) -> None:
        got = state.add("signing-key", mine)
        with lock:
            results.append(got)

    threads = [threading.Thread(target=start, args=(s, f"key-{i}".encode()))
               for i in range(8) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and len(results) == 16
    assert a.get("signing-key") == results[0]


def test_concurrent_swaps_one_winner_per_round(opener: list[NodeState]) -> None:
    a, b = opener
    a.put("counter", b"0")
    for round_ in range(20):
        current = str(round_).encode()
        wins: list[bool] = []
        threads = [threading.Thread(target=lambda s=s: wins.append(
            s.swap("counter", current, str(round_ + 1).encode()))) for s in (a, b, a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert wins.count(True) == 1, round_
    assert b.get("counter") == b"20"


@pytest.mark.parametrize("key", ["", "/lead", "a" * 201, "spaces no", "é", "x\n", "%"])
def test_bad_keys_are_refused(opener: list[NodeState], key: str) -> None:
    a, _ = opener
    with pytest.raises(ValueError, match="state key"):
        a.put(key, b"v")
    assert a.head() == 0


def test_values_too_large_or_not_bytes_are_refused(opener: list[NodeState]) -> None:
    a, _ = opener
    with pytest.raises(ValueError, match="past"):
        a.commit({}, {"ok": b"small", "big": b"x" * (MAX_VALUE_BYTES + 1)})
    with pytest.raises(TypeError):
        a.put("text", "not bytes")  # type: ignore[arg-type]
    assert a.get("ok") is None  # nothing of a refused commit is written


# -- the node key and tokens on PostgreSQL: two directories, one database ---------------

def test_two_directories_share_one_node_key(postgres_server: PostgresServer,
                                            tmp_path: Path) -> None:
    url = postgres_server.database()
    a, b = pg_settings(tmp_path / "a", url), pg_settings(tmp_path / "b", url)
    key_a = node_key(a, create=True)
    key_b = node_key(b, create=True)
    assert private_pem(key_a) == private_pem(key_b)
    assert public_pem(a) == public_pem(b) == public_key_pem(key_a)
    assert not (tmp_path / "a" / KEY_FILE).exists()  # not written to either directory
    # Rotation through A is what B signs with next; the old key stays for the grace.
    fresh = rotate(a, now=1000.0)
    assert private_pem(node_key(b)) == private_pem(fresh)
    kept = previous_node_key(b, grace=60, now=1059.0)
    assert kept is not None and private_pem(kept) == private_pem(key_a)
    assert previous_node_key(b, grace=60, now=1061.0) is None
    assert previous_node_key(a, grace=60, now=1000.0) is None  # removed after the grace


def test_a_directory_key_moves_into_the_database_once(postgres_server: PostgresServer,
                                                      tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    """A node moved onto PostgreSQL keeps its identity; a second machine's own file
    is not used (and the operator is told)."""
    url = postgres_server.database()
    a, b = pg_settings(tmp_path / "a", url), pg_settings(tmp_path / "b", url)
    old = generate_node_key(tmp_path / "a" / KEY_FILE)
    generate_node_key(tmp_path / "b" / KEY_FILE)
    assert private_pem(node_key(a)) == private_pem(old)
    assert private_pem(node_key(b)) == private_pem(old)
    assert "is not this node's key" in caplog.text


def test_tokens_made_on_one_machine_work_on_the_other(postgres_server: PostgresServer,
                                                      tmp_path: Path) -> None:
    url = postgres_server.database()
    a = TokenRegistry(tmp_path / "a", settings=pg_settings(tmp_path / "a", url))
    b = TokenRegistry(tmp_path / "b", settings=pg_settings(tmp_path / "b", url))
    try:
        token = a.create(["read", "write"], label="clerk")
        info = b.verify(token)
        assert info is not None and info.scopes == {"read", "write"} and info.label == "clerk"
        assert b.verify(token + "x") is None
        assert b.verify("dds_" + "x" * 300) is None  # too long: no lookup at all
        assert b.verify("not-a-token") is None
        assert b.revoke(info.id) is True  # by id, through the other machine
        assert a.verify(token) is None  # revoked everywhere at the next check
        assert a.revoke(token) is False  # already revoked
        second = b.create(["read"])
        assert a.revoke(second) is True  # by the token itself
        listed = a.list()
        assert [t.label for t in listed] == ["clerk", ""]
        assert all(t.revoked is not None for t in listed)
        assert not (tmp_path / "a" / "admin.db").exists()
    finally:
        a.close()
        b.close()


def test_admin_db_tokens_are_copied_when_a_node_moves(postgres_server: PostgresServer,
                                                      tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    before = TokenRegistry(tmp_path / "a", settings=Settings({}, tmp_path / "a"))
    token = before.create(["read"], label="before the move")
    url = postgres_server.database()
    moved = TokenRegistry(tmp_path / "a", settings=pg_settings(tmp_path / "a", url))
    other = TokenRegistry(tmp_path / "b", settings=pg_settings(tmp_path / "b", url))
    try:
        assert other.verify(token) is not None
        assert other.revoke(token) is True
        # Reopening copies admin.db again: the revocation in the database stands.
        again = TokenRegistry(tmp_path / "a", settings=pg_settings(tmp_path / "a", url))
        assert again.verify(token) is None
        again.close()
    finally:
        moved.close()
        other.close()


def test_the_pseudonym_key_is_one_for_every_machine(postgres_server: PostgresServer,
                                                    tmp_path: Path) -> None:
    """Imports from two machines give a person one pseudonym (ddsnode/decidim/pseudonym.py);
    a moved directory's pseudonym.key is the one kept."""
    from ddsnode.decidim.pseudonym import KEY_FILE as PSEUDONYM_FILE
    from ddsnode.decidim.pseudonym import load_key
    from ddsnode.settings import write_settings_file
    url = postgres_server.database()
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        write_settings_file(tmp_path / name / "settings.toml",
                            {"store": "postgresql", "database_url": url})
    (tmp_path / "a" / PSEUDONYM_FILE).write_bytes(b"k" * 32)
    assert load_key(tmp_path / "a") == load_key(tmp_path / "b") == b"k" * 32
    assert not (tmp_path / "b" / PSEUDONYM_FILE).exists()
    (tmp_path / "c").mkdir()  # the embedded store: the directory's own file, as before
    assert load_key(tmp_path / "c") == (tmp_path / "c" / PSEUDONYM_FILE).read_bytes()
    assert load_key(tmp_path / "c") != load_key(tmp_path / "a")


def test_a_schema_1_database_gets_the_state_tables(postgres_server: PostgresServer,
                                                   tmp_path: Path) -> None:
    """A database written before the node state (schema 1) is migrated when opened."""
    import psycopg

    from ddsnode.store.postgresql import PostgresqlStore
    from ddsnode.store.postgresql_schema import SCHEMA_VERSION
    url = postgres_server.database()
    PostgresqlStore(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("node_state", "state_head", "import_ledger", "import_runs"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("UPDATE schema_version SET version = 1")
    state = open_state(pg_settings(tmp_path / "a", url))
    try:
        assert state.add("k", b"v") == b"v" and state.head() == 1
    finally:
        state.close()
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchone() == (SCHEMA_VERSION,)
