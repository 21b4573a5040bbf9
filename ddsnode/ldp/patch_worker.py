"""The patch worker: a process that evaluates PATCH documents, killed at the time limit.

Why a process (issue 9, item 2): rdflib evaluates SPARQL in Python and may work for a
long time between two solutions (a join that finds nothing, a property-path closure, a
long CONCAT), where neither the per-solution meter (:class:`ddsnode.ldp.patch.Meter`) nor
anything else in a thread can stop it; it would hold the writer thread, and the GIL,
for as long as it likes, with memory growing. In a process it is stopped at the time
limit by SIGKILL (as ``/sparql`` stops pyoxigraph, :mod:`ddsnode.store.index`), and its
address space is capped (``RLIMIT_AS``), so a runaway allocation fails there, not in
the node. Nothing of a stopped PATCH was stored: the worker only computes the new graph;
the writer stores it, after validation, like any other write.

One worker serves the whole process, one request at a time (writes are serialised by
the writer thread anyway); it starts on first use, again after a kill, and exits when
its parent does (end of stdin).
"""

from __future__ import annotations

import atexit
import importlib
import os
import pickle
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import rdflib

from ddsnode.ldp.patch import PatchBudget, Triple, evaluate, timeout
from ddsnode.problem import PayloadTooLarge, Problem, Unavailable, Unprocessable
from ddsnode.store.index import recv_frame, send_frame

START_WAIT_SECONDS = 30.0  # imports after a kill; not counted in the PATCH's own budget
MEMORY_ERROR = ("The PATCH needed more than {mb} MiB of memory (setting patch_memory_mb) "
                "and was stopped; nothing was changed")


class PatchWorker:
    """The parent-side handle: sends one PATCH, waits at most its budget, kills past it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._memory_mb = 0

    def run(self, triples: list[Triple], iri: str, body: bytes, media_type: str,
            budget: PatchBudget) -> rdflib.Graph:
        """The patched graph, computed in the worker within ``budget``."""
        if not self._lock.acquire(timeout=budget.seconds):
            raise Unavailable("Another PATCH is being evaluated; retry",
                              headers={"Retry-After": "1"})
        try:
            process = self._ready(budget.memory_mb)
            deadline = time.monotonic() + budget.seconds
            try:
                _send(process.stdin, (triples, iri, body, media_type, budget), deadline)
                reply = _receive(process.stdout, deadline)
            except TimeoutError:
                self._kill()
                raise timeout(budget) from None
            except (EOFError, OSError, ValueError):
                # The worker died: the address-space cap aborted an allocation it could
                # not report (a native one), or it was killed from outside.
                self._kill()
                raise PayloadTooLarge(MEMORY_ERROR.format(mb=budget.memory_mb)) from None
        finally:
            self._lock.release()
        ok, payload = reply
        if ok:
            graph = rdflib.Graph()
            for triple in payload:
                graph.add(triple)
            return graph
        module, name, detail, extra, headers, restart = payload
        if restart:  # after a MemoryError, start afresh rather than trust the heap
            with self._lock:
                self._kill()
        raise _problem(module, name, detail, extra, headers)

    def close(self) -> None:
        """Stop the worker (the next PATCH starts another)."""
        with self._lock:
            self._kill()

    def _ready(self, memory_mb: int) -> subprocess.Popen[bytes]:
        if self._process is not None and (self._process.poll() is not None
                                          or self._memory_mb != memory_mb):
            self._kill()
        if self._process is None:
            env = dict(os.environ)
            package_root = str(Path(__file__).resolve().parents[2])
            env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root,
                                                            env.get("PYTHONPATH")) if p)
            # A plain subprocess, as for the SPARQL index: multiprocessing would re-import
            # the parent's __main__ (spawn) or copy a threaded server (fork).
            process = subprocess.Popen(
                [sys.executable, "-m", "ddsnode.ldp.patch_worker", str(memory_mb)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0)
            self._process, self._memory_mb = process, memory_mb
            try:
                _receive(process.stdout, time.monotonic() + START_WAIT_SECONDS)
            except (TimeoutError, EOFError, OSError, ValueError):
                self._kill()
                raise Unavailable("The PATCH worker could not start; retry") from None
        return self._process

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait(10)
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass


def _send(stream: IO[bytes] | None, message: Any, deadline: float) -> None:
    """One frame to the worker (the format of :func:`send_frame`), TimeoutError at
    ``deadline``: a write to a pipe may be partial, and must never wait without end."""
    assert stream is not None
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(len(data).to_bytes(8, "big") + data)
    fd = stream.fileno()
    while view:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([], [fd], [], remaining)[1]:
            raise TimeoutError
        view = view[os.write(fd, view[:1 << 16]):]


def _receive(stream: IO[bytes] | None, deadline: float) -> Any:
    """One frame from the worker, or TimeoutError at ``deadline`` (EOFError: it died)."""
    assert stream is not None
    size = int.from_bytes(_read_exact(stream.fileno(), 8, deadline), "big")
    return pickle.loads(_read_exact(stream.fileno(), size, deadline))


def _read_exact(fd: int, n: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    while n:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise TimeoutError
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _problem(module: str, name: str, detail: str, extra: dict[str, Any],
             headers: dict[str, str]) -> Problem:
    """The worker's problem, rebuilt here with its own class (status, type, title)."""
    cls: Any = Unprocessable
    if module.startswith("ddsnode."):
        found = getattr(importlib.import_module(module), name, None)
        if isinstance(found, type) and issubclass(found, Problem):
            cls = found
    problem: Problem = cls.__new__(cls)
    Problem.__init__(problem, detail, extra=extra, headers=headers)
    return problem


_WORKER = PatchWorker()
atexit.register(_WORKER.close)


def run_isolated(triples: list[Triple], iri: str, body: bytes, media_type: str,
                 budget: PatchBudget) -> rdflib.Graph:
    """Evaluate a PATCH in the process's patch worker (see the module docstring)."""
    return _WORKER.run(triples, iri, body, media_type, budget)


# -- the worker process ----------------------------------------------------------------


def _limit_memory(memory_mb: int) -> None:
    """Cap the address space at what the process uses now plus ``memory_mb``."""
    try:
        import resource

        with open("/proc/self/statm", encoding="ascii") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        cap = used + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, OSError, ValueError):
        pass  # not Linux: the time limit still holds


def serve(memory_mb: int) -> None:
    """Worker main: answer PATCH requests on stdin/stdout until stdin closes."""
    from ddsnode.rdf.rdfterms import check_triples

    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # stdout carries frames only
    # Warm up the parsers (pyparsing builds its grammar on first use), then cap memory.
    evaluate([], "urn:x:", b"INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }",
             "application/sparql-update", PatchBudget())
    _limit_memory(memory_mb)
    send_frame(replies, ("ready",))
    while True:
        try:
            message = recv_frame(requests)
        except (EOFError, OSError, ValueError):
            break
        triples, iri, body, media_type, budget = message
        reply: tuple[bool, Any]
        try:
            graph = evaluate(triples, iri, body, media_type, budget)
            # Formulas and variables cannot cross the pipe, and are not RDF: refused here
            # with the same problem the write path gives (issue 9, item 6).
            check_triples(graph, where="the PATCH result")
            reply = (True, list(graph))
        except Problem as e:
            reply = (False, (type(e).__module__, type(e).__name__, e.detail, e.extra,
                             e.headers, False))
        except MemoryError:
            reply = (False, ("ddsnode.problem", "PayloadTooLarge",
                             MEMORY_ERROR.format(mb=memory_mb), {}, {}, True))
        except Exception as e:  # noqa: BLE001 - a PATCH rdflib cannot evaluate
            reply = (False, ("ddsnode.problem", "Unprocessable",
                             (f"The PATCH could not be applied: {type(e).__name__}: "
                              f"{str(e)[:300]}"), {}, {}, False))
        del triples, message  # free before the next request
        try:
            send_frame(replies, reply)
        except MemoryError:
            send_frame(replies, (False, ("ddsnode.problem", "PayloadTooLarge",
                                         MEMORY_ERROR.format(mb=memory_mb), {}, {}, True)))
        except (OSError, ValueError):
            break  # the parent is gone
    os._exit(0)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
