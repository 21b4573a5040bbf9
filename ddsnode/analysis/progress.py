"""A progress bar on stderr for ``ddsnode analyse`` (one line per stage when not a terminal)."""

from __future__ import annotations

import sys
from typing import TextIO


class Progress:
    """Stages, each with a count; redraws at most every 1% on a terminal."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = enabled and self.stream.isatty()
        self.name, self.total, self.done, self._shown = "", 0, 0, -1

    def stage(self, name: str, total: int = 0) -> None:
        """Start a stage of ``total`` steps (0: unknown)."""
        self._end_line()
        self.name, self.total, self.done, self._shown = name, total, 0, -1
        if self.enabled and not self.tty:
            print(f"analyse: {name}" + (f" ({total:,})" if total else ""), file=self.stream,
                  flush=True)
        self._draw()

    def advance(self, steps: int = 1) -> None:
        """Count ``steps`` more done."""
        self.done += steps
        self._draw()

    def close(self) -> None:
        """End the last line."""
        self._end_line()

    def _draw(self) -> None:
        if not self.tty:
            return
        if self.total:
            pct = min(100, self.done * 100 // self.total)
            if pct == self._shown:
                return
            self._shown = pct
            bar = "#" * (pct // 4) + "." * (25 - pct // 4)
            line = f"\r{self.name:<22} [{bar}] {pct:3d}% {self.done:,}/{self.total:,}"
        else:
            if self.done and self.done % 500:
                return
            line = f"\r{self.name:<22} {self.done:,}"
        self.stream.write(line)
        self.stream.flush()

    def _end_line(self) -> None:
        if self.tty and self.name:
            self.stream.write("\n")
            self.stream.flush()
