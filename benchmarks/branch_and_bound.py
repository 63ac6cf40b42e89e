"""Branch and bound (``pnn.branch_and_bound``) against one MILP (NetworkBlock + HiGHS), side
by side in one run, and its throughput on 1 and 2 worker processes.

1. Adversarial margins on the bundled digits nets (maximise runner-up minus true logit over
   an L-inf ball around test image 0): time to a proven optimum, same optimum (1e-5).
2. The thesis' comparator at MNIST scale: maxdiff in logits (``y_a[label] - y_b[label]``)
   between ``mnist-net_256x2`` and the same net pruned by 50% (``pnn.prune``), over L-inf
   0.02 around MNIST test images, as one chain (``pnn.bab.side_by_side``); both methods get
   the same time limit; report bounds and gaps. Skipped without ``../shared/bench``.
3. Branches bounded per second with no executor (numpy's threads), a 1-process and a
   2-process pool (``--branches`` per run), on the comparator's first image.

    python benchmarks/branch_and_bound.py                 # ~15 min on 2 cores
    python benchmarks/branch_and_bound.py --quick         # digits only, ~1 min
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyomo.environ as pyo

import pyomo_nn as pnn
from pyomo_nn.bounds.executors import LocalProcessPool
from pyomo_nn.bundled import digits_test_set, load_digits_network

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"


def milp_maximum(net, domain, objective, time_limit):
    """(status, incumbent, dual bound, seconds) of one MILP with the default bounds."""
    started = time.perf_counter()
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, domain=domain)
    weights = objective.coefficients[0]
    expr = sum(float(w) * model.nn.outputs[k] for k, w in enumerate(weights) if w) + float(
        objective.offset[0]
    )
    model.objective = pyo.Objective(expr=expr, sense=pyo.maximize)
    left = max(time_limit - (time.perf_counter() - started), 1.0)
    result = pnn.solve(model, time_limit=left, mip_gap=0.0)
    return result.status, result.objective, result.dual_bound, time.perf_counter() - started


def row(*cells):
    print("  ".join(f"{c:>12}" if not isinstance(c, float) else f"{c:12.5g}" for c in cells), flush=True)


def digits_section(time_limit):
    print("\n1. digits adversarial margins: branch and bound vs one MILP")
    row("net", "eps", "bab s", "bab branches", "bab optimum", "milp s", "milp optimum", "same")
    x, labels = digits_test_set()
    for arch in ("64-32-32-10", "64-50-50-50-10"):
        net = load_digits_network(arch)
        y = pnn.bab.outputs(net)
        label = int(labels[0])
        runner = int(np.argsort(net.forward(x[0]))[-2])
        for eps in (0.05, 0.1, 0.2):
            domain = pnn.LinfBall(x[0], eps, 0.0, 1.0)
            objective = y[runner] - y[label]
            started = time.perf_counter()
            bab = pnn.branch_and_bound(net, domain, objective, time_limit=time_limit)
            bab_seconds = time.perf_counter() - started
            status, value, _, milp_seconds = milp_maximum(net, domain, objective, time_limit)
            same = bab.status == "optimal" and status == "optimal" and abs(bab.objective - value) <= 1e-5
            row(arch, eps, bab_seconds, bab.branches, bab.upper, milp_seconds, value, str(same))


def mnist_pair(index):
    rows = np.atleast_2d(
        np.loadtxt(BENCH / "mnist_images" / "mnist_test_first100.csv", delimiter=",", max_rows=index + 1)
    )
    return int(rows[index, 0]), rows[index, 1:] / 255.0


def comparator_section(images, time_limit):
    net = pnn.load_onnx(BENCH / "mnist_fc" / "mnist-net_256x2.onnx")
    pruned = pnn.prune(net, percent=50)
    pair = pnn.bab.side_by_side(net, pruned)
    y = pnn.bab.outputs(pair)
    print(f"\n2. maxdiff in logits, mnist-net_256x2 vs pruned 50%, L-inf 0.02, {time_limit:g} s each")
    row(
        "image",
        "bab status",
        "bab lower",
        "bab upper",
        "bab gap",
        "branches",
        "milp status",
        "milp lower",
        "milp upper",
        "milp gap",
        "gap ratio",
    )
    for index in range(images):
        label, x0 = mnist_pair(index)
        domain = pnn.LinfBall(x0, 0.02, 0.0, 1.0)
        objective = y[label] - y[net.output_size + label]
        bab = pnn.branch_and_bound(pair, domain, objective, time_limit=time_limit)
        status, value, dual, _ = milp_maximum(pair, domain, objective, time_limit)
        milp_gap = (dual - value) if value is not None and dual is not None else float("inf")
        ratio = milp_gap / bab.gap if bab.gap > 0 else float("inf")
        row(
            index,
            bab.status,
            bab.lower,
            bab.upper,
            bab.gap,
            bab.branches,
            status,
            value or float("nan"),
            dual or float("nan"),
            milp_gap,
            ratio,
        )
    return pair, y


def scaling_section(pair, y, branches):
    label, x0 = mnist_pair(0)
    domain = pnn.LinfBall(x0, 0.02, 0.0, 1.0)
    objective = y[label] - y[10 + label]
    bounds = pnn.compute_bounds(pair, domain)
    print(f"\n3. branches per second ({branches} branches, comparator image 0)")
    row("executor", "seconds", "branches/s")
    runs = [("none", None), ("pool 1", LocalProcessPool(1)), ("pool 2", LocalProcessPool(2))]
    for name, executor in runs:
        started = time.perf_counter()
        result = pnn.branch_and_bound(
            pair, domain, objective, bounds=bounds, executor=executor, max_branches=branches
        )
        seconds = time.perf_counter() - started
        row(name, seconds, result.branches / seconds)
        if executor is not None:
            executor.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="digits section only")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve (default 60)")
    parser.add_argument("--images", type=int, default=5, help="MNIST images of the comparator (default 5)")
    parser.add_argument("--branches", type=int, default=3000, help="branches per scaling run (default 3000)")
    args = parser.parse_args()
    digits_section(args.time_limit)
    print(f"(pyomo-nn {pnn.__version__}, 2 cores shared with other jobs)")
    if args.quick or not (BENCH / "mnist_fc").is_dir():
        return
    pair, y = comparator_section(args.images, args.time_limit)
    scaling_section(pair, y, args.branches)


if __name__ == "__main__":
    main()
