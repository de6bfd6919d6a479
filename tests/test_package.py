"""The top-level package: its subpackages are reachable from ``import actlab`` alone, and
that import stays cheap (no matplotlib, no scikit-learn, no subpackage until asked)."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import pytest

import actlab

SUBPACKAGES = ("nn", "lab", "plots", "report", "audit")


def _in_fresh_interpreter(code: str) -> object:
    """Run ``code`` in a new interpreter (so no other test's imports leak in) and return
    the JSON it prints as its last line."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_actlab_loads_no_subpackage_and_no_matplotlib() -> None:
    loaded = _in_fresh_interpreter(
        "import json, sys, actlab\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('matplotlib', 'sklearn') or m.startswith(('actlab.nn', 'actlab.lab', "
        "'actlab.plots', 'actlab.report', 'actlab.cli')))))"
    )
    assert loaded == []


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_subpackage_reachable_after_import_actlab(name: str) -> None:
    # In a fresh interpreter, where nothing has imported the subpackage yet.
    found = _in_fresh_interpreter(
        "import json, actlab\n"
        f"m = actlab.{name}\n"
        "import types\n"
        "print(json.dumps([m.__name__, isinstance(m, types.ModuleType)]))"
    )
    assert found == [f"actlab.{name}", True]
    module = getattr(actlab, name)
    assert isinstance(module, types.ModuleType) and module.__name__ == f"actlab.{name}"
    assert getattr(actlab, name) is module  # imported once, then an ordinary attribute


def test_readme_python_entry_points_after_import_actlab() -> None:
    names = _in_fresh_interpreter(
        "import json, actlab\n"
        "print(json.dumps(actlab.lab.experiment_names()))"
    )
    assert "vanishing-gradient" in names and "softmax" in names
    assert callable(actlab.plots.experiments.plot_experiment)
    assert callable(actlab.report.build_report)
    assert callable(actlab.nn.build_mlp)


def test_dir_lists_the_subpackages_and_the_shortcuts() -> None:
    listing = dir(actlab)
    for name in (*SUBPACKAGES, "get", "names", "sigmoid", "softmax", "__version__"):
        assert name in listing
    assert listing == sorted(listing)


def test_unknown_attribute_is_an_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        actlab.no_such_thing  # noqa: B018
    assert not hasattr(actlab, "no_such_thing")
