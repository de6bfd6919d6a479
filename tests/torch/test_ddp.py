"""examples/ddp_train.py under torchrun with 2 processes ends with the parameters of the same
training in one process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "ddp_train.py"
pytestmark = pytest.mark.slow


def test_two_processes_train_as_one(tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    single = subprocess.run([sys.executable, str(EXAMPLE), "--out", str(tmp_path / "one.pt")],
                            capture_output=True, text=True, timeout=300, env=env)
    assert single.returncode == 0, single.stderr[-3000:]
    ddp = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                          "--nproc-per-node", "2", str(EXAMPLE), "--out", str(tmp_path / "ddp.pt")],
                         capture_output=True, text=True, timeout=600, env=env)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    one = torch.load(tmp_path / "one.pt", weights_only=True)
    two = torch.load(tmp_path / "ddp.pt", weights_only=True)
    assert one.keys() == two.keys() and len(one) == 8  # four Linear layers, no activation state
    for key in one:
        torch.testing.assert_close(two[key], one[key], rtol=1e-12, atol=1e-12)
    # the training moved the weights: equal because they trained alike, not because they stayed
    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        import ddp_train
    finally:
        sys.path.pop(0)
    initial = ddp_train.make_model().state_dict()
    assert any((initial[k] - one[k]).abs().max() > 1e-3 for k in initial)
