"""benchmarks/pool_polling.py's command line (nothing here is timed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "pool_polling.py"


def load_script() -> Any:
    spec = importlib.util.spec_from_file_location("pool_polling", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("argv", [["--repeats", "0"], ["--spin-ns", "0"], ["--spin-ns", "-5"]])
def test_a_non_positive_count_is_a_usage_error(argv: list[str],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        load_script().main(argv)
    assert exit_info.value.code == 2
    assert "--repeats and --spin-ns must be positive" in capsys.readouterr().err
