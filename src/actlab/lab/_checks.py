"""The lab's own setting checks: its size bounds, hidden widths, activation and experiment
names, data sets and memory; each names the setting and the bad value.

The general checks (seeds, counts, numbers, fractions, flags, lists) are
:mod:`actlab.checks`, which the lab calls directly; this module builds on them.  Every
public entry point (:func:`actlab.lab.run_experiment`, each experiment's ``run``,
:func:`actlab.lab.compare.compare`, :func:`actlab.report.build_report`) checks its settings
with both, before any work.  A wrong type of scalar is a TypeError only for ``quick`` (a
flag) and experiment names; everything else is a ValueError naming the setting.

Sizes have upper bounds, generous for real use, so that a typo fails at once with a clear
message rather than as a MemoryError: see the ``MAX_*`` constants.  Within them a network
can still be too large for the machine: :func:`check_memory` compares a training run's
estimate (:func:`training_bytes`) with :func:`memory_limit` before it starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import actlab
from actlab.checks import SEED_MAX, list_of, positive_ints, text

__all__ = [
    "DEFAULT_MEMORY",
    "MAX_BINS",
    "MAX_CELLS",
    "MAX_DEPTH",
    "MAX_GRID",
    "MAX_SAMPLES",
    "MAX_SQUARE",
    "MAX_STEPS",
    "MAX_WIDTH",
    "SEED_MAX",
    "activation",
    "activations",
    "check_memory",
    "classification_data",
    "experiment_names",
    "hidden_widths",
    "memory_limit",
    "training_bytes",
]
#: The widest hidden layer the lab trains (compare and the experiments; the CLI's ``--hidden``).
MAX_WIDTH = 100_000
#: The widest square weight matrix (self-normalization's ``width``: width² weights).
MAX_SQUARE = 10_000
#: Sample counts (points, rows drawn, batch sizes).
MAX_SAMPLES = 1_000_000
#: Epochs, layers, depths, repeats.
MAX_STEPS = 100_000
#: Depth of one network (the vanishing-gradient experiment's ``depths``).
MAX_DEPTH = 1_000
#: Grid side of a decision-boundary plot (grid² points) and confidence bins.
MAX_GRID = 2_000
MAX_BINS = 1_000
#: Values in one array of activations (samples × width): 800 MB of float64.
MAX_CELLS = 100_000_000
#: The memory :func:`memory_limit` assumes when the system tells neither what is available
#: nor how much there is: 8 GiB.
DEFAULT_MEMORY = 8 * 2**30


def hidden_widths(value: Any) -> list[int]:
    """``hidden``: a non-empty list of layer widths in [1, :data:`MAX_WIDTH`]."""
    return positive_ints("hidden", value, maximum=MAX_WIDTH, what="layer widths such as [64, 64]")


def activation(name: str, value: Any) -> str:
    """An activation's canonical name (ValueError naming the closest for an unknown one)."""
    return actlab.canonical_name(text(name, value))


def activations(value: Any, default: Sequence[str]) -> list[str]:
    """``activations``: canonical names, ``default`` if None; a non-empty list otherwise."""
    if value is None:
        return list(default)
    return list_of("activations", value, activation, "activation names such as ['relu', 'tanh']")


def experiment_names(value: Any) -> list[str]:
    """``experiments``: a list of experiment names (not a single str); may be empty."""
    return list_of("experiments", value, text, "experiment names such as ['softmax']", allow_empty=True)


def classification_data(experiment: str, dataset: Any, seed_value: int) -> Any:
    """``dataset`` loaded with ``seed_value``; ValueError if it is not a classification set
    (the experiments about hidden units and softmax read their score as an accuracy)."""
    from actlab import nn

    data = nn.datasets.load(text("dataset", dataset), seed=seed_value)
    if data.task != "classification":
        raise ValueError(
            f"{experiment} needs a classification data set, got dataset={dataset!r} ({data.task})"
        )
    return data


def training_bytes(n_in: int, hidden: Sequence[int], n_out: int, *, rows: int, itemsize: int) -> int:
    """An estimate of the memory, in bytes, that training an MLP ``n_in -> hidden -> n_out``
    with Adam takes, for arrays of ``itemsize`` bytes and at most ``rows`` rows at a time
    (a batch, or a whole evaluation set).

    Each parameter is held five times (the weights, their gradient, Adam's two moments and
    its scratch array) and each hidden or output unit four times per row (its pre-activation,
    its output and the gradients of both).  The data set itself is not counted.
    """
    widths = [n_in, *hidden, n_out]
    n_params = sum(a * b + b for a, b in zip(widths, widths[1:]))
    units = sum(widths[1:])
    return itemsize * (5 * n_params + 4 * rows * units)


def memory_limit() -> int:
    """The memory a run may take, in bytes: MemAvailable from /proc/meminfo; where there is
    none, the physical memory (``os.sysconf``); where neither is known, :data:`DEFAULT_MEMORY`."""
    import os

    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return DEFAULT_MEMORY


def check_memory(what: str, need: int) -> None:
    """ValueError, one line naming ``what``, the estimate ``need`` (bytes) and the limit,
    when ``need`` is above :func:`memory_limit`."""
    limit = memory_limit()
    if need > limit:
        raise ValueError(
            f"{what}: training needs about {need / 1e9:.3g} GB of memory (weights, gradients, "
            f"Adam's state and activations), more than the {limit / 1e9:.3g} GB available"
        )
