"""Argument checks shared by the lab's entry points: each names the setting and the bad value.

Every public entry point (:func:`actlab.lab.run_experiment`, each experiment's ``run``,
:func:`actlab.lab.compare.compare`, :func:`actlab.report.build_report`) checks its
settings here, before any work.  A wrong type of scalar is a TypeError only for ``quick``
(a flag) and experiment names; everything else is a ValueError naming the setting.

Sizes have upper bounds, generous for real use, so that a typo fails at once with a clear
message rather than as a MemoryError: see the ``MAX_*`` constants.  Within them a network
can still be too large for the machine: :func:`check_memory` compares a training run's
estimate (:func:`training_bytes`) with :func:`memory_limit` before it starts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

import actlab
from actlab.nn import _checks as nn_checks

T = TypeVar("T")

#: The largest seed (NumPy and scikit-learn take unsigned 32-bit integers).
SEED_MAX = nn_checks.SEED_MAX
#: The widest hidden layer of an MLP (as the CLI's ``--hidden``).
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


def seed(value: Any, name: str = "seed") -> int:
    """An int in [0, 2**32 - 1] (NumPy integers accepted, bools refused)."""
    return nn_checks.seed_int(name, value)


def flag(name: str, value: Any) -> bool:
    """True or False (NumPy bools accepted); TypeError for anything else, so that a
    truthy string such as "no" does not silently switch a configuration."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def count(name: str, value: Any, *, maximum: int) -> int:
    """An int in [1, maximum] (NumPy integers accepted, bools refused)."""
    n = nn_checks.positive_int(name, value)
    if n > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value!r}")
    return n


def positive(name: str, value: Any) -> float:
    """A finite number > 0 (Python or NumPy int/float, bools refused)."""
    return nn_checks.positive_number(name, value)


def real(name: str, value: Any) -> float:
    """A finite real number (Python or NumPy int/float, bools refused)."""
    if not nn_checks.is_real(value) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def open_fraction(name: str, value: Any) -> float:
    """A number in (0, 1)."""
    return nn_checks.fraction(name, value)


def text(name: str, value: Any) -> str:
    """A str (TypeError for anything else)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {value!r}")
    return value


def items(name: str, value: Any, check: Callable[[str, Any], T], what: str) -> list[T]:
    """A non-empty list (or tuple, range, 1-d array) of ``what``, each passed through
    ``check(f"{name}[i]", item)``.  A scalar or a str is refused, not iterated."""
    if (isinstance(value, (str, bytes)) or not (isinstance(value, Sequence) or isinstance(value, np.ndarray))
            or (isinstance(value, np.ndarray) and value.ndim != 1)):
        raise ValueError(f"{name} must be a list of {what}, got {value!r}")
    if len(value) == 0:
        raise ValueError(f"{name} must not be empty: give a list of {what}")
    return [check(f"{name}[{i}]", v) for i, v in enumerate(value)]


def counts(name: str, value: Any, *, maximum: int, what: str) -> list[int]:
    """A non-empty list of ints in [1, maximum]."""
    return items(name, value, lambda n, v: count(n, v, maximum=maximum), what)


def positives(name: str, value: Any, *, what: str) -> list[float]:
    """A non-empty list of finite numbers > 0."""
    return items(name, value, positive, what)


def hidden_widths(value: Any) -> list[int]:
    """``hidden``: a non-empty list of layer widths in [1, :data:`MAX_WIDTH`]."""
    return counts("hidden", value, maximum=MAX_WIDTH, what="layer widths such as [64, 64]")


def activation(name: str, value: Any) -> str:
    """An activation's canonical name (ValueError naming the closest for an unknown one)."""
    return actlab.canonical_name(text(name, value))


def activations(value: Any, default: Sequence[str]) -> list[str]:
    """``activations``: canonical names, ``default`` if None; a non-empty list otherwise."""
    if value is None:
        return list(default)
    return items("activations", value, activation, "activation names such as ['relu', 'tanh']")


def experiment_names(value: Any) -> list[str]:
    """``experiments``: a list of experiment names (not a single str); may be empty."""
    if (isinstance(value, (str, bytes)) or not (isinstance(value, Sequence) or isinstance(value, np.ndarray))
            or (isinstance(value, np.ndarray) and value.ndim != 1)):
        raise ValueError(f"experiments must be a list of experiment names such as ['softmax'], got {value!r}")
    return [text(f"experiments[{i}]", v) for i, v in enumerate(value)]


def classification_data(experiment: str, dataset: Any, seed_value: int) -> Any:
    """``dataset`` loaded with ``seed_value``; ValueError if it is not a classification set
    (the experiments about hidden units and softmax read their score as an accuracy)."""
    from actlab import nn

    data = nn.datasets.load(text("dataset", dataset), seed=seed_value)
    if data.task != "classification":
        raise ValueError(f"{experiment} needs a classification data set, got dataset={dataset!r} ({data.task})")
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
        raise ValueError(f"{what}: training needs about {need / 1e9:.3g} GB of memory (weights, gradients, "
                         f"Adam's state and activations), more than the {limit / 1e9:.3g} GB available")
