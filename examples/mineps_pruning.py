"""How small a perturbation separates a network from its pruned copy? (thesis 4.4.2, Figure 4.8)

For one test image x_d per digit d and several pruning percentages p, ``MinEps`` finds the
smallest eps such that some x with ||x - x_d||_inf <= eps is still classified d by the
bundled 64-32-32-10 network but not by its copy with p % of the weights set to 0 (the
thesis' Rounder, ``pnn.prune``). Prints a table (eps per digit and pruning level, with the
pruned network's test accuracy) and, with matplotlib installed (``pip install
'pyomo-nn[plots]'``), draws it as a PNG like the thesis' Figure 4.8, written to
``examples/output/mineps_pruning.png`` (``--out DIR`` chooses another folder).

Searches stop at ``--max-eps``: an infeasible model *certifies* that no input within that
radius separates the two networks (shown as ``>0.1``). A time limit leaves the best eps
found with its gap (shown as ``~eps``).

    python examples/mineps_pruning.py
    python examples/mineps_pruning.py --percent 40 50 60 70 80 90 95 --digits 0 1 2 3 4 5 6 7 8 9
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import pyomo_nn as pnn
from pyomo_nn import objectives as obj
from pyomo_nn.bundled import digits_test_set, load_digits_network

#: Where the figure goes by default: a git-ignored folder next to this script.
OUTPUT = Path(__file__).resolve().parent / "output"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--percent", type=float, nargs="+", default=[70.0, 80.0, 90.0, 95.0])
    parser.add_argument("--digits", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-eps", type=float, default=0.1, help="largest radius searched")
    parser.add_argument("--bounds", default="symbolic", help="bound method (default symbolic)")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per MinEps solve")
    parser.add_argument(
        "--out",
        type=Path,
        default=OUTPUT,
        help="folder for the figure mineps_pruning.png (needs matplotlib; default: examples/output)",
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    net = load_digits_network("64-32-32-10")
    images, labels = digits_test_set()
    starts = {d: int(np.flatnonzero((labels == d) & (net.predict(images) == d))[0]) for d in args.digits}
    print(f"network accuracy {np.mean(net.predict(images) == labels):.3f}; MinEps up to eps = {args.max_eps}")
    print(f"{'pruned':>7} {'accuracy':>9} " + " ".join(f"{f'digit {d}':>9}" for d in args.digits))
    table = np.full((len(args.percent), len(args.digits)), np.nan)
    proven = np.zeros_like(table, dtype=bool)
    certified = np.zeros_like(table, dtype=bool)
    accuracies = []
    for row, percent in enumerate(args.percent):
        pruned = pnn.prune(net, percent=percent)
        accuracies.append(float(np.mean(pruned.predict(images) == labels)))
        cells = []
        for column, digit in enumerate(args.digits):
            ball = pnn.LinfBall(images[starts[digit]], eps=args.max_eps, lower=0.0, upper=1.0)
            comparison = pnn.Comparison(net, pruned, ball, bounds=args.bounds)
            result = comparison.solve(obj.MinEps(true_class=digit), time_limit=args.time_limit)
            cells.append(describe(result, args.max_eps))
            certified[row, column] = result.status == "infeasible"
            if result.has_solution and result.verified:
                table[row, column] = result.objective
                proven[row, column] = result.status == "optimal"
        print(f"{percent:>6.1f}% {accuracies[-1]:>9.3f} " + " ".join(f"{cell:>9}" for cell in cells))
    draw(args, table, proven, certified, accuracies)


def describe(result: pnn.problem_result.ProblemResult, max_eps: float) -> str:
    if result.status == "infeasible":
        return f">{max_eps:g}"
    if not result.has_solution:
        return "?"
    mark = "" if result.status == "optimal" else "~"
    return f"{mark}{result.objective:.4f}" + ("" if result.verified else "!")


def draw(
    args: argparse.Namespace,
    table: np.ndarray,
    proven: np.ndarray,
    certified: np.ndarray,
    accuracies: list[float],
) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install 'pyomo-nn[plots]'): no figure")
        return
    figure, left = plt.subplots(figsize=(8, 4.5))
    percent = np.asarray(args.percent)
    for column, digit in enumerate(args.digits):
        line = left.plot(percent, table[:, column], "-", alpha=0.5, label=f"digit {digit}")[0]
        colour = line.get_color()
        optimal, none = proven[:, column], certified[:, column]
        left.plot(percent[optimal], table[optimal, column], "o", color=colour)
        left.plot(percent[~optimal], table[~optimal, column], "x", color=colour)
        left.plot(percent[none], np.full(np.count_nonzero(none), args.max_eps), "^", color=colour)
    left.set_xlabel("weights pruned (%)")
    left.set_ylabel(f"minimal eps (o optimal, x best found, ^ none up to {args.max_eps:g})")
    right = left.twinx()
    right.plot(args.percent, accuracies, "k--", label="pruned accuracy")
    right.set_ylabel("test accuracy of the pruned network")
    left.legend(loc="upper left", fontsize="small")
    right.legend(loc="upper right", fontsize="small")
    figure.tight_layout()
    png = args.out / "mineps_pruning.png"
    figure.savefig(png, dpi=120)
    print(f"wrote {png}")


if __name__ == "__main__":
    main()
