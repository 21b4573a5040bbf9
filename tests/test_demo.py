"""``ddsnode demo`` and ``ddsnode serve`` as a newcomer meets them (issue 10, item 9).

* A demo directory run again on another port is re-created for the new address: the
  settings, the stored IRIs and the links all use the new port.
* A port that cannot be bound is one line naming the port and ``--port`` (exit 2, no
  traceback), checked before anything is created or changed: a table of bad addresses.
* A node directory that is not a demo is never re-created.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ddsnode import resources
from ddsnode.cli import main
from ddsnode.commands.demo import MARKER, demo_base
from ddsnode.commands.node import init_node
from ddsnode.ldp.node import Node
from ddsnode.settings import SETTINGS_FILE, Settings
from tests.support.node import free_port

SCHOOL_STREETS = "proposals/school-streets"


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another program is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def stored(node_dir: Path, iri: str) -> bool:
    """True when the node in ``node_dir`` holds ``iri``."""
    node = Node.open(Settings.load(node_dir))
    try:
        return node.store.get(iri) is not None
    finally:
        node.close()


def test_demo_on_another_port_is_rebased(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    demo = tmp_path / "demo"
    first, second = free_port(), free_port()
    assert main(["demo", str(demo), "--port", str(first), "--no-serve"]) == 0
    loaded = capsys.readouterr().err
    count = len(list(resources.examples_dir().glob("*.jsonld")))
    assert f"loaded {count} example documents" in loaded and "skipped" not in loaded, loaded
    old = demo_base("127.0.0.1", first)
    assert stored(demo, old + SCHOOL_STREETS)
    assert main(["demo", str(demo), "--port", str(second), "--no-serve"]) == 0
    new = demo_base("127.0.0.1", second)
    assert Settings.load(demo).base_url == new
    assert new in (demo / MARKER).read_text()
    assert stored(demo, new + SCHOOL_STREETS)
    assert not stored(demo, old + SCHOOL_STREETS)
    node = Node.open(Settings.load(demo))
    try:
        found = node.store.get(new + SCHOOL_STREETS)
        assert found is not None and old not in found.ntriples and new in found.ntriples
    finally:
        node.close()


def test_a_demo_still_serving_is_not_recreated(tmp_path: Path, taken_port: int,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Its old port in use (the first demo still running): refused, nothing deleted."""
    demo = tmp_path / "demo"
    assert main(["demo", str(demo), "--port", str(taken_port), "--no-serve"]) == 0
    before = sorted(p.name for p in demo.rglob("*"))
    assert main(["demo", str(demo), "--port", str(free_port()), "--no-serve"]) == 2
    assert "still running" in capsys.readouterr().err
    assert sorted(p.name for p in demo.rglob("*")) == before
    assert Settings.load(demo).base_url == demo_base("127.0.0.1", taken_port)


def test_demo_on_the_same_port_keeps_what_was_written(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    port = free_port()
    assert main(["demo", str(demo), "--port", str(port), "--no-serve"]) == 0
    marker = demo / "kept.txt"
    marker.write_text("still here")
    assert main(["demo", str(demo), "--port", str(port), "--no-serve"]) == 0
    assert marker.read_text() == "still here"


def test_a_node_that_is_not_a_demo_is_left_alone(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    node_dir = tmp_path / "mynode"
    init_node(node_dir, base_url="https://participa.example.org/")
    before = (node_dir / SETTINGS_FILE).read_text()
    assert main(["demo", str(node_dir), "--port", str(free_port()), "--no-serve"]) == 2
    assert "not a demo directory" in capsys.readouterr().err
    assert (node_dir / SETTINGS_FILE).read_text() == before


# (case, host, port or None for "a port another program holds", words in the message)
BAD_ADDRESSES: list[tuple[str, str, int | None, list[str]]] = [
    ("port in use", "127.0.0.1", None, ["already in use", "--port"]),
    ("port zero", "127.0.0.1", 0, ["port 0", "--port"]),
    ("port above 65535", "127.0.0.1", 70000, ["port 70000", "--port"]),
    ("negative port", "127.0.0.1", -1, ["port -1", "--port"]),
    ("address not on this machine", "192.0.2.1", 8000, ["192.0.2.1", "--host"]),
    ("host that does not resolve", "no-such-host.invalid", 8000, ["--host"]),
]
if os.geteuid() != 0:  # root may bind a privileged port
    BAD_ADDRESSES.append(("privileged port", "127.0.0.1", 80, ["port 80", "--port"]))


@pytest.mark.parametrize(("case", "host", "port", "words"), BAD_ADDRESSES,
                         ids=[c[0] for c in BAD_ADDRESSES])
@pytest.mark.parametrize("command", ["demo", "serve"])
def test_bad_address_is_one_line_and_changes_nothing(
        tmp_path: Path, taken_port: int, capsys: pytest.CaptureFixture[str],
        case: str, host: str, port: int | None, words: list[str], command: str) -> None:
    port = taken_port if port is None else port
    node_dir = tmp_path / "node"
    if command == "serve":
        init_node(node_dir)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    status = main([command, str(node_dir), "--host", host, "--port", str(port)])
    err = capsys.readouterr().err
    assert status == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    if case == "port in use":
        assert f"port {port}" in err
    for word in words:
        assert word in err, f"{case}: {word!r} not in {err!r}"
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing created


@pytest.mark.slow  # ddsnode demo as typed (tests/support/fastloop.py)
def test_port_in_use_from_the_shell(tmp_path: Path, taken_port: int) -> None:
    """What the user sees in a terminal: one line, exit status 2, no traceback."""
    command = [sys.executable, "-m", "ddsnode", "demo", str(tmp_path / "demo"),
               "--port", str(taken_port)]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"ddsnode: port {taken_port} on 127.0.0.1 is already in use")
    assert "choose another port with --port" in line
    assert "Errno" not in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "demo").exists()


@pytest.mark.slow  # the printed commands, each a ddsnode process (tests/support/fastloop.py)
def test_hints_work_as_printed(tmp_path: Path) -> None:
    """``init`` prints its next commands as the user typed ddsnode (item 8: not on PATH)."""
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parents[1])
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PATH"] = "/usr/bin:/bin"
    done = subprocess.run([".venv/bin/ddsnode", "init", "mynode"], cwd=tmp_path, env=env,
                          check=True, capture_output=True, text=True, timeout=60)
    assert "next: .venv/bin/ddsnode serve mynode" in done.stdout
    assert ".venv/bin/ddsnode token create mynode" in done.stdout
    hint = done.stdout.split("for writes: ", 1)[1].split()
    token = subprocess.run(hint, cwd=tmp_path, env=env, check=True, capture_output=True,
                           text=True, timeout=60)
    assert token.stdout.strip()  # the printed command works, and prints a token


def _a_file(root: Path) -> Path:
    (root / "f").write_text("x")
    return root / "f"


def _under_a_file(root: Path) -> Path:
    return _a_file(root) / "sub"


def _a_folder_with_files(root: Path) -> Path:
    (root / "d").mkdir()
    (root / "d" / "notes.txt").write_text("mine")
    return root / "d"


# (case, how to make the directory argument, words in the one-line message)
BAD_DIRECTORIES: list[tuple[str, Callable[[Path], Path], list[str]]] = [
    ("a file", _a_file, ["Not a directory"]),
    ("under a file", _under_a_file, ["Not a directory"]),
    ("a folder with other files", _a_folder_with_files, ["not empty"]),
]


@pytest.mark.parametrize(("case", "make", "words"), BAD_DIRECTORIES,
                         ids=[c[0] for c in BAD_DIRECTORIES])
def test_bad_directory_is_one_line_and_changes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, make: Callable[[Path], Path],
        words: list[str]) -> None:
    target = make(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert main(["demo", str(target), "--port", str(free_port()), "--no-serve"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for word in words:
        assert word in err, f"{case}: {word!r} not in {err!r}"
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_ipv6_port_in_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The check binds what the server will bind, IPv6 included ([::1] in the base)."""
    try:
        sock = socket.socket(socket.AF_INET6)
        sock.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with sock:
        sock.listen()
        port = sock.getsockname()[1]
        assert main(["demo", str(tmp_path / "demo"), "--host", "::1", "--port",
                     str(port)]) == 2
    assert f"port {port} on ::1 is already in use" in capsys.readouterr().err
    assert not (tmp_path / "demo").exists()
    assert demo_base("::1", port) == f"http://[::1]:{port}/"
