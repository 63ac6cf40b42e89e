"""MIP training of binarised networks on MNIST with few images per class (issue 15).

For each number of training images per class (10, 25, 40 by default), drawn with a fixed seed
from ../shared/data/mnist_pool_5000.npz, and one fixed test set of pool images never used for
training (1,000 by default), it trains and compares:

- ``mip``: one BinarizedMLP(hidden) trained by fit_mip (objective ``--objective``,
  ``--time-limit`` seconds);
- ``ensemble``: the one-vs-one ensemble of fit_pairwise (BinarizedMLP(``--pair-hidden``),
  ``--pair-objective``, ``--pair-time-limit`` seconds per MIP), majority vote (BeMi);
- ``ensemble-ste``: the same ensemble, each pair's MIP started from a net of the pair's shape
  trained first by the straight-through estimator (``fit_pairwise(..., start="ste")``);
- ``pairs-ste``: those STE pair nets alone, voting (no MIP: the baseline of ``ensemble-ste``);
- ``batches``: batch training, ``fit_batches(pairwise=True, batches=--batches)``: one
  ensemble per batch (``--pair-objective``, ``--pair-time-limit``, ``--start``), the batch
  ensembles' votes combined by a vote (``--combine``);
- ``ste``: the same shape as ``mip``, ternary weights and sign activations trained by gradient
  descent with the straight-through estimator (torch);
- ``relu``: a float ReLU network of the same shape (torch, Adam).

Prints a Markdown table row per (images per class, method) and writes a JSON file:
test accuracy, solve time, largest gap, non-zero weights. Needs torch (the ``train`` extra).

    python3 benchmarks/training.py --per-class 10 25 40 --time-limit 120 --pair-time-limit 5
    python3 benchmarks/training.py --per-class 40 --methods pairs-ste ensemble-ste \
        --pair-objective max-margin --pair-time-limit 10 --workers 2
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

from pyomo_nn import training
from pyomo_nn.errors import PyomoNNError
from pyomo_nn.training.fit import forward_scores
from pyomo_nn.training.ste import ste_layers

POOL = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist_pool_5000.npz"


def split(X, y, per_class: int, n_test: int, seed: int):
    """A fixed test set first (the same for every setting), then the training images."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    test, rest = order[:n_test], order[n_test:]
    train = np.concatenate([rest[y[rest] == c][:per_class] for c in range(10)])
    return train, test


def torch_net(X, y, Xt, yt, hidden, binarised: bool, seed: int, epochs: int = 400) -> dict:
    import torch

    torch.manual_seed(seed)
    Xs = torch.tensor(X, dtype=torch.float32)
    ys = torch.tensor(y, dtype=torch.long)
    sizes = [X.shape[1], *hidden, 10]
    layers = [torch.nn.Linear(a, b) for a, b in itertools.pairwise(sizes)]
    params = [p for layer in layers for p in layer.parameters()]
    opt = torch.optim.Adam(params, lr=1e-2 if binarised else 1e-3, weight_decay=0 if binarised else 1e-4)

    def ternary(w):  # forward: round to {-1, 0, 1} (threshold 0.5 of the largest weight); backward: identity
        scale = w.abs().max().clamp_min(1e-8)
        q = torch.round(torch.clamp(w / scale * 1.5, -1, 1))
        return w + (q - w).detach()

    def sign(a):  # forward: +1 if a >= 0 else -1; backward: identity clipped to |a| <= 1
        s = torch.where(a >= 0, 1.0, -1.0)
        return torch.clamp(a, -1, 1) + (s - torch.clamp(a, -1, 1)).detach()

    def forward(inputs):
        h = inputs
        for k, layer in enumerate(layers):
            h = h @ ternary(layer.weight).T + layer.bias if binarised else layer(h)
            if k < len(layers) - 1:
                h = sign(h) if binarised else torch.relu(h)
        return h

    for _ in range(epochs):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(forward(Xs), ys)
        loss.backward()
        opt.step()
    with torch.no_grad():
        acc = float((forward(torch.tensor(Xt, dtype=torch.float32)).argmax(1).numpy() == yt).mean())
        train_acc = float((forward(Xs).argmax(1).numpy() == y).mean())
        layers = [
            (
                (ternary(layer.weight) if binarised else layer.weight).numpy().astype(float),
                layer.bias.numpy().astype(float),
            )
            for layer in layers
        ]
        nonzero = sum(int(np.count_nonzero(W)) for W, _ in layers)
    return {"test_accuracy": acc, "train_accuracy": train_acc, "nonzero": nonzero, "layers": layers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, nargs="+", default=[10, 25, 40])
    parser.add_argument("--methods", nargs="+", default=["relu", "ste", "ensemble", "mip", "mip-ste"])
    parser.add_argument("--hidden", type=int, nargs="+", default=[16])
    parser.add_argument("--objective", default="accuracy")
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--pair-hidden", type=int, nargs="+", default=[4])
    parser.add_argument("--pair-objective", default="lexicographic")
    parser.add_argument("--pair-time-limit", type=float, default=5.0)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="pairs solved at once (processes)")
    parser.add_argument("--start", choices=["none", "ste"], default="none", help="start of the batches' MIPs")
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--combine", choices=["vote", "best"], default="vote")
    parser.add_argument("--json", default="benchmarks/results/training.json")
    args = parser.parse_args()

    data = np.load(POOL)
    X, y = data["X"].astype(float) / 255.0, data["y"].astype(int)
    rows = []
    print(
        "| per class | method | test acc | train acc | solve s | max gap | non-zero weights | statuses "
        "| wall s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for per_class in args.per_class:
        train, test = split(X, y, per_class, args.test, args.seed)
        Xtr, ytr, Xte, yte = X[train], y[train], X[test], y[test]
        for method in args.methods:
            start = time.perf_counter()
            row = {"per_class": per_class, "method": method, "n_test": len(test)}
            try:
                measure(row, method, args, Xtr, ytr, Xte, yte)
            except PyomoNNError as error:  # no network within the time limit: say so
                row.update(
                    test_accuracy=None,
                    train_accuracy=None,
                    solve_time=None,
                    gap=None,
                    nonzero=None,
                    statuses=f"{type(error).__name__}",
                )
            row["wall_time"] = time.perf_counter() - start
            rows.append(row)
            gap = "-" if row["gap"] is None else f"{100 * row['gap']:.3g}%"
            solve = "-" if row["solve_time"] is None else f"{row['solve_time']:.0f}"
            test_acc = "-" if row["test_accuracy"] is None else f"{100 * row['test_accuracy']:.1f}%"
            train_acc = "-" if row["train_accuracy"] is None else f"{100 * row['train_accuracy']:.0f}%"
            print(
                f"| {per_class} | {method} | {test_acc} | {train_acc} | {solve} | {gap} | {row['nonzero']} "
                f"| {row['statuses']} | {row['wall_time']:.0f} |",
                flush=True,
            )
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1))


def measure(row, method, args, Xtr, ytr, Xte, yte) -> None:
    """Train and evaluate ``method``; its figures go into ``row``."""
    if method in ("relu", "ste"):
        trained = torch_net(Xtr, ytr, Xte, yte, args.hidden, method == "ste", args.seed)
        trained.pop("layers")
        row.update(trained, solve_time=None, gap=None, statuses="-")
    elif method == "mip-ste":  # the MIP started from the straight-through-estimator net
        ste = torch_net(Xtr, ytr, Xte, yte, args.hidden, True, args.seed)
        spec = training.BinarizedMLP(hidden=tuple(args.hidden))
        fit = training.fit_mip(
            spec, Xtr, ytr, "accuracy", time_limit=args.time_limit, threads=args.threads, start=ste["layers"]
        )
        row.update(
            test_accuracy=fit.accuracy(Xte, yte),
            train_accuracy=fit.train_accuracy,
            solve_time=fit.solve_time,
            gap=fit.gap,
            nonzero=fit.nonzero_weights,
            statuses=f"{fit.status} (STE start: train {100 * ste['train_accuracy']:.0f}%)",
        )
    elif method == "mip":
        spec = training.BinarizedMLP(hidden=tuple(args.hidden))
        fit = training.fit_mip(
            spec, Xtr, ytr, args.objective, time_limit=args.time_limit, threads=args.threads
        )
        row.update(
            test_accuracy=fit.accuracy(Xte, yte),
            train_accuracy=fit.train_accuracy,
            solve_time=fit.solve_time,
            gap=fit.gap,
            nonzero=fit.nonzero_weights,
            statuses=fit.status,
        )
    elif method == "pairs-ste":
        spec = training.BinarizedMLP(hidden=tuple(args.pair_hidden))
        votes, test_votes, nonzero = np.zeros((len(ytr), 10)), np.zeros((len(yte), 10)), 0
        for a, b in itertools.combinations(range(10), 2):
            rows = np.flatnonzero((ytr == a) | (ytr == b))
            layers, _ = ste_layers(spec, Xtr[rows], (ytr[rows] == b).astype(int), 2, seed=args.seed)
            nonzero += sum(int(np.count_nonzero(W)) for W, _ in layers)
            for V, Xs in ((votes, Xtr), (test_votes, Xte)):
                s = forward_scores(spec, layers, Xs)
                V[np.arange(len(Xs)), np.where(s[:, 0] >= s[:, 1], a, b)] += 1
        row.update(
            test_accuracy=float(np.mean(test_votes.argmax(1) == yte)),
            train_accuracy=float(np.mean(votes.argmax(1) == ytr)),
            solve_time=None,
            gap=None,
            nonzero=nonzero,
            statuses="-",
        )
    elif method == "batches":
        spec = training.BinarizedMLP(hidden=tuple(args.pair_hidden))
        options = {"start": "ste"} if args.start == "ste" else {}
        ens = training.fit_batches(
            spec,
            Xtr,
            ytr,
            args.pair_objective,
            batches=args.batches,
            combine=args.combine,
            pairwise=True,
            seed=args.seed,
            time_limit=args.pair_time_limit,
            threads=args.threads,
            workers=args.workers,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
            **options,
        )
        statuses: dict[str, int] = {}
        for member in ens.members:
            for k, v in member.statuses.items():
                statuses[k] = statuses.get(k, 0) + v
        row.update(
            test_accuracy=ens.accuracy(Xte, yte),
            train_accuracy=ens.accuracy(Xtr, ytr),
            solve_time=ens.solve_time,
            gap=max((m.max_gap or 0.0) for m in ens.members),
            nonzero=ens.nonzero_weights,
            statuses=" ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
            + f"; validation {', '.join(f'{100 * v:.0f}%' for v in ens.validation)}",
        )
    else:  # ensemble, ensemble-ste
        spec = training.BinarizedMLP(hidden=tuple(args.pair_hidden))
        options = {"start": "ste"} if method == "ensemble-ste" else {}
        ens = training.fit_pairwise(
            spec,
            Xtr,
            ytr,
            args.pair_objective,
            time_limit=args.pair_time_limit,
            threads=args.threads,
            workers=args.workers,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
            **options,
        )
        row.update(
            test_accuracy=ens.accuracy(Xte, yte),
            train_accuracy=ens.accuracy(Xtr, ytr),
            solve_time=ens.solve_time,
            gap=ens.max_gap,
            nonzero=ens.nonzero_weights,
            statuses=" ".join(f"{k} {v}" for k, v in sorted(ens.statuses.items())),
        )


if __name__ == "__main__":
    main()
