"""actlab.audit against exact values: the frameworks' known losses reproduce at the exact
inputs, actlab's own rows stay within the bounds, the CLI's errors are one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

mpmath = pytest.importorskip("mpmath")
torch = pytest.importorskip("torch")

import actlab.audit as audit  # noqa: E402
from actlab.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def versus_torch() -> audit.Comparison:
    return audit.against(("torch",), names=["gelu", "softplus", "sigmoid", "relu"], size=300, workers=1)


def test_torch_gelu_is_zero_at_minus_5_55_in_float32(versus_torch) -> None:
    value, err = versus_torch.audits["gelu"]["torch"].result(0, "float32").at(float(np.float32(-5.55)))
    with mpmath.mp.workdps(50):
        x = mpmath.mpf(float(np.float32(-5.55)))
        truth = x * mpmath.ncdf(x)
    assert value == 0.0 and float(truth) < -1e-8 and err > 1e6


def test_torch_softplus_at_20_5_is_3_5e5_ulp_off_in_float64(versus_torch) -> None:
    _, err = versus_torch.audits["softplus"]["torch"].result(0, "float64").at(20.5)
    with mpmath.mp.workdps(50):
        expected = mpmath.log1p(mpmath.exp(-20.5)) / mpmath.mpf(float(np.spacing(20.5)))
    assert abs(err - float(expected)) < 1 and 3.4e5 < err < 3.6e5


def test_torch_sigmoid_gradient_at_37_is_zero_in_float64(versus_torch) -> None:
    value, err = versus_torch.audits["sigmoid"]["torch"].result(1, "float64").at(37.0)
    assert value == 0.0 and err > 1e15  # the truth e^-37/(1+e^-37)^2 is 8.5e-17


def test_actlab_rows_are_within_bounds_and_torch_relu_takes_the_left_piece(versus_torch) -> None:
    for row in versus_torch.audits.values():
        assert row["actlab"].within, row["actlab"].table()
    kinks = [k for k in versus_torch.audits["relu"]["torch"].kinks if k.order == 1]
    assert kinks and all(k.side == "left" and k.value == 0.0 for k in kinks)
    assert not versus_torch.audits["relu"]["torch"].result(1, "float64").nan_ok  # relu'(NaN) = 0


def test_cli_json_and_one_line_usage_errors(tmp_path, capsys) -> None:
    out = tmp_path / "a.json"
    assert main(["audit", "sigmoid", "--points", "200", "--dtypes", "float64", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["within"] and {r["label"] for r in data["results"]} == {"f", "f'", "f''"}
    capsys.readouterr()
    for argv in (["audit", "torch.nn.functional.gelu"], ["audit", "gelu", "silu"], ["audit", "--against", "tf"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "error:" in err


@pytest.mark.parametrize("spelling", [np.float32, np.dtype("float32"), "float32"])
def test_audit_points_take_any_spelling_of_the_dtype(spelling: object) -> None:
    points = audit.points.audit_points(spelling, 200)
    assert points.dtype == np.float32


@pytest.mark.parametrize("bad", [np.float16, "int64", "nonsense", None])
def test_audit_points_refuse_other_dtypes(bad: object) -> None:
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        audit.points.audit_points(bad, 200)
