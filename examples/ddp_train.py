"""Train a small MLP with actlab activations under torch.distributed (DDP, gloo, CPU).

    torchrun --standalone --nproc-per-node 2 examples/ddp_train.py --out ddp.pt
    python examples/ddp_train.py --out single.pt        # the same training in one process

Every step each process takes its own half of the batch; DDP averages the two halves'
gradients, which is the gradient of the whole batch's mean loss, so both commands end with
the same parameters (to float rounding).  actlab's modules hold no state, so nothing else
needs wrapping.
"""

from __future__ import annotations

import argparse
import os

import torch
import torch.distributed as dist

import actlab.torch as at

FEATURES, HIDDEN, CLASSES, BATCH, STEPS = 8, 32, 3, 64, 20


def make_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(FEATURES, HIDDEN), at.Activation("gelu"),
        torch.nn.Linear(HIDDEN, HIDDEN), at.SiLU(),
        torch.nn.Linear(HIDDEN, HIDDEN), at.LeakyReLU(slope=0.1),
        torch.nn.Linear(HIDDEN, CLASSES),
    ).double()


def batches() -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(1)
    return [(torch.randn(BATCH, FEATURES, generator=g, dtype=torch.float64),
             torch.randint(0, CLASSES, (BATCH,), generator=g)) for _ in range(STEPS)]


def train(model: torch.nn.Module, *, rank: int, world: int) -> None:
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    share = BATCH // world
    for X, y in batches():
        part = slice(rank * share, (rank + 1) * share)
        optimiser.zero_grad()
        loss_fn(model(X[part]), y[part]).backward()
        optimiser.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="where to save the final state_dict")
    args = parser.parse_args()
    model = make_model()
    if "WORLD_SIZE" in os.environ:  # started by torchrun
        dist.init_process_group("gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
        ddp = torch.nn.parallel.DistributedDataParallel(model)
        train(ddp, rank=rank, world=world)
        if rank == 0:
            torch.save(model.state_dict(), args.out)
        dist.destroy_process_group()
    else:
        train(model, rank=0, world=1)
        torch.save(model.state_dict(), args.out)


if __name__ == "__main__":
    main()
