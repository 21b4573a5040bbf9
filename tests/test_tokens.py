"""Bearer tokens: printed once, stored hashed, revocable, scoped."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ddsnode.ldp.tokens import TokenRegistry

pytestmark = pytest.mark.slow  # the token commands as typed, each a ddsnode process (tests/support/fastloop.py)


def ddsnode(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ddsnode", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def node_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("tokens") / "node"
    assert ddsnode("init", str(d)).returncode == 0
    return d


def test_create_prints_only_the_token(node_dir: Path) -> None:
    r = ddsnode("token", "create", str(node_dir), "--label", "ci")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dds_") and " " not in lines[0]
    info = TokenRegistry(node_dir).verify(lines[0])
    assert info is not None and info.scopes == {"read", "write"} and info.label == "ci"


def test_tokens_are_stored_hashed(node_dir: Path) -> None:
    token = ddsnode("token", "create", str(node_dir)).stdout.strip()
    dump = "\n".join(sqlite3.connect(node_dir / "admin.db").iterdump())
    assert token not in dump and token.split("_", 2)[2] not in dump


def test_revoke_by_token_and_by_id(node_dir: Path) -> None:
    reg = TokenRegistry(node_dir)
    t1 = ddsnode("token", "create", str(node_dir)).stdout.strip()
    t2 = ddsnode("token", "create", str(node_dir), "--scope", "admin").stdout.strip()
    assert ddsnode("token", "revoke", str(node_dir), t1).returncode == 0
    assert reg.verify(t1) is None
    token_id = t2.split("_", 2)[1]
    assert ddsnode("token", "revoke", str(node_dir), token_id).returncode == 0
    assert reg.verify(t2) is None
    assert ddsnode("token", "revoke", str(node_dir), t1).returncode == 1  # already revoked
    listing = ddsnode("token", "list", str(node_dir)).stdout
    assert f"{token_id}\trevoked\tadmin" in listing and t2 not in listing


@pytest.mark.parametrize("token", ["", "dds_", "dds_x_y", "Bearer x", "dds_" + "a" * 500])
def test_garbage_tokens_do_not_verify(node_dir: Path, token: str) -> None:
    assert TokenRegistry(node_dir).verify(token) is None


def test_unknown_scope_and_missing_dir_are_clear_errors(tmp_path: Path, node_dir: Path) -> None:
    r = ddsnode("token", "create", str(tmp_path / "nowhere"))
    assert r.returncode == 2 and "not a node directory" in r.stderr and "Traceback" not in r.stderr
    r = ddsnode("token", "create", str(node_dir), "--scope", "root")
    assert r.returncode == 2 and "Traceback" not in r.stderr
