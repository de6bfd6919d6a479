"""Bad input is a TypeError or ValueError naming the function and the problem."""

from __future__ import annotations

import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

import actlab.torch as at  # noqa: E402

F = at.functional
X = torch.zeros(2, 3, dtype=torch.float64)


def test_unknown_activation_suggests_the_closest() -> None:
    with pytest.raises(ValueError, match="unknown activation 'sigmod'; did you mean 'sigmoid'"):
        at.Activation("sigmod")
    with pytest.raises(AttributeError, match="sigmod"):
        F.sigmod  # noqa: B018
    with pytest.raises(AttributeError, match="Sigmod"):
        at.Sigmod  # noqa: B018


def test_bad_parameter_values_get_actlabs_messages() -> None:
    with pytest.raises(ValueError, match=r"leaky_relu: slope must lie in \[0, 1\], got 2"):
        at.LeakyReLU(slope=2)
    with pytest.raises(ValueError, match="leaky_relu: slope must be a finite real number, got True"):
        F.leaky_relu(X, slope=True)
    with pytest.raises(ValueError, match="leaky_relu: slope must be finite, got nan"):
        F.leaky_relu(X, slope=float("nan"))
    with pytest.raises(ValueError, match="maxout: pieces=4 does not divide the axis of length 3"):
        F.maxout(X, pieces=4)


def test_unknown_parameter_names_suggest_the_closest() -> None:
    with pytest.raises(TypeError, match="leaky_relu: unknown parameter 'slop'; did you mean 'slope'"):
        F.leaky_relu(X, slop=0.2)
    with pytest.raises(TypeError, match=r"sigmoid: unknown parameter 'slope' \(it takes no parameters\)"):
        at.Sigmoid(slope=0.2)
    with pytest.raises(TypeError, match="softmax: the torch form takes dim=, not axis="):
        F.softmax(X, axis=0)


@pytest.mark.parametrize("dim,error,message", [
    (2, ValueError, r"softmax: dim 2 is out of range for a tensor of 2 dimensions \(expected -2 to 1\)"),
    (-3, ValueError, "softmax: dim -3 is out of range"),
    (1.0, TypeError, "softmax: dim must be an integer, got 1.0"),
    (True, TypeError, "softmax: dim must be an integer, got True"),
    (None, TypeError, "softmax: dim must be an integer, got None"),
])
def test_bad_dim(dim: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        F.softmax(X, dim=dim)
    with pytest.raises(error, match=message):
        at.Softmax(dim=dim)(X)


def test_zero_dimensional_input_to_a_vector_function() -> None:
    with pytest.raises(ValueError, match="softmax: dim -1 is out of range: the input is a 0-dimensional"):
        F.softmax(torch.tensor(1.0, dtype=torch.float64))


@pytest.mark.parametrize("dtype", [torch.int64, torch.complex128, torch.bool], ids=str)
def test_other_dtypes_are_refused_by_name(dtype: object) -> None:
    t = torch.zeros(3, dtype=dtype)
    message = rf"sigmoid: input has dtype {dtype}; actlab.torch computes float16, bfloat16, float32 and float64"
    with pytest.raises(TypeError, match=message):
        F.sigmoid(t)
    with pytest.raises(TypeError, match=message):
        at.Sigmoid()(t)


def test_the_kernel_operators_refuse_other_devices_by_name() -> None:
    """The torch.library operators of the kernels take CPU tensors only (the functions send
    other devices down the torch-ops path)."""
    t = torch.zeros(3, device="meta")
    ops = at._ops.ops_for("tanh")
    with pytest.raises(ValueError, match="tanh: input is on device meta; actlab.torch runs on the CPU"):
        ops.forward(t, "{}")


@pytest.mark.parametrize("value", [[1.0, 2.0], 1.0, None], ids=["list", "float", "None"])
def test_input_must_be_a_tensor(value: object) -> None:
    with pytest.raises(TypeError, match="relu: input must be a torch.Tensor, got"):
        F.relu(value)


def test_third_derivative_says_it_is_not_available() -> None:
    x = torch.tensor([0.3, -0.2], dtype=torch.float64, requires_grad=True)
    (d1,) = torch.autograd.grad(F.tanh(x).sum(), x, create_graph=True)
    (d2,) = torch.autograd.grad(d1.sum(), x, create_graph=True)
    with pytest.raises(NotImplementedError, match="tanh: the second derivative is as far"):
        torch.autograd.grad(d2.sum(), x)


def test_actlab_imports_without_torch_and_actlab_torch_says_what_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['torch'] = None\n"  # what an environment without PyTorch looks like
        "import actlab\n"
        "assert float(actlab.sigmoid(0.0)) == 0.5\n"
        "try:\n"
        "    import actlab.torch\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "actlab.torch needs PyTorch; install it with: pip install 'actlab[torch]'" in done.stdout


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
@pytest.mark.parametrize("name", ["gelu", "sigmoid", "softmax", "leaky_relu"])
def test_half_precision_is_computed_in_float32_and_rounded_back(name: str, dtype: object) -> None:
    """The value and the gradient are float32's rounded to the half format: within one of
    its ULP of the exact float64 ones (a double rounding)."""
    x = torch.linspace(-6, 6, 49, dtype=torch.float64)
    half = x.to(dtype).requires_grad_()
    y = getattr(F, name)(half)
    assert y.dtype == dtype
    (g,) = torch.autograd.grad(y.sum(), half)
    assert g.dtype == dtype
    exact = x.to(dtype).double().requires_grad_()
    ye = getattr(F, name)(exact)
    (ge,) = torch.autograd.grad(ye.sum(), exact)
    eps = torch.finfo(dtype).eps
    for got, want in ((y.double(), ye), (g.double(), ge)):
        assert torch.all((got - want).abs() <= eps * want.abs() + torch.finfo(dtype).tiny), name
