"""actlab.lab: experiments that show the seed's claims happening, as pure functions.

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
import functools
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ExperimentResult:
    """What an experiment measured.

    ``columns`` and ``rows`` are the printed table (rows hold str, int, float or None);
    ``data`` holds the arrays and numbers the figures are drawn from (plots read it by key);
    ``findings`` are one-line statements of what the run showed, in measured numbers;
    ``settings`` records the configuration so the run can be repeated.
    """

    name: str
    title: str
    claim: str
    columns: list[str]
    rows: list[list[Any]]
    data: dict[str, Any] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    """A registered experiment: its name, title, the seed's claim it tests, and its runner."""

    name: str
    title: str
    claim: str
    run: Callable[..., ExperimentResult]


EXPERIMENTS: dict[str, Experiment] = {}

# Modules that define experiments; imported on first use of the registry.
_MODULES = ("actlab.lab.experiments",)
_loaded = False


def experiment(name: str, *, title: str, claim: str) -> Callable[[Callable[..., ExperimentResult]], Callable[..., ExperimentResult]]:
    """Register ``run(*, seed=0, quick=False, ...) -> ExperimentResult`` under ``name``."""

    def register(run: Callable[..., ExperimentResult]) -> Callable[..., ExperimentResult]:
        if name in EXPERIMENTS:
            raise ValueError(f"experiment {name!r} is registered twice")

        valid = _setting_names(run)

        @functools.wraps(run)
        def checked(*args: Any, **settings: Any) -> ExperimentResult:
            _known_settings(name, settings, valid)
            return run(*args, **_common_settings(settings))

        EXPERIMENTS[name] = Experiment(name=name, title=title, claim=claim, run=checked)
        return checked

    return register


def _load() -> None:
    global _loaded
    if not _loaded:
        for module in _MODULES:
            importlib.import_module(module)
        _loaded = True


def experiment_names() -> list[str]:
    """The registered experiments, in the order they are defined."""
    _load()
    return list(EXPERIMENTS)


def _setting_names(run: Callable[..., Any]) -> list[str] | None:
    """The keyword settings ``run`` takes, in order; None if it takes any (``**settings``)."""
    params = inspect.signature(run).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return [p.name for p in params if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]


def _known_settings(experiment: str, settings: dict[str, Any], valid: list[str] | None) -> None:
    """ValueError naming ``experiment``, each setting it does not take (with the closest
    valid name when one is close) and the valid ones."""
    if valid is None:
        return
    unknown = sorted(k for k in settings if k not in valid)
    if not unknown:
        return
    close = difflib.get_close_matches(unknown[0], valid, n=1) if len(unknown) == 1 else []
    hint = f"; did you mean {close[0]!r}?" if close else ""
    label = "setting" if len(unknown) == 1 else "settings"
    raise ValueError(f"{experiment}: unknown {label} {', '.join(map(repr, unknown))}{hint} "
                     f"(valid settings: {', '.join(valid)})")


def _common_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` with ``seed`` (an int in [0, 2**32 - 1]) and ``quick`` (a bool) checked,
    the settings every experiment takes; the rest is checked by the experiment itself."""
    from . import _checks

    out = dict(settings)
    if "seed" in out:
        out["seed"] = _checks.seed(out["seed"])
    if "quick" in out:
        out["quick"] = _checks.flag("quick", out["quick"])
    return out


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``; ValueError naming the closest one if there is none
    (TypeError if ``name`` is not a str)."""
    if not isinstance(name, str):
        raise TypeError(f"experiment name must be a str, got {name!r}")
    _load()
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
    "EXPERIMENTS", "Experiment", "ExperimentResult", "experiment", "experiment_names",
    "get_experiment", "run_experiment",
]
