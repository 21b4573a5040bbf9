"""The fast loop's rule (tests/support/fastloop.py) fails a planted violation and passes the
same test once it is marked slow, or when it only starts the node's own workers."""

from __future__ import annotations

import pytest

from tests.support.fastloop import allowed

pytest_plugins = ["pytester"]

PLANTED = """
import subprocess, sys
import pytest

def test_starts_a_program():
    subprocess.run(["true"], check=True)

@pytest.mark.slow
def test_starts_a_program_and_says_so():
    subprocess.run(["true"], check=True)

def test_starts_nothing():
    assert sys.executable
"""


def test_a_planted_program_fails_the_fast_test_and_not_the_slow_one(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_planted=PLANTED)
    result = pytester.runpytest_inprocess("-p", "tests.support.fastloop", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=1)  # the error is the fast test's teardown
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_starts_a_program *",
        "*this test is in the fast loop (not marked slow) but started a program:*",
        "*true*",
    ])
    assert "test_starts_a_program_and_says_so" not in result.stdout.str().split(
        "short test summary")[-1]


@pytest.mark.parametrize("argv", [
    ["/usr/bin/python3", "-m", "ddsnode.store.index", "/n/store.sqlite3", "/n/index"],
    ["python", "-u", "-m", "ddsnode.analysis.child", "/n", "4294967296"],
    ["python", "-m", "ddsnode.ldp.patch_worker", "512"],
    ["/sbin/ldconfig", "-p"],
])
def test_the_nodes_own_workers_are_allowed(argv: list[str]) -> None:
    assert allowed(argv)


@pytest.mark.parametrize("argv", [
    ["python", "-m", "ddsnode", "token", "create", "/n"],
    ["python", "-m", "ddsnode", "serve", "/n", "--port", "8000"],
    [".venv/bin/ddsnode", "init", "mynode"],
    ["runuser", "-u", "postgres", "--", "initdb", "-D", "/x"],
    ["oxigraph", "serve", "--location", "/x"],
    ["node", "tests/support/js/to_nquads.js"],
    ["python", "-c", "import ddsnode"],
])
def test_programs_are_not(argv: list[str]) -> None:
    assert not allowed(argv)
