"""What the last analysis run left behind, in ``DIR/analysis/``: the fitted topic model
(``model.npz``), each contribution's digest and topic, and the outputs it wrote.

The store holds the outputs themselves; this only makes the next run incremental
(unchanged contributions keep their topic, unchanged outputs are not rewritten) and lets
it find outputs to remove. Deleting the directory costs a full recompute, nothing else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddsnode.files import replace_durably

if TYPE_CHECKING:  # topics imports numpy, scipy and scikit-learn (0.25-0.45 s): every
    # process that builds a node reads this module (the scheduler's DIRECTORY), few fit
    from ddsnode.analysis.topics import TopicModel

DIRECTORY = "analysis"
_STATE = "state.json"
_MODEL = "model.npz"


@dataclass
class State:
    """Per contribution: digest, topic, weight; per output IRI: digest; per duplicate link:
    what it says; the model's size; where the change log stood when the run started."""

    fitted_on: int = 0
    model_id: str = ""
    contributions: dict[str, list[Any]] = field(default_factory=dict)  # iri -> [digest, topic, w]
    outputs: dict[str, str] = field(default_factory=dict)  # iri -> digest
    # A published link's fields (published.py): its review and score without reading it.
    links: dict[str, list[Any]] = field(default_factory=dict)
    # The change-log position of the run's last write (0: unknown, read every output
    # back), and the outputs others wrote during the run (read back at the next).
    position: int = 0
    pending: list[str] = field(default_factory=list)
    threshold: float = -1.0  # the duplicate threshold the links were found at

    @classmethod
    def load(cls, node_dir: Path) -> State:
        """The state in ``node_dir`` (empty when there is none or it is unreadable)."""
        path = node_dir / DIRECTORY / _STATE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(int(raw["fitted_on"]), str(raw["model_id"]), dict(raw["contributions"]),
                       dict(raw["outputs"]), dict(raw.get("links", {})),
                       int(raw.get("position", 0)), list(raw.get("pending", [])),
                       float(raw.get("threshold", -1.0)))
        except (OSError, ValueError, KeyError, TypeError):
            return cls()

    def save(self, node_dir: Path) -> None:
        """Write atomically (a crash leaves the old state, which is still consistent)."""
        folder = node_dir / DIRECTORY
        folder.mkdir(exist_ok=True)
        replace_durably(folder / _STATE, json.dumps(
            {"fitted_on": self.fitted_on, "model_id": self.model_id,
             "contributions": self.contributions, "outputs": self.outputs,
             "links": self.links, "position": self.position, "pending": self.pending,
             "threshold": self.threshold},
            sort_keys=True).encode("utf-8"))


def load_model(node_dir: Path) -> TopicModel | None:
    """The fitted topic model, if any."""
    from ddsnode.analysis.topics import TopicModel

    try:
        return TopicModel.load(node_dir / DIRECTORY / _MODEL)
    except (OSError, ValueError, KeyError):
        return None


def save_model(node_dir: Path, model: TopicModel) -> None:
    """Keep the fitted model for the next incremental run."""
    folder = node_dir / DIRECTORY
    folder.mkdir(exist_ok=True)
    tmp = folder / "model.tmp.npz"
    model.save(tmp)
    replace_durably(folder / _MODEL, tmp.read_bytes())  # flushed, then renamed
    tmp.unlink()
