"""Objective benchmark: every built-in objective on the bundled digits networks.

Prints, per objective: the bound method and its time (bounds are computed once per
comparison and shared by the objectives that use it), the time to build the Pyomo model
(blocks + objective), the solve time, the status, objective, dual bound and gap, and whether
the answer survived the onnxruntime re-check. Instances (test image ``--image``):

* two architectures (64-32-32-10 vs 64-50-50-50-10) on an L-inf ball of ``--eps``:
  MaxDiff in logits (HiGHS) and in probabilities (SCIP, if installed), MaxOut;
* 64-32-32-10 against its copy with 80 % of the weights pruned: MaxFlip on the same ball,
  MinEps up to radius ``2 * eps``;
* 64-32-32-10 alone: Verify (logits; probabilities with SCIP) on the ball, Adversarial
  (L1 and L-inf, target = runner-up class) on a ball of ``4 * eps``, Feature (layer 2,
  neuron 17) on [0, 1]^64.

Usage::

    python benchmarks/objectives.py [--bounds lp] [--eps 0.05] [--time-limit 60] [--image 0]
"""

from __future__ import annotations

import argparse

import numpy as np

import pyomo_nn as pnn
from pyomo_nn import objectives as obj
from pyomo_nn.bundled import digits_test_set, load_digits_network


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bounds", default="lp", help="bound method (default lp)")
    parser.add_argument("--eps", type=float, default=0.05, help="L-inf radius of the comparison region")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    parser.add_argument("--image", type=int, default=0, help="index of the test image")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    small, deep = load_digits_network("64-32-32-10"), load_digits_network("64-50-50-50-10")
    pruned = pnn.prune(small, percent=80)
    images, _ = digits_test_set()
    x0 = images[args.image]
    first, second = int(np.argmax(small.forward(x0))), int(np.argsort(deep.forward(x0))[-2])
    runner_up = int(np.argsort(small.forward(x0))[-2])
    ball = pnn.LinfBall(x0, args.eps, 0.0, 1.0)
    scip = "scip_direct" in pnn.available_solvers()

    architectures = pnn.Comparison(small, deep, ball, bounds=args.bounds)
    with_pruned = pnn.Comparison(small, pruned, ball, bounds=args.bounds)
    pruned_wide = pnn.Comparison(small, pruned, pnn.LinfBall(x0, 2 * args.eps, 0, 1), bounds=args.bounds)
    alone = pnn.Verification(small, ball, bounds=args.bounds)
    alone_wide = pnn.Verification(small, pnn.LinfBall(x0, 4 * args.eps, 0, 1), bounds=args.bounds)
    alone_box = pnn.Verification(small, pnn.Box(0, 1), bounds=args.bounds)
    cases = [
        ("maxdiff logits", architectures, obj.MaxDiff()),
        ("maxdiff probabilities", architectures, obj.MaxDiff("probabilities") if scip else None),
        (f"maxout ({first}, {second})", architectures, obj.MaxOut(first, second)),
        ("maxflip vs 80% pruned", with_pruned, obj.MaxFlip()),
        ("mineps vs 80% pruned", pruned_wide, obj.MinEps()),
        ("verify logits", alone, obj.Verify(x0)),
        ("verify probabilities", alone, obj.Verify(x0, "probabilities") if scip else None),
        (f"adversarial l1 -> {runner_up}", alone_wide, obj.Adversarial(x0, runner_up, norm="l1")),
        (f"adversarial linf -> {runner_up}", alone_wide, obj.Adversarial(x0, runner_up, norm="linf")),
        ("feature (2, 17) on box", alone_box, obj.Feature(2, 17)),
    ]
    print(
        f"bundled digits networks, image {args.image}, eps {args.eps}, bounds {args.bounds}, "
        f"time limit {args.time_limit:g} s per solve"
    )
    print(
        f"{'objective':<28}{'solver':>12}{'bounds s':>9}{'build s':>9}{'solve s':>9}  {'status':<11}"
        f"{'objective':>11}{'dual bound':>12}{'gap':>9}  re-check"
    )
    for label, question, objective in cases:
        if objective is None:
            print(f"{label:<28}{'-':>12}  skipped: pyscipopt is not installed")
            continue
        result = question.solve(objective, time_limit=args.time_limit)
        gap = "-" if result.gap is None else f"{100 * result.gap:.2g}%"
        check = "verified" if result.verified else ("-" if not result.has_solution else "NOT VERIFIED")
        print(
            f"{label:<28}{result.solver:>12}{result.bounds_time:>9.2f}{result.build_time:>9.2f}"
            f"{result.solve_time:>9.2f}  {result.status:<11}{_number(result.objective):>11}"
            f"{_number(result.dual_bound):>12}{gap:>9}  {check}"
        )


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.5g}"


if __name__ == "__main__":
    main()
