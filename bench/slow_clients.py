"""Slow and bloated clients (issue 9, item 4), before and after, in one run.

    .venv/bin/python bench/slow_clients.py [--cap 45]

Serves one node with uvicorn's stock httptools protocol (``before``) and with the
bounded protocol of ``ddsnode serve`` (``after``, default settings), and for each:

* sends an 8 MB header and 50,000 header lines: the status, and how much the server's
  resident memory grew;
* opens a connection that sends half a head (slowloris) and one that sends half a body,
  and reports how long the server keeps each open (``--cap`` seconds at most: "held"
  means it was still open then).

A script, never a test: the tests show the bounds hold without timing them.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.run import PY, free_port, wait_http

TRANSPORT = HERE / "transport.py"


def rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def send_head(port: int, data: bytes) -> str:
    """Send ``data`` and return the status line of the answer (or what happened)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        try:
            sock.sendall(data)
            answer = sock.recv(200)
        except OSError as e:
            return type(e).__name__
    return answer.split(b"\r\n", 1)[0].decode("latin-1") or "closed"


def held(port: int, data: bytes, cap: float, out: dict[str, float], key: str) -> None:
    """Seconds until the server closes a connection that sent only ``data``."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=cap) as sock:
        sock.sendall(data)
        try:
            while sock.recv(65536):
                pass
            out[key] = time.monotonic() - start
        except TimeoutError:
            out[key] = float("inf")
        except OSError:
            out[key] = time.monotonic() - start


def main() -> int:
    """Measure both configurations and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cap", type=float, default=45.0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ddsbench-slow-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    node_dir = tmp / "node"
    subprocess.run([PY, "-m", "ddsnode", "init", str(node_dir), "--base-url", base],
                   check=True, stdout=subprocess.DEVNULL)
    token = subprocess.run([PY, "-m", "ddsnode", "token", "create", str(node_dir)],
                           check=True, capture_output=True, text=True).stdout.strip()
    big = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (8 * 1024 * 1024) + b"\r\n\r\n"
    many = (b"GET / HTTP/1.1\r\nHost: x\r\n" +
            b"".join(b"X-H%d: v\r\n" % i for i in range(50_000)) + b"\r\n")
    half_head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: a"
    half_body = (b"PUT /proposals/x HTTP/1.1\r\nHost: x\r\nContent-Type: text/turtle\r\n"
                 b"Authorization: Bearer " + token.encode() +
                 b"\r\nContent-Length: 1000\r\n\r\n<a> <b> ")
    rows = []
    for mode in ("before", "after"):
        proc = subprocess.Popen([PY, str(TRANSPORT), "--serve", mode, str(node_dir),
                                 str(port)])
        try:
            wait_http(base)
            rss0 = rss_kib(proc.pid)
            big_status = send_head(port, big)
            many_status = send_head(port, many)
            grown = (rss_kib(proc.pid) - rss0) / 1024
            times: dict[str, float] = {}
            threads = [threading.Thread(target=held, args=(port, data, args.cap, times, key))
                       for key, data in (("head", half_head), ("body", half_body))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            rows.append((mode, big_status, many_status, grown, times["head"], times["body"]))
        finally:
            proc.terminate()
            proc.wait(30)

    def secs(value: float) -> str:
        return f"held > {args.cap:g} s" if value == float("inf") else f"closed at {value:.1f} s"

    print(f"\n{'protocol':<8} {'8 MB header':<34} {'50,000 header lines':<34} "
          f"{'RSS +MiB':>8}  {'half a head':<16} {'half a body':<16}")
    for mode, big_status, many_status, grown, head, body in rows:
        print(f"{mode:<8} {big_status:<34} {many_status:<34} {grown:>8.1f}  "
              f"{secs(head):<16} {secs(body):<16}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
