"""``pyomo-nn train --data digits --per-class 10 --hidden 16 --time-limit 600 --out bnn.onnx``:
train a binarised network by MIP (docs/training.md), a progress line per solved MIP."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pyomo_nn.bundled import digits_test_set
from pyomo_nn.cli.arg_types import positive_int, seconds
from pyomo_nn.cli.outputs import check_output_file
from pyomo_nn.errors import InputFileError
from pyomo_nn.training import BinarizedMLP, fit_batches, fit_mip, fit_pairwise
from pyomo_nn.training.mip import OBJECTIVES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train a binarised network by MIP and write ONNX")
    parser.add_argument(
        "--data",
        default="digits",
        help="'digits' (the bundled 8x8 digits) or an .npz file with arrays X (rows of pixels; "
        "integers are divided by 255) and y (labels)",
    )
    parser.add_argument("--per-class", type=positive_int, default=10, help="training images per class")
    parser.add_argument("--hidden", type=positive_int, nargs="+", default=[16], help="hidden layer sizes")
    parser.add_argument(
        "--weights",
        type=float,
        nargs="+",
        default=[-1, 0, 1],
        help="the integer weight set (with --real-weights: the interval's two ends)",
    )
    parser.add_argument("--real-weights", action="store_true", help="real weights in the --weights interval")
    parser.add_argument("--activation", choices=["sign", "step"], default="sign")
    parser.add_argument("--objective", choices=OBJECTIVES, default="max-margin")
    parser.add_argument("--pairwise", action="store_true", help="a one-vs-one ensemble (BeMi)")
    parser.add_argument(
        "--start",
        choices=["none", "ste"],
        default="none",
        help="'ste': start each MIP from a net trained by the straight-through estimator",
    )
    parser.add_argument("--batches", type=positive_int, default=1, help="batch training: this many batches")
    parser.add_argument("--combine", choices=["vote", "best"], default="vote", help="how batches combine")
    parser.add_argument("--workers", type=positive_int, default=1, help="MIPs solved at once (processes)")
    parser.add_argument("--time-limit", type=seconds, default=600.0, help="seconds per MIP")
    parser.add_argument("--solver", default="highs")
    parser.add_argument("--seed", type=int, default=0, help="seed of the drawn training images")
    parser.add_argument("--out", required=True, help="ONNX file to write")
    parser.set_defaults(func=run)


def load_data(source: str) -> tuple[np.ndarray, np.ndarray]:
    """The images (scaled to [0, 1]) and labels of ``--data``."""
    if source == "digits":
        return digits_test_set()
    path = Path(source)
    try:
        with np.load(path) as data:
            X, y = np.asarray(data["X"]), np.asarray(data["y"])
    except (OSError, ValueError, KeyError) as exc:
        raise InputFileError(f"--data {source}: not an .npz file with arrays X and y ({exc})") from None
    X = X.reshape(X.shape[0], -1).astype(float)
    if X.size and X.max() > 1.0:
        X = X / 255.0
    return X, y


def run(args: argparse.Namespace) -> int:
    check_output_file(args.out, "--out")
    X, y = load_data(args.data)
    rng = np.random.default_rng(args.seed)
    rows = np.concatenate([rng.permutation(np.flatnonzero(y == c))[: args.per_class] for c in np.unique(y)])
    spec = BinarizedMLP(
        hidden=tuple(args.hidden),
        weights=tuple(args.weights),
        activation=args.activation,
        real_weights=args.real_weights,
    )
    options: dict = {"start": "ste"} if args.start == "ste" else {}
    if args.workers > 1:
        options.update(workers=args.workers, threads=1)
    progress = lambda line: print(line, flush=True)  # noqa: E731
    print(f"training on {rows.size} images ({args.per_class} per class), {X.shape[1]} features", flush=True)
    if args.batches > 1:
        model = fit_batches(
            spec,
            X[rows],
            y[rows],
            args.objective,
            batches=args.batches,
            combine=args.combine,
            pairwise=args.pairwise,
            seed=args.seed,
            solver=args.solver,
            time_limit=args.time_limit,
            progress=progress,
            **options,
        )
        print(f"validation accuracy per batch: {', '.join(f'{v:.3f}' for v in model.validation)}")
    elif args.pairwise:
        model = fit_pairwise(
            spec,
            X[rows],
            y[rows],
            args.objective,
            solver=args.solver,
            time_limit=args.time_limit,
            progress=progress,
            **options,
        )
    else:
        options.pop("workers", None)
        options.pop("threads", None)
        model = fit_mip(
            spec, X[rows], y[rows], args.objective, solver=args.solver, time_limit=args.time_limit, **options
        )
        print(model, flush=True)
    rest = np.setdiff1d(np.arange(y.size), rows)
    if rest.size:
        print(f"accuracy on the {rest.size} other images: {model.accuracy(X[rest], y[rest]):.4f}")
    model.to_onnx(args.out)
    print(f"wrote {args.out}")
    return 0
