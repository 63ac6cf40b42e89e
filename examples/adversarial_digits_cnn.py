"""Worst-case input near a handwritten digit, for the bundled convolutional network.

Like ``adversarial_digits.py`` but on ``digits_cnn.onnx`` (Conv, MaxPool, Conv, AvgPool,
Dense; trained by ``train_digits_cnn.py``): the MILP holds the convolutions as sparse linear
constraints and the max pool with Fischetti & Jo's binaries. It asks for the input in an
L-infinity ball around a test image that maximises ``logit[target] - logit[true class]``. A
positive optimum is an adversarial example; a negative dual bound proves there is none. The
answer is re-checked with onnxruntime on the ONNX file.

    python examples/adversarial_digits_cnn.py                      # eps 0.03, a few seconds
    python examples/adversarial_digits_cnn.py --image 5 --eps 0.05 --bounds lp --time-limit 120
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pyomo.environ as pyo

import pyomo_nn as pnn
from pyomo_nn.bundled import digits_cnn_path, digits_test_set


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=int, default=1, help="index of the test image")
    parser.add_argument("--eps", type=float, default=0.03, help="L-infinity radius around the image")
    parser.add_argument(
        "--target", type=int, default=None, help="wrong class to push up (default: the runner-up class)"
    )
    parser.add_argument("--bounds", default="symbolic", choices=pnn.bounds.METHODS)
    parser.add_argument("--solver", default="highs", help="any Pyomo solver name")
    parser.add_argument("--time-limit", type=float, default=60.0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    net = pnn.load_onnx(digits_cnn_path())
    print(net.summary())
    images, labels = digits_test_set()
    x0, true_class = images[args.image], int(labels[args.image])
    logits0 = net.forward(x0)
    ranked = np.argsort(logits0)
    target = (
        args.target
        if args.target is not None
        else int(ranked[-2] if ranked[-1] == true_class else ranked[-1])
    )
    print(
        f"\nimage {args.image}: true class {true_class}, network says {int(ranked[-1])}; "
        f"target class {target}, eps {args.eps}"
    )

    start = time.perf_counter()
    bounds = pnn.compute_bounds(net, pnn.LinfBall(x0, eps=args.eps, lower=0.0, upper=1.0), method=args.bounds)
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, bounds)
    model.obj = pyo.Objective(
        expr=model.nn.outputs[target] - model.nn.outputs[true_class], sense=pyo.maximize
    )
    print(f"{args.bounds} bounds and model in {time.perf_counter() - start:.2f} s\n{model.nn.summary()}\n")

    result = pnn.solve(model, args.solver, time_limit=args.time_limit)
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
