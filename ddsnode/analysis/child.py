"""The process a background analysis runs in (``ddsnode.analysis.schedule``).

``python -m ddsnode.analysis.child DIR MAX_MEMORY_BYTES``: lowers its own priority and
caps its address space before reading anything, then runs what ``ddsnode analyse DIR``
runs. Limits are set here rather than in a ``preexec_fn`` of the server, which is unsafe
in a process with threads (the server has several: Python's ``subprocess`` documentation).
Exit status 0 when the run was written, 1 when it failed (its transaction never commits),
2 when another run on DIR is going on.
"""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Run one analysis of ``argv[0]`` within the memory cap ``argv[1]`` (bytes, 0: none)."""
    node_dir, max_memory = Path(argv[0]), int(argv[1])
    os.nice(10)  # the server's requests first
    if max_memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))
    from ddsnode.analysis.run import analyse
    from ddsnode.problem import Conflict
    from ddsnode.settings import Settings
    try:
        report = analyse(Settings.load(node_dir), node_dir)
    except Conflict as e:
        print(e, file=sys.stderr)
        return 2
    except MemoryError:
        print(f"out of memory: past analysis_max_memory_mb ({max_memory >> 20} MiB)",
              file=sys.stderr)
        return 1
    print(report.text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
