"""Train the same MLP with actlab, scikit-learn's MLPClassifier and (if installed) PyTorch.

Digits, hidden (64, 64), Adam lr 1e-3, batch 32, no L2, the same number of epochs and the
same number of BLAS/intra-op threads for all.  It prints the CPU model and its instruction
set first.  Each configuration runs ``--repeats`` times, interleaved (actlab, sklearn,
torch, actlab, ...), repeat r with seed r, and the medians are printed: seconds per epoch
(wall time of the whole fit / epochs) and test accuracy, with each peer's time over
actlab's in the same dtype (the median of that ratio within each repeat, so that a drift
of the machine's speed between repeats cancels).  Then every seed activation is trained
with actlab, the activations interleaved in each repeat, medians again (MLPClassifier
offers only identity, logistic, tanh and relu).  Nothing is written to disk.

    python benchmarks/bench_nn.py [--epochs 30] [--repeats 3] [--threads 1]
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from actlab import nn
from actlab.lab.compare import default_activations

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import Parser, machine_line, positive_int  # noqa: E402

HIDDEN = (64, 64)
LR = 1e-3
BATCH = 32

SK_NAME = {"relu": "relu", "sigmoid": "logistic", "tanh": "tanh", "identity": "identity"}
TORCH_ACT = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}


def run_actlab(data: nn.Dataset, act: str, epochs: int, dtype: Any, seed: int) -> tuple[float, float]:
    model = nn.build_mlp(data.n_features, list(HIDDEN), data.n_classes, activation=act, seed=seed, dtype=dtype)
    start = time.perf_counter()
    nn.fit(model, data.X_train, data.y_train, loss=nn.SoftmaxCrossEntropy(), optimizer=nn.Adam(lr=LR),
           epochs=epochs, batch_size=BATCH, seed=seed)
    return (time.perf_counter() - start) / epochs, nn.score(model, data.X_test, data.y_test)


def run_sklearn(data: nn.Dataset, act: str, epochs: int, seed: int) -> tuple[float, float]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=HIDDEN, activation=SK_NAME[act], solver="adam", alpha=0.0,
                        batch_size=BATCH, learning_rate_init=LR, max_iter=epochs, shuffle=True, tol=0.0,
                        n_iter_no_change=epochs + 1, random_state=seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(data.X_train, data.y_train)
    return (time.perf_counter() - start) / clf.n_iter_, float(clf.score(data.X_test, data.y_test))


def run_torch(data: nn.Dataset, act: str, epochs: int, dtype: Any, seed: int) -> tuple[float, float]:
    import torch

    torch.manual_seed(seed)
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    layers: list[Any] = []
    width = data.n_features
    for h in HIDDEN:
        layers += [torch.nn.Linear(width, h, dtype=tdtype), getattr(torch.nn, TORCH_ACT[act])()]
        width = h
    layers.append(torch.nn.Linear(width, data.n_classes, dtype=tdtype))
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    lossf = torch.nn.CrossEntropyLoss()
    X = torch.tensor(data.X_train, dtype=tdtype)
    y = torch.tensor(data.y_train)
    n = X.shape[0]
    gen = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen)
        for lo in range(0, n, BATCH):
            idx = order[lo : lo + BATCH]
            opt.zero_grad()
            loss = lossf(model(X[idx]), y[idx])
            loss.backward()
            opt.step()
    per_epoch = (time.perf_counter() - start) / epochs
    with torch.no_grad():
        pred = model(torch.tensor(data.X_test, dtype=tdtype)).argmax(1).numpy()
    return per_epoch, float(np.mean(pred == data.y_test))


def build_parser() -> Parser:
    ap = Parser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=positive_int, default=30)
    ap.add_argument("--repeats", type=positive_int, default=3)
    ap.add_argument("--threads", type=positive_int, default=1,
                    help="BLAS / PyTorch intra-op threads for every runner")
    return ap


def paired_ratio(num: list[float], den: list[float]) -> float:
    """The median over repeats of num's time / den's time in the same repeat."""
    return statistics.median(a / b for a, b in zip(num, den))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        import torch

        torch.set_num_threads(args.threads)
        have_torch = True
    except ImportError:
        have_torch = False
    data = nn.datasets.load("digits", seed=0)
    print(machine_line())
    print(f"digits: {len(data.y_train)} train / {len(data.y_test)} test, hidden {HIDDEN}, Adam lr {LR}, "
          f"batch {BATCH}, {args.epochs} epochs, {args.threads} thread(s), median of {args.repeats} "
          f"interleaved runs")
    with threadpool_limits(limits=args.threads):
        print(f"\n{'activation':<10} {'runner':<16} {'ms/epoch':>9} {'accuracy':>9} {'time vs actlab':>15}")
        for act in ("relu", "sigmoid", "tanh"):
            runners: dict[str, Any] = {
                "actlab float64": lambda s: run_actlab(data, act, args.epochs, np.float64, s),
                "sklearn float64": lambda s: run_sklearn(data, act, args.epochs, s),
                "actlab float32": lambda s: run_actlab(data, act, args.epochs, np.float32, s),
            }
            if have_torch:
                runners["torch float64"] = lambda s: run_torch(data, act, args.epochs, np.float64, s)
                runners["torch float32"] = lambda s: run_torch(data, act, args.epochs, np.float32, s)
            times: dict[str, list[float]] = {k: [] for k in runners}
            accs: dict[str, list[float]] = {k: [] for k in runners}
            for rep in range(args.repeats):
                for key, fn in runners.items():
                    t, a = fn(rep)
                    times[key].append(t)
                    accs[key].append(a)
            for key in runners:
                t = statistics.median(times[key])
                base = times["actlab " + key.split()[-1]]
                ratio = "" if key.startswith("actlab") else f"{paired_ratio(times[key], base):.2f}x"
                print(f"{act:<10} {key:<16} {1000 * t:>9.1f} {statistics.median(accs[key]):>9.4f} {ratio:>15}")
        print(f"\nevery seed hidden-layer activation, actlab float64, median of {args.repeats}:")
        acts = list(default_activations())
        every_t: dict[str, list[float]] = {a: [] for a in acts}
        every_acc: dict[str, list[float]] = {a: [] for a in acts}
        refused: set[str] = set()
        for rep in range(args.repeats):
            for act in acts:
                if act in refused:
                    continue
                try:
                    t, a = run_actlab(data, act, args.epochs, np.float64, rep)
                except nn.ZeroGradientError:
                    refused.add(act)
                    continue
                every_t[act].append(t)
                every_acc[act].append(a)
        for act in acts:
            if act in refused:
                print(f"  {act:<12} not trainable by backprop (derivative 0): use actlab.nn.Perceptron")
            else:
                print(f"  {act:<12} {1000 * statistics.median(every_t[act]):7.1f} ms/epoch   "
                      f"accuracy {statistics.median(every_acc[act]):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
