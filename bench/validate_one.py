"""How long validating one resource takes, per example and per engine.

The node validates every write, so this is the cost a PUT or POST pays for SHACL.
Parsing is excluded: each example is parsed once, then validated N times (after one
warm-up call that loads and compiles the shapes). Prints median and p95 per file and
engine, and the ratio fast/pyshacl of the medians.

    .venv/bin/python bench/validate_one.py [--runs 200] [FILE ...]

A script, not a test: timings depend on the machine, so no test asserts a threshold.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import rdflib

from ddsnode.authoring.sources import Sources
from ddsnode.validation.report import ShapeReport


def engines() -> dict[str, Callable[[rdflib.Graph], ShapeReport]]:
    """Every engine that can be imported: pyshacl always, fast once it exists."""
    from ddsnode.validation.reference import validate_pyshacl
    found: dict[str, Callable[[rdflib.Graph], ShapeReport]] = {"pyshacl": validate_pyshacl}
    try:
        from ddsnode.validation.fast import validate_fast
    except ImportError:
        return found
    found["fast"] = validate_fast
    return found


def timings(validate: Callable[[rdflib.Graph], ShapeReport], graph: rdflib.Graph,
            runs: int) -> list[float]:
    """Milliseconds per call, ``runs`` calls after a warm-up."""
    validate(graph)
    out = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        validate(graph)
        out.append((time.perf_counter_ns() - start) / 1e6)
    return out


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="default: examples/*.jsonld")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args(argv)
    src = Sources.bundled()
    files = args.files or src.example_files()
    available = engines()
    names = list(available)
    print(f"# validate one resource: {args.runs} runs per file and engine, parse excluded")
    print(f"# python {platform.python_version()}, {platform.machine()}, "
          f"engines: {', '.join(names)}")
    head = f"{'file':<58} {'triples':>7}" + "".join(
        f" {n + ' med':>12} {n + ' p95':>12}" for n in names)
    print(head + (f" {'fast/pyshacl':>12}" if "fast" in names else ""))
    medians: dict[str, list[float]] = {n: [] for n in names}
    for path in files:
        graph = src.parse_example(path)
        row = f"{path.name[:58]:<58} {len(graph):>7}"
        file_medians = {}
        for name in names:
            ms = timings(available[name], graph, args.runs)
            file_medians[name] = statistics.median(ms)
            medians[name].append(file_medians[name])
            row += f" {file_medians[name]:>9.3f} ms {p95(ms):>9.3f} ms"
        if "fast" in names:
            row += f" {file_medians['fast'] / file_medians['pyshacl']:>12.4f}"
        print(row)
    if files:
        summary = f"{'median over files':<58} {'':>7}" + "".join(
            f" {statistics.median(medians[n]):>9.3f} ms {'':>12}" for n in names)
        if "fast" in names:
            ratio = statistics.median(medians["fast"]) / statistics.median(medians["pyshacl"])
            summary += f" {ratio:>12.4f}"
        print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
