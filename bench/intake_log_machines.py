"""The intake log's appends: the SQLite log of one machine against the shared log on
PostgreSQL (docs/election-night.md, "Several machines"), measured in the same run.

Appends ``--events`` events, one commit each (the desk's group commit puts concurrent
events in one commit; this measures the worst case, one tally at a time), from one
writer, then from two writers on two separate node-state connections (two machines)
racing on the head. Prints events per second and the ratio to the SQLite baseline, and
how many compare-and-swap attempts lost. Run: ``.venv/bin/python -m bench.intake_log_machines``.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ddsnode.intake.log import ACCEPTED, EventLog
from ddsnode.intake.shared_log import LogRaced, SharedEventLog, verify_shared
from ddsnode.settings import Settings
from ddsnode.store import open_state
from ddsnode.store.postgresql import PostgresqlStore
from tests.support.postgres import PostgresServer

DETAILS = {"tally": {"contest": "https://example.org/elections/e/c", "unit":
                     "https://example.org/places/bureau-101", "counts": [["a", 10], ["b", 20]]},
           "key": "k", "bodySha256": "0" * 64}


def _append_each(log: Any, n: int, lost: list[int]) -> None:
    for i in range(n):
        while True:
            try:
                with log.exclusive() as appender:
                    appender.after(appender.seq if hasattr(appender, "seq") else 0)
                    appender.append("tally-counted", ACCEPTED, {**DETAILS, "n": i}, "bench")
                break
            except LogRaced:
                lost[0] += 1


def _rate(logs: list[Any], n: int) -> tuple[float, int]:
    lost = [0]
    threads = [threading.Thread(target=_append_each, args=(log, n // len(logs), lost))
               for log in logs]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (n // len(logs)) * len(logs) / (time.perf_counter() - started), lost[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, PostgresServer() as pg:
        root = Path(tmp)
        sqlite = EventLog(root)
        base, _ = _rate([sqlite], args.events)
        sqlite.close()
        print(f"SQLite log, 1 writer:          {base:8.0f} events/s  (baseline)")
        for writers in (1, 2):
            url = pg.database()
            logs, stores = [], []
            for w in range(writers):  # each machine: its own store's connection pool
                (root / f"m{w}").mkdir(exist_ok=True)
                stores.append(PostgresqlStore(url, pool_size=2, connect_timeout=10))
                logs.append(SharedEventLog(open_state(
                    Settings({"store": "postgresql", "database_url": url}, root / f"m{w}"),
                    stores[-1])))
            rate, lost = _rate(logs, args.events)
            count, faults = verify_shared(logs[0].state)
            for log, store in zip(logs, stores):
                log.close()
                store.close()
            print(f"shared log, {writers} machine(s):    {rate:8.0f} events/s  "
                  f"{rate / base:5.2f}x  lost CAS tries {lost}  chain {count} events, "
                  f"{len(faults)} faults")


if __name__ == "__main__":
    main()
