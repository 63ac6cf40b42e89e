"""Branch and bound on the bundled digit classifiers: how far apart can the two networks'
logits be near one test image per class, and is the deeper network robust there?

For each class c, around the first test image of class c (L-inf ball of radius ``--eps``,
clipped to [0, 1]):

* maxdiff: maximise ``y_a[c] - y_b[c]`` (64-32-32-10 against 64-50-50-50-10), the two nets
  side by side as one chain (``pnn.bab.side_by_side``);
* robustness: prove that the runner-up logit of 64-50-50-50-10 stays below the true one
  (``threshold=0``), or find an input where it does not (re-checked with onnxruntime).

    python examples/branch_and_bound_digits.py
    python examples/branch_and_bound_digits.py --eps 0.1 --time-limit 30
"""

from __future__ import annotations

import argparse

import numpy as np

import pyomo_nn as pnn
from pyomo_nn.bundled import digits_test_set, load_digits_network


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eps", type=float, default=0.05, help="L-inf radius (default 0.05)")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per question (default 10)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    small, deep = load_digits_network("64-32-32-10"), load_digits_network("64-50-50-50-10")
    pair = pnn.bab.side_by_side(small, deep)
    y_pair, y_deep = pnn.bab.outputs(pair), pnn.bab.outputs(deep)
    x, labels = digits_test_set()
    print(f"{'class':>5}  {'maxdiff':>22}  {'branches':>8}  {'robust (64-50-50-50-10)':>26}")
    for c in range(10):
        x0 = x[np.flatnonzero(labels == c)[0]]
        domain = pnn.LinfBall(x0, args.eps, 0.0, 1.0)
        diff = pnn.branch_and_bound(pair, domain, y_pair[c] - y_pair[10 + c], time_limit=args.time_limit)
        runner_up = int(np.argsort(deep.forward(x0))[-2])
        robust = pnn.branch_and_bound(
            deep, domain, y_deep[runner_up] - y_deep[c], threshold=0.0, time_limit=args.time_limit
        )
        interval = f"[{diff.lower:.4f}, {diff.upper:.4f}]"
        print(f"{c:>5}  {interval:>22}  {diff.branches:>8}  {robust.status:>26}")


if __name__ == "__main__":
    main()
