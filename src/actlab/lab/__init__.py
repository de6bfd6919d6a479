"""actlab.lab: experiments that show the founding document's claims happening, as pure functions.

Each experiment is a function registered with :func:`experiment`; it takes keyword-only
settings (``seed``, ``quick`` for the small configuration the tests use, and its own) and
returns an :class:`ExperimentResult`: a table and the arrays its figures are drawn from.
Nothing here prints or plots; ``actlab.plots`` draws, ``actlab.report`` writes HTML and
``actlab.cli`` prints.  The CLI's choices and the report's sections read
:data:`EXPERIMENTS`, so adding an experiment touches one module.

>>> from actlab import lab
>>> "perceptron" in lab.experiment_names()
True
>>> result = lab.run_experiment("self-normalization", quick=True, layers=5)
>>> f"{result.data['alpha']:.12f}", f"{result.data['lambda']:.12f}"
('1.673263242354', '1.050700987355')
>>> result.columns
['quantity', 'measured', 'reference', '|difference|']
"""

from __future__ import annotations

import difflib
from typing import Any

from . import experiments as _experiments  # noqa: F401  (registers every experiment, in order)
from ._checks import MAX_WIDTH
from ._registry import EXPERIMENTS, Experiment, ExperimentResult, experiment


def experiment_names() -> list[str]:
    """The registered experiments, in the order they are defined."""
    return list(EXPERIMENTS)


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``; ValueError naming the closest one if there is none
    (TypeError if ``name`` is not a str)."""
    if not isinstance(name, str):
        raise TypeError(f"experiment name must be a str, got {name!r}")
    if name in EXPERIMENTS:
        return EXPERIMENTS[name]
    close = difflib.get_close_matches(name, EXPERIMENTS, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; choose from {', '.join(EXPERIMENTS)}"
    raise ValueError(f"unknown experiment {name!r}{hint}")


def run_experiment(name: str, **settings: Any) -> ExperimentResult:
    """Run the experiment called ``name`` with keyword ``settings`` (``seed``, ``quick``, ...).

    ``seed`` must be an int in [0, 2**32 - 1] and ``quick`` a bool; both are checked first
    (by the wrapper :func:`experiment` puts around every registered ``run``), after the
    names: a setting the experiment does not take is a ValueError naming it, the closest
    valid name and all of them."""
    return get_experiment(name).run(**settings)


__all__ = [
    "EXPERIMENTS",
    "Experiment",
    "ExperimentResult",
    "MAX_WIDTH",
    "experiment",
    "experiment_names",
    "get_experiment",
    "run_experiment",
]
