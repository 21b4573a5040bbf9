"""What one ``httpx.get`` costs the test process, with certifi's bundle and with the tests' one.

    .venv/bin/python bench/test_client_cost.py [--requests 200]

The real-server HTTP tests call ``httpx.get(url)`` (and put, post …) thousands of times;
each call builds an ``httpx.Client`` whose SSL context loads a trust store, even for a
plain ``http://`` URL. ``tests/conftest.py`` points ``SSL_CERT_FILE`` at a one-CA bundle
(``tests/support/trust.py``). This script serves a tiny HTTP answer on 127.0.0.1 and
measures, in this one process, the CPU and wall time per request of:

* ``httpx.get`` with httpx's default trust store (certifi, about 150 CAs): the baseline;
* ``httpx.get`` with the bundle the environment names in ``SSL_CERT_FILE``, if any;
* ``httpx.get`` with the tests' one-CA bundle;
* one ``httpx.Client`` reused for every request (no context built per request).

Prints each case's median CPU and wall ms per request and its ratio to the baseline.
A script, never a test; a few seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from tests.support.trust import use_small_bundle


class _Answer(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the http.server protocol)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def _measure(requests: int, call: Callable[[], None]) -> tuple[float, float]:
    """Median (CPU ms, wall ms) of one call, over ``requests`` calls."""
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(requests):
        c0, w0 = time.process_time(), time.perf_counter()
        call()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    rows = []
    if os.environ.get("SSL_CERT_FILE"):  # what this machine's environment names
        rows.append((f"httpx.get, {os.environ['SSL_CERT_FILE']}",
                     _measure(args.requests, lambda: httpx.get(url).read())))
    os.environ.pop("SSL_CERT_FILE", None)
    os.environ.pop("SSL_CERT_DIR", None)
    rows.insert(0, ("httpx.get, certifi bundle (baseline)",
                    _measure(args.requests, lambda: httpx.get(url).read())))
    use_small_bundle()
    rows.append(("httpx.get, one-CA bundle (tests)", _measure(args.requests,
                                                              lambda: httpx.get(url).read())))
    with httpx.Client() as client:
        rows.append(("one reused httpx.Client", _measure(args.requests,
                                                         lambda: client.get(url).read())))
    server.shutdown()
    base_cpu = rows[0][1][0]
    print(f"{'case':52} {'cpu ms':>8} {'wall ms':>8} {'cpu ratio':>10}")
    for name, (cpu, wall) in rows:
        print(f"{name:52} {cpu:8.2f} {wall:8.2f} {cpu / base_cpu:10.2f}")


if __name__ == "__main__":
    main()
