"""How far apart can two digit classifiers be near a real image? (thesis ch. 4, Tables 4.2-4.7)

Compares the two bundled architectures (64-32-32-10 and 64-50-50-50-10) with ``MaxDiff`` on a
region around one test image per class, the thesis' ``simple`` region (an L-inf ball of
radius 0.05 clipped to [0, 1]) or its ``neighbours`` region (eps 0.05 around the means of a
pixel's window; the thesis' window radius 2 is for 28x28 MNIST, at 8x8 it blurs every digit
into the same blob, so the default here is radius 1), and prints the thesis' table: real
class, each network's class and probability at the input found, and the L1 difference of the
probability vectors. Every row is re-computed with onnxruntime on the ONNX files.

By default the difference of the logits is maximised (a MILP for HiGHS, about a minute for
ten images). ``--space probabilities`` maximises the difference of the softmax outputs as the
thesis does: an exact MINLP for SCIP (``pip install pyscipopt``), warm-started from the logit
answer; give it a time limit per image.

    python examples/compare_digits.py
    python examples/compare_digits.py --region neighbours
    python examples/compare_digits.py --space probabilities --time-limit 30
"""

from __future__ import annotations

import argparse

import numpy as np

import pyomo_nn as pnn
from pyomo_nn import objectives as obj
from pyomo_nn.bundled import DIGITS_NETWORKS, digits_test_set, load_digits_network

#: Region size of the thesis' chapter 4 (delta for `simple`, eps for `neighbours`).
THESIS_RADIUS = 0.05


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", choices=("simple", "neighbours"), default="simple")
    parser.add_argument("--radius", type=float, default=THESIS_RADIUS, help="region size (default 0.05)")
    parser.add_argument(
        "--window",
        type=int,
        default=1,
        help="neighbours window radius (default 1: the thesis' 2 is for 28x28 MNIST, too wide at 8x8)",
    )
    parser.add_argument("--space", choices=("logits", "probabilities"), default="logits")
    parser.add_argument("--bounds", default="symbolic", help="bound method (default symbolic)")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per image")
    return parser.parse_args()


def region(args: argparse.Namespace, x0: np.ndarray) -> pnn.InputDomain:
    if args.region == "simple":
        return pnn.LinfBall(x0, eps=args.radius, lower=0.0, upper=1.0)
    return pnn.Neighbourhood(x0, eps=args.radius, radius=args.window, shape=(8, 8))


def main() -> None:
    args = parse_args()
    first, second = (load_digits_network(architecture) for architecture in DIGITS_NETWORKS)
    images, labels = digits_test_set()
    print(
        f"MaxDiff in {args.space}, region {args.region} ({args.radius}), net 1 = {DIGITS_NETWORKS[0]}, "
        f"net 2 = {DIGITS_NETWORKS[1]}, bounds {args.bounds}"
    )
    header = (
        f"{'real':>4} {'net 1':>5} {'prob 1':>7} {'net 2':>5} {'prob 2':>7} {'L1 diff':>8} {'L1 logits':>10}"
    )
    print(f"{header}  status")
    for digit in range(10):
        index = int(np.flatnonzero(labels == digit)[0])
        comparison = pnn.Comparison(first, second, region(args, images[index]), bounds=args.bounds)
        result = comparison.solve(obj.MaxDiff(space="logits"), time_limit=args.time_limit)
        if args.space == "probabilities":
            result = comparison.solve(
                obj.MaxDiff(space="probabilities"), time_limit=args.time_limit, start=result.x
            )
        if not result.has_solution:
            print(f"{digit:>4}  no solution ({result.status})")
            continue
        one, two = result.networks
        gap = "" if result.gap is None or result.gap < 1e-6 else f", gap {100 * result.gap:.3g}%"
        print(
            f"{digit:>4} {one.predicted_class:>5} {one.probabilities[one.predicted_class]:>7.0%} "
            f"{two.predicted_class:>5} {two.probabilities[two.predicted_class]:>7.0%} "
            f"{result.details['probability_l1_difference']:>8.3f} "
            f"{result.details['logit_l1_difference']:>10.2f}"
            f"  {result.status}{gap}{'' if result.verified else ', NOT VERIFIED'}"
        )


if __name__ == "__main__":
    main()
