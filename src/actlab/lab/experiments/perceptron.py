"""perceptron: one unit, three ways of training it, on a separable set and on XOR.

1. A step unit y = step(x·w + b) trained by gradient descent on the squared error.  The
   chain rule gives ∂L/∂w = Σ 2(y - t)·step'(z)·x, and step' = 0 everywhere, so every
   gradient is exactly 0 and the weights never move (``actlab.nn.fit`` refuses such a
   network with ZeroGradientError; here the gradient is computed and applied anyway).
2. The same unit trained by the perceptron rule (``actlab.nn.Perceptron``): it converges
   on a linearly separable set in a few passes and never on XOR.
3. A sigmoid unit trained by gradient descent (``actlab.nn`` backprop, squared error):
   it learns the separable set; on XOR, which no line separates, it stays near chance.

Decision boundaries are the units' predictions on a grid over the data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import actlab
from actlab import nn
from actlab.checks import positive_int, positive_number
from actlab.lab._registry import ExperimentResult, experiment

from .. import _checks
from ._common import one_blas_thread, sig

NAME = "perceptron"
TITLE = "The perceptron: gradient descent cannot train a step unit"
CLAIM = (
    "A step unit's gradient is 0, so gradient descent leaves it where it started; the "
    "perceptron rule trains it on a linearly separable set but never on XOR; a sigmoid "
    "unit learns by gradient descent."
)

METHODS = ("step, gradient descent", "step, perceptron rule", "sigmoid, gradient descent")


def separable(n: int, seed: int, margin: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of two Gaussian clouds, kept only farther than ``margin`` from x₁ + x₂ = 0."""
    rng = np.random.default_rng([seed, 3])
    X = np.empty((0, 2))
    while X.shape[0] < n:
        c = rng.standard_normal((2 * n, 2)) * 0.7 + np.repeat([[-1.0, -1.0], [1.0, 1.0]], n, axis=0)
        c = c[np.abs(c.sum(axis=1)) / np.sqrt(2) > margin]
        X = np.vstack([X, c])
    X = X[rng.permutation(X.shape[0])[:n]]
    return X, (X.sum(axis=1) > 0).astype(np.int64)


def xor(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform in [-1, 1]², label 1 where exactly one coordinate is positive."""
    rng = np.random.default_rng([seed, 5])
    X = rng.uniform(-1, 1, (n, 2))
    return X, ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)


def _step_gradient_descent(
    X: np.ndarray, t: np.ndarray, *, epochs: int, lr: float, seed: int
) -> dict[str, Any]:
    step = actlab.get("step")
    dense = nn.Dense(2, 1, init="glorot", rng=np.random.default_rng([seed, 9]))
    W0 = dense.W.copy()
    acc, grad_norm = [], []
    for _ in range(epochs):
        z = dense.forward(X)
        y = step(z)
        g = 2 * (y - t[:, None]) / len(t)  # ∂L/∂y for L = mean (y - t)²
        dense.backward(step.backward(z, g), need_input_grad=False)  # step'(z) = 0
        grad_norm.append(float(np.linalg.norm(dense.grad_W)) + float(np.linalg.norm(dense.grad_b)))
        dense.W -= lr * dense.grad_W
        dense.b -= lr * dense.grad_b
        acc.append(float(np.mean(y[:, 0] == t)))
    try:
        model = nn.Sequential([nn.Dense(2, 1, rng=0), nn.Activation("step")], output="identity")
        nn.fit(model, X, t.astype(float), loss=nn.MeanSquaredError(), optimizer=nn.SGD(lr), epochs=1)
        refused = ""
    except nn.ZeroGradientError as exc:
        refused = str(exc).split("; use")[0]
    return {
        "predict": lambda P: step(P @ dense.W + dense.b)[:, 0],
        "accuracy": acc,
        "grad_norm": grad_norm,
        "moved": float(np.max(np.abs(dense.W - W0))),
        "epochs": epochs,
        "converged": False,
        "refused": refused,
    }


def _perceptron_rule(X: np.ndarray, t: np.ndarray, *, epochs: int, seed: int) -> dict[str, Any]:
    p = nn.Perceptron(2, 1).fit(X, t, epochs=epochs, seed=seed)
    return {
        "predict": p.predict,
        "errors": list(p.errors),
        "epochs": len(p.errors),
        "converged": p.converged,
        "accuracy": [float(np.mean(p.predict(X) == t))],
    }


def _sigmoid_gradient_descent(
    X: np.ndarray, t: np.ndarray, *, epochs: int, lr: float, seed: int
) -> dict[str, Any]:
    model = nn.Sequential(
        [nn.Dense(2, 1, init="glorot", rng=np.random.default_rng([seed, 9])), nn.Activation("sigmoid")],
        output="identity",
    )
    acc: list[float] = []

    def callback(epoch: int, m: nn.Sequential) -> None:
        acc.append(float(np.mean((m.predict(X) >= 0.5) == t)))

    history = nn.fit(
        model,
        X,
        t.astype(np.float64),
        loss=nn.MeanSquaredError(),
        optimizer=nn.SGD(lr, momentum=0.9),
        epochs=epochs,
        batch_size=16,
        seed=seed,
        callback=callback,
    )
    return {
        "predict": lambda P: (model.predict(P) >= 0.5).astype(np.float64),
        "accuracy": acc,
        "loss": history.loss,
        "epochs": epochs,
        "converged": acc[-1] == 1.0,
    }


@experiment(NAME, title=TITLE, claim=CLAIM)
@one_blas_thread
def run(
    *,
    seed: int = 0,
    quick: bool = False,
    n: int | None = None,
    epochs: int | None = None,
    lr: float = 0.5,
    grid: int | None = None,
) -> ExperimentResult:
    """Train a step unit by gradient descent and by the perceptron rule, and a sigmoid unit.

    Bounds: n ≤ 1000000 points, epochs ≤ 100000, grid ≤ 2000 (grid² points are predicted).
    """
    n = positive_int("n", n if n is not None else (100 if quick else 200), maximum=_checks.MAX_SAMPLES)
    epochs = positive_int(
        "epochs", epochs if epochs is not None else (30 if quick else 100), maximum=_checks.MAX_STEPS
    )
    lr = positive_number("lr", lr)
    grid = positive_int(
        "grid", grid if grid is not None else (60 if quick else 150), maximum=_checks.MAX_GRID
    )
    sets = {"separable": separable(n, seed), "XOR": xor(n, seed)}

    rows: list[list[Any]] = []
    data: dict[str, Any] = {"methods": list(METHODS), "datasets": list(sets), "runs": {}}
    findings = []
    for set_name, (X, t) in sets.items():
        lo, hi = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
        gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], grid), np.linspace(lo[1], hi[1], grid))
        P = np.c_[gx.ravel(), gy.ravel()]
        results = {
            METHODS[0]: _step_gradient_descent(X, t, epochs=epochs, lr=lr, seed=seed),
            METHODS[1]: _perceptron_rule(X, t, epochs=epochs, seed=seed),
            METHODS[2]: _sigmoid_gradient_descent(X, t, epochs=epochs, lr=lr, seed=seed),
        }
        data["runs"][set_name] = {"X": X, "y": t, "grid_x": gx, "grid_y": gy, "methods": {}}
        for method, r in results.items():
            predict = r.pop("predict")
            final = float(np.mean(predict(X) == t))
            r["final_accuracy"] = final
            r["grid"] = predict(P).reshape(gx.shape)
            data["runs"][set_name]["methods"][method] = r
            errors = r.get("errors")
            rows.append(
                [
                    set_name,
                    method,
                    r["epochs"],
                    "yes" if r["converged"] else "no",
                    final,
                    errors[-1] if errors else None,
                ]
            )
        gd, pr, sg = (results[m] for m in METHODS)
        findings.append(
            f"{set_name}: step by gradient descent: gradient norm {sig(max(gd['grad_norm']))} in every "
            f"epoch, weights moved {sig(gd['moved'])}, accuracy stays {sig(gd['final_accuracy'])}"
        )
        if pr["converged"]:
            findings.append(
                f"{set_name}: perceptron rule converged after {pr['epochs']} passes "
                f"(mistakes per pass {pr['errors']}), accuracy {sig(pr['final_accuracy'])}"
            )
        else:
            findings.append(
                f"{set_name}: perceptron rule did not converge in {pr['epochs']} passes: still "
                f"{pr['errors'][-1]} mistakes in the last pass (fewest {min(pr['errors'])}), "
                f"accuracy {sig(pr['final_accuracy'])}"
            )
        findings.append(
            f"{set_name}: sigmoid unit by gradient descent: accuracy {sig(sg['final_accuracy'])} "
            f"after {epochs} epochs"
        )
    refused = data["runs"]["separable"]["methods"][METHODS[0]].get("refused")
    if refused:
        findings.append(f"actlab.nn.fit refuses a step network: {refused}")
    return ExperimentResult(
        name=NAME,
        title=TITLE,
        claim=CLAIM,
        columns=["data", "unit and rule", "epochs", "converged", "accuracy", "last-pass mistakes"],
        rows=rows,
        data=data,
        findings=findings,
        settings={"seed": seed, "quick": quick, "n": n, "epochs": epochs, "lr": lr, "grid": grid},
    )
