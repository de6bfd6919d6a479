"""The experiment registry: :class:`ExperimentResult`, :class:`Experiment`, the
:data:`EXPERIMENTS` table and the :func:`experiment` decorator that fills it.

The experiments import this module to register themselves; :mod:`actlab.lab` imports it
and then the experiments' package, so nothing here imports an experiment.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from actlab.checks import flag, seed_int


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
    """A registered experiment: its name, title, the founding document's claim it tests, and its runner."""

    name: str
    title: str
    claim: str
    run: Callable[..., ExperimentResult]


EXPERIMENTS: dict[str, Experiment] = {}


def experiment(
    name: str, *, title: str, claim: str
) -> Callable[[Callable[..., ExperimentResult]], Callable[..., ExperimentResult]]:
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


def _setting_names(run: Callable[..., Any]) -> list[str] | None:
    """The keyword settings ``run`` takes, in order; None if it takes any (``**settings``)."""
    params = inspect.signature(run).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return [
        p.name
        for p in params
        if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]


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
    raise ValueError(
        f"{experiment}: unknown {label} {', '.join(map(repr, unknown))}{hint} "
        f"(valid settings: {', '.join(valid)})"
    )


def _common_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` with ``seed`` (an int in [0, 2**32 - 1]) and ``quick`` (a bool) checked,
    the settings every experiment takes; the rest is checked by the experiment itself."""
    out = dict(settings)
    if "seed" in out:
        out["seed"] = seed_int("seed", out["seed"])
    if "quick" in out:
        out["quick"] = flag("quick", out["quick"])
    return out
