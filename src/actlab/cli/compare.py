"""``actlab compare``: train the same network once per activation and rank them."""

from __future__ import annotations

import json
import math
from typing import Any

from actlab.cli import (
    SEED_MAX,
    OutputError,
    UsageError,
    check_writable,
    comma_list,
    int_in,
    parse_path,
    parse_seed,
    write_text,
)
from actlab.lab import MAX_WIDTH  # per hidden layer, as the library bounds it


def add_parser(sub: Any, command: str) -> None:
    from actlab.nn.datasets import NAMES

    p = sub.add_parser("compare", help="train the same network per activation; a table, best first")
    p.add_argument(
        "--dataset", default="digits", help=f"the data set: {', '.join(NAMES)} (default: %(default)s)"
    )
    p.add_argument(
        "--activations",
        type=parse_activations,
        default=None,
        metavar="NAMES",
        help="comma-separated activation names, each once, or a group: classic (the "
        "founding document's hidden-layer functions), modern (the wider family's) or "
        "all (default: classic)",
    )
    p.add_argument(
        "--hidden",
        type=parse_widths,
        default="64,64",
        metavar="WIDTHS",
        help=f"hidden widths, comma-separated, each 1 to {MAX_WIDTH} (default: %(default)s)",
    )
    p.add_argument("--epochs", type=int, default=30, help="training epochs per run (default: %(default)s)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=16, help="mini-batch size (default: %(default)s)")
    p.add_argument(
        "--seed",
        type=parse_seed,
        default=0,
        help=f"the first run's seed, 0 to {SEED_MAX} (default: %(default)s)",
    )
    p.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="runs per activation, with seeds --seed, --seed + 1, ...; above 1 the table "
        "shows mean ± sd (default: %(default)s)",
    )
    p.add_argument(
        "--target",
        type=float,
        default=0.9,
        help="the test accuracy (R² for regression) to count epochs to (default: %(default)s)",
    )
    p.add_argument(
        "--engine",
        choices=("numpy", "torch"),
        default="numpy",
        help="what trains the networks: actlab.nn, or PyTorch with actlab.torch's "
        "modules from the same initial weights (default: %(default)s)",
    )
    p.add_argument(
        "--json",
        type=parse_path,
        default=None,
        metavar="PATH",
        help="also write every figure to PATH as JSON (default: none)",
    )


def parse_widths(text: str) -> list[int]:
    """The argparse type of ``--hidden``: comma-separated widths, each in [1, MAX_WIDTH]."""
    return comma_list(text, what=f"integers in [1, {MAX_WIDTH}]", item=_width)


def _width(text: str) -> int:
    return int_in(text, 1, MAX_WIDTH)


def parse_activations(text: str) -> list[str]:
    """The argparse type of ``--activations``: comma-separated names or aliases, each
    function once, as canonical names (an unknown name's error says "did you mean"), or
    one of the groups classic, modern and all."""
    import actlab
    from actlab.lab.compare import GROUPS, activation_group

    if text.strip() in GROUPS:
        return activation_group(text.strip())
    return comma_list(text, what="activation names", item=actlab.canonical_name, unique=True)


def _check(args: Any) -> None:
    from actlab.nn.datasets import NAMES

    if args.dataset not in NAMES:
        raise UsageError(
            f"argument --dataset: unknown dataset {args.dataset!r} (choose from {', '.join(NAMES)})"
        )
    for flag, value in (
        ("--epochs", args.epochs),
        ("--batch-size", args.batch_size),
        ("--seeds", args.seeds),
    ):
        if value < 1:
            raise UsageError(f"argument {flag}: must be a positive integer, got {value}")
    if not math.isfinite(args.lr) or args.lr <= 0:
        raise UsageError(f"argument --lr: must be a positive number, got {args.lr}")
    if not math.isfinite(args.target) or args.target > 1:
        raise UsageError(f"argument --target: must be a number at most 1, got {args.target}")
    if args.seed + args.seeds - 1 > SEED_MAX:  # the runs use seeds --seed, --seed + 1, ...
        raise UsageError(
            f"argument --seeds: the last seed, --seed + --seeds - 1 = {args.seed + args.seeds - 1}, "
            f"is above {SEED_MAX}"
        )


def _num(x: float | None, fmt: str) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def run(args: Any) -> int:
    from actlab.lab.compare import compare, default_activations

    _check(args)
    hidden = args.hidden
    names = default_activations() if args.activations is None else args.activations
    json_path = check_writable(args.json, flag="--json") if args.json is not None else None

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from actlab.cli._console import Console, escape

    err = Console(stderr=True)
    tasks: dict[tuple[str, int], Any] = {}
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} epochs"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )

    def on_epoch(name: str, seed: int, epoch: int) -> None:
        key = (name, seed)
        if key not in tasks:
            tasks[key] = progress.add_task(escape(f"{name} (seed {seed})"), total=args.epochs)
        progress.update(tasks[key], completed=epoch)

    def clear_bars() -> None:
        # An error is to be the one line on stderr: clear the bars, and stop the live display
        # only (Progress.stop adds a blank line when stderr is not a terminal).
        progress.live.transient = True
        progress.live.stop()

    progress.start()
    write_error: OutputError | None = None
    try:
        results = compare(
            dataset=args.dataset,
            activations=names,
            hidden=hidden,
            epochs=args.epochs,
            lr=args.lr,
            engine=args.engine,
            batch_size=args.batch_size,
            seed=args.seed,
            seeds=args.seeds,
            target=args.target,
            on_epoch=on_epoch,
        )
        if json_path is not None:  # before the bars are final, so that a failure leaves only its line
            payload = {
                "dataset": args.dataset,
                "hidden": hidden,
                "epochs": args.epochs,
                "lr": args.lr,
                "batch_size": args.batch_size,
                "seed": args.seed,
                "seeds": args.seeds,
                "target": args.target,
                "results": [_jsonable(r.to_dict()) for r in results],
            }
            try:
                write_text(json_path, json.dumps(payload, indent=2))
            except OutputError as exc:
                write_error = exc
    except BaseException:
        clear_bars()
        raise
    if write_error is not None:
        clear_bars()
    else:
        progress.stop()
    metric = results[0].metric
    label = "accuracy" if metric == "accuracy" else "R²"
    pm = args.seeds > 1
    # Every text reaching rich is escaped: rich would take "[...]" in it for markup and drop it.
    table = Table(
        title=escape(
            f"actlab compare: {args.dataset}, hidden {tuple(hidden)}, {args.epochs} epochs, "
            f"Adam lr {args.lr}" + (f", {args.seeds} seeds (mean ± sd)" if pm else "")
        )
    )
    # Columns: test score, final training loss, first epoch reaching --target (→), time per
    # epoch (ms), dead hidden units, ∇₁/∇_L = ‖∂L/∂W_first‖ / ‖∂L/∂W_last‖.
    for col in ("activation", label, "loss", f"→{args.target:g}", "ms/ep", "dead", "∇₁/∇_L"):
        table.add_column(escape(col), justify="left" if col == "activation" else "right", no_wrap=True)
    for r in results:
        if r.error:
            table.add_row(escape(r.activation), "—", "—", "—", "—", "—", "—")
            continue
        score = f"{r.score:.4f}" + (f"±{r.score_sd:.3f}" if pm else "")
        loss = f"{r.final_loss:.3g}" + (f"±{r.final_loss_sd:.1g}" if pm else "")
        table.add_row(
            escape(r.activation),
            score,
            loss,
            _num(r.epochs_to_target, ".0f" if not pm else ".1f"),
            f"{1000 * r.time_per_epoch:.1f}",
            f"{100 * r.dead_fraction:.1f}%",
            f"{r.grad_ratio:.3g}",
        )
    console = Console()
    console.print(table)
    console.print(
        f"{label} on the 25% test split; dead: hidden units with f'(z) = 0 on the whole test set; "
        f"∇₁/∇_L: first layer's weight-gradient norm over the last's"
    )
    for r in results:
        if r.error:
            console.print(escape(f"{r.activation}: {r.error}"))
    if write_error is not None:  # the table is shown all the same: the training is not lost
        raise write_error
    return 0


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    return obj
