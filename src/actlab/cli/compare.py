"""``actlab compare``: train the same network once per activation and rank them."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from actlab.cli import SEED_MAX, UsageError, check_writable, int_in, parse_seed
from actlab.lab._checks import MAX_WIDTH  # per hidden layer, as the library bounds it


def add_parser(sub: Any, command: str) -> None:
    p = sub.add_parser("compare", help="train the same network per activation; a table, best first")
    p.add_argument("--dataset", default="digits", help="digits, iris, breast_cancer, diabetes, moons, spirals, xor")
    p.add_argument("--activations", default=None,
                   help="comma-separated names (default: the seed's hidden-layer functions)")
    p.add_argument("--hidden", type=parse_widths, default="64,64",
                   help=f"hidden widths, comma-separated, each 1 to {MAX_WIDTH} (default 64,64)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--batch-size", type=int, default=16, help="mini-batch size (default 16)")
    p.add_argument("--seed", type=parse_seed, default=0, help=f"the first run's seed, 0 to {SEED_MAX} (default 0)")
    p.add_argument("--seeds", type=int, default=1, help="runs per activation (mean ± sd)")
    p.add_argument("--target", type=float, default=0.9,
                   help="the test accuracy (R² for regression) to count epochs to (default 0.9)")
    p.add_argument("--json", default=None, metavar="PATH", help="write every figure to PATH as JSON")


def parse_widths(text: str) -> list[int]:
    """The argparse type of ``--hidden``: comma-separated widths, each in [1, MAX_WIDTH]."""
    try:
        return [int_in(part, 1, MAX_WIDTH) for part in text.split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers in [1, {MAX_WIDTH}], got {text!r}") from None


def _check(args: Any) -> None:
    from actlab.nn.datasets import NAMES

    if args.dataset not in NAMES:
        raise UsageError(f"--dataset: unknown dataset {args.dataset!r} (choose from {', '.join(NAMES)})")
    for flag, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size), ("--seeds", args.seeds)):
        if value < 1:
            raise UsageError(f"{flag}: must be a positive integer, got {value}")
    if not math.isfinite(args.lr) or args.lr <= 0:
        raise UsageError(f"--lr: must be a positive number, got {args.lr}")
    if not math.isfinite(args.target) or args.target > 1:
        raise UsageError(f"--target: must be a number at most 1, got {args.target}")
    if args.seed + args.seeds - 1 > SEED_MAX:  # the runs use seeds --seed, --seed + 1, ...
        raise UsageError(f"--seeds: the last seed, --seed + --seeds - 1 = {args.seed + args.seeds - 1}, "
                         f"is above {SEED_MAX}")


def _num(x: float | None, fmt: str) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def run(args: Any) -> int:
    import actlab
    from actlab.lab.compare import compare, default_activations

    _check(args)
    hidden = args.hidden
    if args.activations is None:
        names = default_activations()
    else:
        names = [a.strip() for a in args.activations.split(",") if a.strip()]
        if not names:
            raise UsageError("--activations: expected comma-separated activation names")
        names = [actlab.canonical_name(a) for a in names]  # ValueError names an unknown one
    json_path = check_writable(args.json, flag="--json") if args.json else None

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    err = Console(stderr=True)
    tasks: dict[tuple[str, int], Any] = {}
    progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} epochs"),
                        TimeElapsedColumn(), console=err, transient=False)

    def on_epoch(name: str, seed: int, epoch: int) -> None:
        key = (name, seed)
        if key not in tasks:
            tasks[key] = progress.add_task(f"{name} (seed {seed})", total=args.epochs)
        progress.update(tasks[key], completed=epoch)

    progress.start()
    try:
        results = compare(dataset=args.dataset, activations=names, hidden=hidden, epochs=args.epochs, lr=args.lr,
                          batch_size=args.batch_size, seed=args.seed, seeds=args.seeds, target=args.target,
                          on_epoch=on_epoch)
    except BaseException:
        # The error is to be the one line on stderr: clear the bars, and stop the live display
        # only (Progress.stop adds a blank line when stderr is not a terminal).
        progress.live.transient = True
        progress.live.stop()
        raise
    progress.stop()
    metric = results[0].metric
    label = "accuracy" if metric == "accuracy" else "R²"
    pm = args.seeds > 1
    table = Table(title=f"actlab compare: {args.dataset}, hidden {tuple(hidden)}, {args.epochs} epochs, Adam lr {args.lr}"
                  + (f", {args.seeds} seeds (mean ± sd)" if pm else ""))
    # Columns: test score, final training loss, first epoch reaching --target (→), time per
    # epoch (ms), dead hidden units, ∇₁/∇_L = ‖∂L/∂W_first‖ / ‖∂L/∂W_last‖.
    for col in ("activation", label, "loss", f"→{args.target:g}", "ms/ep", "dead", "∇₁/∇_L"):
        table.add_column(col, justify="left" if col == "activation" else "right", no_wrap=True)
    for r in results:
        if r.error:
            table.add_row(r.activation, "—", "—", "—", "—", "—", "—")
            continue
        score = f"{r.score:.4f}" + (f"±{r.score_sd:.3f}" if pm else "")
        loss = f"{r.final_loss:.3g}" + (f"±{r.final_loss_sd:.1g}" if pm else "")
        table.add_row(r.activation, score, loss, _num(r.epochs_to_target, ".0f" if not pm else ".1f"),
                      f"{1000 * r.time_per_epoch:.1f}", f"{100 * r.dead_fraction:.1f}%", f"{r.grad_ratio:.3g}")
    console = Console()
    console.print(table)
    console.print(f"{label} on the 25% test split; dead: hidden units constant over the test set; "
                  f"∇₁/∇_L: first layer's weight-gradient norm over the last's")
    for r in results:
        if r.error:
            console.print(f"{r.activation}: {r.error}")
    if json_path is not None:
        payload = {
            "dataset": args.dataset, "hidden": hidden, "epochs": args.epochs, "lr": args.lr,
            "batch_size": args.batch_size, "seed": args.seed, "seeds": args.seeds, "target": args.target,
            "results": [_jsonable(r.to_dict()) for r in results],
        }
        json_path.parent.mkdir(parents=True, exist_ok=True)
        with open(json_path, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2)
    return 0


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    return obj
