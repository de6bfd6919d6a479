"""Unknown settings are named with the valid ones; a run that cannot fit in memory is
refused before it starts; the seed check's message gives its range."""

from __future__ import annotations

import os
import re
import time
from typing import Any

import numpy as np
import pytest

from actlab import lab
from actlab.lab import _checks
from actlab.lab.compare import compare
from actlab.lab.experiments import softmax
from actlab import checks as nn_checks


# --------------------------------------------------------------------------- unknown settings
@pytest.mark.parametrize("call", [
    lambda: lab.run_experiment("softmax", quick=True, widht=3),
    lambda: lab.get_experiment("softmax").run(quick=True, widht=3),
    lambda: softmax.run(quick=True, widht=3),
])
def test_unknown_setting_names_experiment_setting_and_valid_ones(call: Any) -> None:
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert message.startswith("softmax: unknown setting 'widht'")
    assert "valid settings:" in message
    for name in ("seed", "quick", "activation", "hidden", "epochs", "lr", "batch_size", "bins", "dataset"):
        assert name in message


def test_unknown_setting_suggests_the_closest() -> None:
    with pytest.raises(ValueError, match=r"^self-normalization: unknown setting 'widht'; did you mean 'width'\? "
                                         r"\(valid settings: .*\bwidth\b"):
        lab.run_experiment("self-normalization", quick=True, widht=3)
    with pytest.raises(ValueError, match=r"^softmax: unknown setting 'bin'; did you mean 'bins'\?"):
        lab.run_experiment("softmax", quick=True, bin=3)


def test_several_unknown_settings_are_all_named() -> None:
    with pytest.raises(ValueError, match=r"^perceptron: unknown settings 'gird', 'zzz'"):
        lab.run_experiment("perceptron", quick=True, zzz=1, gird=3)


def test_unknown_setting_is_refused_before_the_seed_is_checked() -> None:
    start = time.perf_counter()
    with pytest.raises(ValueError, match="unknown setting 'sed'"):
        lab.run_experiment("softmax", sed=1, seed=-1)
    assert time.perf_counter() - start < 1.0


# --------------------------------------------------------------------------- seed wording
@pytest.mark.parametrize("value", [-1, 2**32, 1.5, None, True])
def test_seed_message_gives_the_range_once(value: Any) -> None:
    expected = f"seed must be an integer from 0 to 4294967295, got {value!r}"
    with pytest.raises(ValueError) as info:
        nn_checks.seed_int("seed", value)
    assert str(info.value) == expected
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        lab.run_experiment("self-normalization", seed=value, quick=True)


# --------------------------------------------------------------------------- memory
def test_training_bytes_counts_weights_state_and_activations() -> None:
    # 64 -> 50 -> 10: 64·50 + 50 + 50·10 + 10 = 3760 parameters.  Each is held 5 times
    # (weights, gradient, Adam's two moments and its scratch); each hidden unit 4 times per
    # row (pre-activation, output and their gradients); 8 bytes each.
    n_params = 64 * 50 + 50 + 50 * 10 + 10
    assert _checks.training_bytes(64, [50], 10, rows=100, itemsize=8) == 8 * (5 * n_params + 4 * 100 * (50 + 10))
    assert _checks.training_bytes(64, [50], 10, rows=100, itemsize=4) == 4 * (5 * n_params + 4 * 100 * (50 + 10))


def test_huge_network_is_refused_at_once_with_the_estimate() -> None:
    start = time.perf_counter()
    with pytest.raises(ValueError) as info:
        compare(hidden=[50_000, 50_000], epochs=1, activations=["relu"])
    assert time.perf_counter() - start < 2.0
    message = str(info.value)
    assert "\n" not in message
    # 64 -> 50000 -> 50000 -> 10 in float64: the weights alone are 20 GB, held five times
    # 100 GB, and the activations of 450 test rows add 1.4 GB.
    n_params = 64 * 50_000 + 50_000 + 50_000 * 50_000 + 50_000 + 50_000 * 10 + 10
    found = re.match(r"^hidden \[50000, 50000\]: training needs about ([\d.]+) GB of memory .*"
                     r"more than the ([\d.]+) GB available$", message)
    assert found, message
    assert 8 * 5 * n_params / 1e9 < float(found[1]) < 8 * 5 * n_params / 1e9 + 2
    assert 0 < float(found[2]) < float(found[1])


def test_memory_limit_is_what_the_machine_has(monkeypatch: pytest.MonkeyPatch) -> None:
    limit = _checks.memory_limit()
    assert 0 < limit <= os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    monkeypatch.setattr(_checks, "memory_limit", lambda: 10**5)
    with pytest.raises(ValueError, match=r"needs about .* more than the 0\.0001 GB available"):
        compare(hidden=[64, 64], epochs=1, activations=["relu"], dataset="iris")
    monkeypatch.setattr(_checks, "memory_limit", lambda: 10**12)
    res = compare(hidden=[4], epochs=1, activations=["relu"], dataset="iris")
    assert res[0].error is None and np.isfinite(res[0].score)


# --------------------------------------------------------------------------- the registry
def test_importing_the_lab_registers_every_experiment_with_plain_imports() -> None:
    import ast
    import json
    import subprocess
    import sys
    from pathlib import Path

    code = ("import json, sys, actlab.lab as lab\n"
            "print(json.dumps(['actlab.lab.experiments' in sys.modules, list(lab.EXPERIMENTS)]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    loaded, names = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded and names == lab.experiment_names()  # registered by the import, nothing asked yet
    assert names[:2] == ["vanishing-gradient", "self-normalization"]  # the package's import order
    source = Path(lab.__file__).read_text(encoding="utf-8")
    imported = {a.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Import) for a in node.names}
    assert "importlib" not in imported
    from actlab.lab import _registry

    assert _registry.EXPERIMENTS is lab.EXPERIMENTS and _registry.experiment is lab.experiment
