"""Every shell command in README.md runs as printed (issue 10, items 7 and 8).

The shell blocks (```sh) of the README are run, in order, by one bash process (so ``B``,
``TOKEN`` and ``ETAG`` carry from block to block as in the reader's terminal) against a
demo node that this test starts with ``ddsnode demo node-demo --port N``, in a directory
laid out like a checkout (the repository's files linked in, ``../shared`` beside it).
Only the ports change: 8000 (the demo) and 8001 (the second node of the federation
block) become free ones. Each command must exit 0, or with the status its comment names
(``# exit 1``), and a command whose comment starts with an HTTP status (``# 201``) must
get that status (curl ``-i`` prints it).

Blocks preceded by ``<!-- not run: reason -->`` are skipped; the list is short and each
says why. The two "fresh machine" commands (``python3 -m venv .venv && … ddsnode demo``
and ``./scripts/test``) are among them: this test runs inside the environment they make,
and starts the demo itself.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.node import free_port

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
NOT_RUN = re.compile(r"<!--\s*not run:\s*(?P<reason>.+?)\s*-->\s*$")
FENCE = re.compile(r"^```(?P<lang>\S*)\s*$")
SHELL = {"sh", "bash", "shell"}
MAX_NOT_RUN = 5  # keep the skipped list short
# Files and folders the README's commands create in the checkout; never linked in.
MADE_BY_README = {"node-demo", "mynode", "nodeB", "site", "proposal.ttl", "minutes.txt"}


@dataclass(frozen=True)
class Command:
    """One shell command of a block: its text, and what its trailing comment expects."""

    text: str
    comment: str
    line: int

    @property
    def http_status(self) -> int | None:
        """The HTTP status the comment names (``# 201 …``), if any."""
        found = re.match(r"([1-5]\d\d)\b", self.comment)
        return int(found.group(1)) if found else None

    @property
    def exit_status(self) -> int:
        """The exit status the comment names (``# exit 1 …``), else 0."""
        found = re.match(r"exit (\d+)\b", self.comment)
        return int(found.group(1)) if found else 0


@dataclass(frozen=True)
class Block:
    """A fenced shell block of the README."""

    code: str
    line: int
    not_run: str | None  # the reason, when marked not to be run

    def commands(self) -> list[Command]:
        """The block's commands, split as bash would (quotes, continuations, comments)."""
        return split_commands(self.code, self.line + 1)


def shell_blocks(text: str) -> list[Block]:
    """The ```sh blocks of ``text``, each with the not-run reason written just before it."""
    blocks, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if fence is None or not fence.group("lang"):
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        if fence.group("lang") in SHELL:
            before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            marker = NOT_RUN.match(before.strip())
            blocks.append(Block("\n".join(lines[i + 1:end]) + "\n", i + 1,
                                marker.group("reason") if marker else None))
        i = end + 1
    return blocks


def split_commands(code: str, first_line: int = 1) -> list[Command]:
    """Commands of a shell script: newline-separated outside quotes, ``\\``-continued
    lines joined, full-line comments dropped, a trailing comment kept with its command."""
    commands: list[Command] = []
    buf: list[str] = []
    comment, quote, line, start = "", "", first_line, first_line
    i = 0
    while i < len(code):
        c = code[i]
        if quote:
            buf.append(c)
            if c == "\\" and quote == '"' and i + 1 < len(code):
                buf.append(code[i + 1])
                i += 1
            elif c == quote:
                quote = ""
            line += c == "\n"
        elif c == "\\" and i + 1 < len(code):
            buf.append(code[i:i + 2])
            line += code[i + 1] == "\n"
            i += 1
        elif c in "'\"":
            quote = c
            buf.append(c)
        elif c == "#" and (not buf or buf[-1][-1:] in (" ", "\t", "\n")):
            end = code.find("\n", i)
            end = len(code) if end < 0 else end
            if "".join(buf).strip():
                comment = code[i + 1:end].strip()
            i = end - 1
        elif c == "\n":
            text = "".join(buf).strip()
            if text:
                commands.append(Command(text, comment, start))
            buf, comment = [], ""
            line += 1
            start = line
        else:
            if not "".join(buf).strip():
                start = line
            buf.append(c)
        i += 1
    assert not quote, f"unclosed {quote} in the block at line {first_line}"
    text = "".join(buf).strip()
    if text:
        commands.append(Command(text, comment, start))
    return commands


def run_blocks() -> list[Block]:
    """The blocks this test runs."""
    return [b for b in shell_blocks(README.read_text(encoding="utf-8")) if b.not_run is None]


# --- checks that need no node --------------------------------------------------------

def test_split_commands() -> None:
    code = ("A=1   # set\n# a full-line comment\ncurl -i x \\\n  -H 'a # b' --data-raw '{\n"
            '  "k": 1}\'   # 201 Created\necho "a \\" # b"\n')
    commands = split_commands(code)
    assert [c.text for c in commands] == [
        "A=1", "curl -i x \\\n  -H 'a # b' --data-raw '{\n  \"k\": 1}'", 'echo "a \\" # b"']
    assert [c.http_status for c in commands] == [None, 201, None]
    assert [c.line for c in commands] == [1, 3, 6]
    assert split_commands("x   # exit 1, invalid\n")[0].exit_status == 1


def test_not_run_blocks_are_few_and_say_why() -> None:
    blocks = shell_blocks(README.read_text(encoding="utf-8"))
    skipped = [b for b in blocks if b.not_run is not None]
    assert len(skipped) <= MAX_NOT_RUN, [b.line for b in skipped]
    assert all(len(b.not_run or "") > 15 for b in skipped)
    assert len(blocks) - len(skipped) >= 5


def test_commands_work_as_printed() -> None:
    """No bare ``ddsnode`` (not on PATH after the README's install: item 8), and no
    ``--data '@…'`` (curl would read a file named by the rest: item 7)."""
    for block in shell_blocks(README.read_text(encoding="utf-8")):
        for command in block.commands():
            bare = re.search(r"(^|[\s;&|(])ddsnode\s", command.text)
            assert bare is None, f"README line {command.line}: use .venv/bin/ddsnode"
            assert not re.search(r"--data(-ascii)?\s+'@", command.text), (
                f"README line {command.line}: --data reads a file when the body starts "
                "with @; use --data-raw")


# --- the README, run ------------------------------------------------------------------

def checkout_copy(root: Path) -> Path:
    """A directory that looks like a checkout (the repo's entries linked), ../shared beside."""
    checkout = root / "ddsnode"
    checkout.mkdir()
    for entry in REPO.iterdir():
        if entry.name not in MADE_BY_README and entry.name != ".git":
            (checkout / entry.name).symlink_to(entry)
    shared = REPO.parent / "shared"
    if shared.is_dir():
        (root / "shared").symlink_to(shared)
    return checkout


def localised(command: str, demo_port: int, second_port: int) -> str:
    """``command`` with the README's ports (8000: the demo, 8001: node B) made free ones."""
    for old, new in (("8000", demo_port), ("8001", second_port)):
        command = re.sub(rf"(127\.0\.0\.1:|--port ){old}\b", rf"\g<1>{new}", command)
    return command


def script(blocks: list[Block], demo_port: int, second_port: int) -> tuple[str, list[Command]]:
    """One bash script running every command with markers around its output and status."""
    lines: list[str] = ["exec 2>&1"]
    commands: list[Command] = []
    for block in blocks:
        for command in block.commands():
            n = len(commands)
            commands.append(command)
            lines += [f"printf '\\n@@begin {n}\\n'", localised(command.text, demo_port,
                                                               second_port),
                      f"printf '\\n@@end {n} %s\\n' \"$?\""]
    lines.append("printf '\\n@@token %s\\n' \"${TOKEN:-}\"")
    return "\n".join(lines) + "\n", commands


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until ``url`` answers (the demo loads the examples first)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the demo stopped: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail(f"the demo did not answer: {log.read_text(errors='replace')[-2000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop ``process`` and anything it left in its session (a node in the background)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.slow
@pytest.mark.timeout(900)  # every README command in turn: about 4 minutes on a busy machine
@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None,
                    reason="the README's commands need bash and curl")
def test_every_readme_command_runs(tmp_path: Path) -> None:
    checkout = checkout_copy(tmp_path)
    demo_port = free_port()
    second_port = next(p for p in iter(free_port, None) if p != demo_port)
    ddsnode = checkout / ".venv" / "bin" / "ddsnode"
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        demo = subprocess.Popen([str(ddsnode), "demo", "node-demo", "--port", str(demo_port)],
                                cwd=checkout, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{demo_port}/", demo, log)
        printed = log.read_text(encoding="utf-8", errors="replace")
        assert f"serving http://127.0.0.1:{demo_port}/" in printed, printed
        assert f"{ddsnode} token create node-demo" in printed, printed  # works as printed
        text, commands = script(run_blocks(), demo_port, second_port)
        (tmp_path / "readme.sh").write_text(text, encoding="utf-8")
        output_file = tmp_path / "readme.out"
        # curl draws a progress meter when its output is not a terminal, as here: off,
        # so that the status line starts a line, as the reader sees it.
        (tmp_path / ".curlrc").write_text("no-progress-meter\n", encoding="utf-8")
        env = {**os.environ, "CURL_HOME": str(tmp_path)}
        with output_file.open("wb") as out:
            shell = subprocess.Popen(["bash", str(tmp_path / "readme.sh")], cwd=checkout,
                                     stdout=out, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        try:
            shell.wait(timeout=600)
        finally:
            stop(shell)  # and node B, if the block that stops it did not run
        output = output_file.read_text(encoding="utf-8", errors="replace")
    finally:
        stop(demo)

    segments = {int(m.group(1)): (m.group(2), int(m.group(3))) for m in re.finditer(
        r"\n@@begin (\d+)\n(.*?)\n@@end \1 (\d+)\n", output, re.DOTALL)}
    failures = []
    for n, command in enumerate(commands):
        where = f"README line {command.line}: {command.text[:200]}"
        if n not in segments:
            failures.append(f"{where}\n  did not run")
            continue
        printed, status = segments[n]
        if status != command.exit_status:
            failures.append(f"{where}\n  exit {status}, expected {command.exit_status}\n"
                            f"  {printed[-1500:]}")
        if command.http_status is not None:
            got = re.search(r"^HTTP/[\d.]+ (\d{3})", printed, re.MULTILINE)
            if got is None or int(got.group(1)) != command.http_status:
                failures.append(f"{where}\n  HTTP {got.group(1) if got else 'none'}, "
                                f"expected {command.http_status}\n  {printed[-1500:]}")
    assert not failures, "\n\n".join(failures)

    token = re.search(r"\n@@token (.*)\n", output)
    assert token is not None and token.group(1).strip(), "TOKEN was left empty (item 8)"
    # The N3 Patch replaced the state: one state, the new one (item 7).
    (shown,) = [segments[n][0] for n, c in enumerate(commands)
                if "grep 'dds:state'" in c.text]
    states = [line for line in shown.splitlines() if "dds:state" in line]
    assert len(states) == 1 and "evaluating" in states[0], shown
