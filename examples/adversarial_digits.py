"""Worst-case input near a handwritten digit: how far can a wrong class overtake the true one?

Loads a bundled digits network, builds a MILP with the network as a Big-M block, and asks
the solver for the input in an L-infinity ball around a test image that maximises
``logit[target] - logit[true class]``. A positive optimum means an adversarial example
exists in the ball; a negative dual bound proves there is none. The answer is re-checked
with onnxruntime on the original ONNX file.

    python examples/adversarial_digits.py                 # HiGHS, bundled 64-32-32-10 net
    python examples/adversarial_digits.py --eps 0.1 --solver cbc --time-limit 30
    python examples/adversarial_digits.py --solver-config solver.toml --network model.onnx
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pyomo.environ as pyo

import pyomo_nn as pnn
from pyomo_nn.bundled import DIGITS_NETWORKS, digits_network_path, digits_test_set


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--network",
        default=DIGITS_NETWORKS[0],
        help=f"bundled architecture {DIGITS_NETWORKS} or a path to a 64-input ONNX file",
    )
    parser.add_argument("--image", type=int, default=0, help="index of the test image")
    parser.add_argument("--eps", type=float, default=0.05, help="L-infinity radius around the image")
    parser.add_argument(
        "--target",
        type=int,
        default=None,
        help="wrong class to push up (default: the runner-up class of the image)",
    )
    parser.add_argument("--bounds", default="symbolic", choices=pnn.bounds.METHODS)
    parser.add_argument("--solver", default="highs", help="any Pyomo solver name")
    parser.add_argument("--solver-config", default=None, help="TOML solver config (overrides --solver)")
    parser.add_argument("--time-limit", type=float, default=60.0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    path = digits_network_path(args.network) if args.network in DIGITS_NETWORKS else args.network
    net = pnn.load_onnx(path)
    images, labels = digits_test_set()
    x0, true_class = images[args.image], int(labels[args.image])
    logits0 = net.forward(x0)
    target = (
        args.target
        if args.target is not None
        else int(np.argsort(logits0)[-2 if np.argmax(logits0) == true_class else -1])
    )
    print(f"network {path}: {net.input_size} inputs, {net.output_size} outputs")
    print(
        f"image {args.image}: true class {true_class}, network says {int(np.argmax(logits0))}; "
        f"target class {target}, eps {args.eps}"
    )

    start = time.perf_counter()
    domain = pnn.LinfBall(x0, eps=args.eps, lower=0.0, upper=1.0)
    bounds = pnn.compute_bounds(net, domain, method=args.bounds)
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, bounds)
    model.obj = pyo.Objective(
        expr=model.nn.outputs[target] - model.nn.outputs[true_class], sense=pyo.maximize
    )
    print(f"built in {time.perf_counter() - start:.2f} s\n{model.nn.summary()}\n")

    config = (
        pnn.SolverConfig.from_file(args.solver_config)
        if args.solver_config
        else pnn.SolverConfig(args.solver, time_limit=args.time_limit)
    )
    result = pnn.solve(model, config)
    print(result)
    if result.has_solution:
        check = result.blocks["nn"]
        margin = check.reference_outputs[target] - check.reference_outputs[true_class]
        print(f"onnxruntime at the found input: logit[{target}] - logit[{true_class}] = {margin:.6g}")
        print(f"max |x - x0| = {np.max(np.abs(check.x - x0)):.4g} (eps {args.eps})")
    if result.dual_bound is not None and result.dual_bound < 0:
        print(f"proved: no input in the ball makes class {target} beat class {true_class}")
    elif result.has_solution and result.objective > 0:
        print(f"adversarial example found: class {target} beats class {true_class} by {result.objective:.4g}")


if __name__ == "__main__":
    main()
