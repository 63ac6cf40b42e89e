"""Bound methods side by side: tightness, unstable neurons, time, and what they do to a MILP.

For each network and input domain, every bound method is run and the script prints total
time, mean bound width per layer, the number of split (unstable) hidden neurons and the
width ratio interval / method (of the mean width over all layers, and of the output layer).
Then the same adversarial MILP (maximise ``logit[runner-up] - logit[predicted]`` over the
domain) is solved with HiGHS using each method's bounds, once per HiGHS random seed, and
its median solve time and answer are printed. Networks: the bundled digits nets,
random-weight 784-100-100-10 and 784-200x5-10, and the VNN-COMP MNIST nets when
../shared/bench is present.

    python benchmarks/bounds.py                      # everything (tens of minutes)
    python benchmarks/bounds.py --quick              # bundled nets and 784-100-100-10 only
    python benchmarks/bounds.py --methods interval symbolic lp --milp-time-limit 120
    python benchmarks/bounds.py --only 784-100 --seeds 5    # one network, 5 HiGHS seeds per MILP
    python benchmarks/bounds.py --highs mip_heuristic_run_rins=false mip_heuristic_run_rens=false
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
import pyomo.environ as pyo

import pyomo_nn as pnn
from pyomo_nn.bundled import DIGITS_NETWORKS, digits_test_set, load_digits_network

SHARED_BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"
MNIST_IMAGES = SHARED_BENCH / "mnist_images" / "mnist_test_first100.csv"
MNIST_NETS = ("256x2", "256x4", "256x6")


def random_mlp(sizes: list[int], seed: int) -> pnn.Network:
    """He-scaled Gaussian weights, small biases."""
    rng = np.random.default_rng(seed)
    weights = [
        rng.normal(size=(n_out, n_in)) * np.sqrt(2.0 / n_in) for n_in, n_out in itertools.pairwise(sizes)
    ]
    biases = [rng.normal(size=n_out) * 0.05 for n_out in sizes[1:]]
    return pnn.Network.mlp(weights, biases)


def mnist_image() -> np.ndarray:
    if MNIST_IMAGES.exists():
        return np.loadtxt(MNIST_IMAGES, delimiter=",", max_rows=1)[1:] / 255.0
    return np.random.default_rng(0).uniform(size=784)


def problems(quick: bool) -> list[tuple[str, pnn.Network, np.ndarray, tuple[float, ...]]]:
    """(name, network, centre image, extra L-inf radii) per network. Untrained random nets
    have most neurons split even at eps 0.02, so smaller radii are added where their MILP is
    within reach."""
    digits_image = digits_test_set()[0][0]
    found = [(f"digits {name}", load_digits_network(name), digits_image, ()) for name in DIGITS_NETWORKS]
    found.append(
        ("random 784-100-100-10", random_mlp([784, 100, 100, 10], seed=1), mnist_image(), (0.005, 0.01))
    )
    if quick:
        return found
    found.append(("random 784-200x5-10", random_mlp([784, *[200] * 5, 10], seed=2), mnist_image(), (0.002,)))
    for name in MNIST_NETS:
        path = SHARED_BENCH / "mnist_fc" / f"mnist-net_{name}.onnx"
        if path.exists():
            found.append((f"mnist {name}", pnn.load_onnx(path), mnist_image(), ()))
    return found


def adversarial_solve(
    net: pnn.Network, bounds: pnn.Bounds, x0: np.ndarray, time_limit: float, seeds: int, options: dict
) -> str:
    """Solve the adversarial MILP once per HiGHS random seed (branch-and-bound times vary a
    lot with the seed); report the median solve time and the last solve's answer."""
    logits = net.forward(x0)
    predicted, runner_up = int(np.argmax(logits)), int(np.argsort(logits)[-2])
    model = pyo.ConcreteModel()
    started = time.perf_counter()
    model.nn = pnn.NetworkBlock(net, bounds)
    model.obj = pyo.Objective(
        expr=model.nn.outputs[runner_up] - model.nn.outputs[predicted], sense=pyo.maximize
    )
    build = time.perf_counter() - started
    times = []
    for seed in range(seeds):
        result = pnn.solve(model, "highs", time_limit=time_limit, options={**options, "random_seed": seed})
        times.append(result.wall_time)
    objective = "-" if result.objective is None else f"{result.objective:.4f}"
    bound = "-" if result.dual_bound is None else f"{result.dual_bound:.4f}"
    return (
        f"build {build:6.2f} s  solve median {np.median(times):7.2f} s (of {seeds})  {result.status:<10} "
        f"obj {objective:>9} bound {bound:>9} verified {result.verified}"
    )


def _option_value(text: str) -> bool | int | float | str:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def run(args: argparse.Namespace) -> None:
    highs_options = {key: _option_value(value) for key, _, value in (o.partition("=") for o in args.highs)}
    if highs_options:
        print(f"HiGHS options for the adversarial MILPs: {highs_options}")
    for name, net, x0, extra_eps in problems(args.quick):
        if args.only and args.only not in name:
            continue
        domains = [("box [0,1]", pnn.Box(0.0, 1.0))] + [
            (f"linf {eps}", pnn.LinfBall(x0, eps, 0.0, 1.0)) for eps in sorted({*extra_eps, *args.eps})
        ]
        for domain_name, domain in domains:
            print(f"\n=== {name}, {domain_name} ===")
            print(
                f"{'method':<10}{'seconds':>9}{'split':>7}{'ratio all':>11}{'ratio out':>11}"
                "  mean width per layer"
            )
            reference = None
            results = {}
            for method in args.methods:
                bounds = pnn.compute_bounds(net, domain, method=method, time_limit=args.bound_time_limit)
                widths = [float(np.mean(hi - lo)) for lo, hi in zip(bounds.lower, bounds.upper, strict=True)]
                split = sum(bounds.stability(k)[2] for k in range(len(widths) - 1))
                if method == "interval":
                    reference = widths
                ratio_all = np.mean(reference) / np.mean(widths) if reference else float("nan")
                ratio_out = reference[-1] / widths[-1] if reference else float("nan")
                print(
                    f"{method:<10}{bounds.seconds:>9.3f}{split:>7}{ratio_all:>11.2f}{ratio_out:>11.2f}  "
                    + " ".join(f"{w:.3g}" for w in widths)
                )
                results[method] = bounds
            if domain_name == "box [0,1]" or not args.milp_time_limit:
                continue
            for method, bounds in results.items():
                if method == "naive":
                    continue
                print(
                    f"  adversarial MILP with {method:<9} bounds: "
                    f"{adversarial_solve(net, bounds, x0, args.milp_time_limit, args.seeds, highs_options)}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="bundled nets and 784-100-100-10 only")
    parser.add_argument(
        "--methods",
        nargs="+",
        default=["naive", "interval", "symbolic", "alpha", "lp"],
        choices=pnn.bounds.METHODS,
    )
    parser.add_argument("--seeds", type=int, default=3, help="HiGHS random seeds per adversarial MILP")
    parser.add_argument("--only", help="run only the networks whose name contains this text")
    parser.add_argument(
        "--highs",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="HiGHS options for the adversarial MILPs, e.g. mip_heuristic_run_rins=false",
    )
    parser.add_argument("--eps", nargs="+", type=float, default=[0.02, 0.05])
    parser.add_argument("--bound-time-limit", type=float, default=120.0, help="seconds per lp/milp bound run")
    parser.add_argument(
        "--milp-time-limit", type=float, default=120.0, help="seconds per adversarial MILP (0 skips them)"
    )
    run(parser.parse_args())


if __name__ == "__main__":
    main()
