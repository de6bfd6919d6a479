"""The thread count is checked where it is set: by set_num_threads and by the environment
variable ACTLAB_NUM_THREADS (whose bad value is named at first use, not at import)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from actlab.activations import _fast

HUGE = [2**31, 2**32, 2**63, 10**30]


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "ACTLAB_NUM_THREADS"}
    environ.update(env)
    return subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("n", [0, -1, _fast.MAX_THREADS + 1, *HUGE, True, 2.0, "4", None])
def test_set_num_threads_refuses_and_names_the_value(n: Any) -> None:
    before = _fast.get_num_threads()
    with pytest.raises(ValueError) as info:
        _fast.set_num_threads(n)
    assert repr(n) in str(info.value)
    assert str(_fast.MAX_THREADS) in str(info.value)
    assert _fast.get_num_threads() == before


def test_the_maximum_is_documented_and_accepted() -> None:
    assert str(_fast.MAX_THREADS) in (_fast.set_num_threads.__doc__ or "")
    before = _fast.get_num_threads()
    try:
        _fast.set_num_threads(_fast.MAX_THREADS)
        assert _fast.get_num_threads() == _fast.MAX_THREADS
    finally:
        _fast.set_num_threads(before)


def test_a_huge_count_set_in_a_subprocess_is_refused_and_calls_still_work() -> None:
    code = (
        "import numpy as np, actlab\n"
        "from actlab.activations import _fast\n"
        "try:\n"
        "    _fast.set_num_threads(2**32)\n"
        "except ValueError as e:\n"
        "    print('refused', e)\n"
        "print(float(actlab.get('sigmoid')(np.zeros(100000))[0]))\n"
    )
    proc = run(code)
    assert proc.returncode == 0, proc.stderr
    assert "refused" in proc.stdout and "4294967296" in proc.stdout
    assert proc.stdout.strip().endswith("0.5")


@pytest.mark.parametrize("value", ["4294967296", "0", "-3", "abc", "2.5", "257"])
def test_a_bad_environment_variable_is_named_at_first_use(value: str) -> None:
    code = (
        "import numpy as np, actlab\n"
        "print('imported')\n"
        "try:\n"
        "    actlab.get('sigmoid')(np.zeros(10))\n"
        "except ValueError as e:\n"
        "    print('ValueError:', e)\n"
    )
    proc = run(code, ACTLAB_NUM_THREADS=value)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("imported")
    assert "ValueError:" in proc.stdout
    assert "ACTLAB_NUM_THREADS" in proc.stdout and repr(value) in proc.stdout
    assert proc.stderr == ""


def test_a_bad_environment_variable_is_named_by_get_num_threads() -> None:
    code = (
        "from actlab.activations import _fast\n"
        "try:\n"
        "    _fast.get_num_threads()\n"
        "except ValueError as e:\n"
        "    print('ValueError:', e)\n"
        "_fast.set_num_threads(2)\n"  # setting a good count clears the error
        "print(_fast.get_num_threads())\n"
    )
    proc = run(code, ACTLAB_NUM_THREADS="4294967296")
    assert proc.returncode == 0, proc.stderr
    assert "ValueError:" in proc.stdout and "ACTLAB_NUM_THREADS" in proc.stdout
    assert proc.stdout.strip().endswith("2")


@pytest.mark.parametrize("value,want", [("3", 3), (" 2 ", 2), ("256", 256)])
def test_a_good_environment_variable_is_taken(value: str, want: int) -> None:
    code = ("import numpy as np, actlab\nfrom actlab.activations import _fast\n"
            "actlab.get('sigmoid')(np.zeros(10))\nprint(_fast.get_num_threads())\n")
    proc = run(code, ACTLAB_NUM_THREADS=value)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(want)


def test_a_bad_environment_value_replaced_inside_numpy_only_stays_replaced() -> None:
    code = ("import numpy as np, actlab\n"
            "from actlab.activations import _fast\n"
            "with _fast.numpy_only():\n"
            "    _fast.set_num_threads(2)\n"
            "assert _fast.get_num_threads() == 2\n"
            "print(actlab.get('relu')(np.ones(3)).tolist())\n")
    env = {**os.environ, "ACTLAB_NUM_THREADS": "abc"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[1.0, 1.0, 1.0]"
