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
4. Intermediate bounds refined per branch (``refine_bounds``) against the root's, on the
   worst disjunct of mnist_fc instances (``--mnist``, e.g. 256x4:9_0.03): the lowest
   disjunct bound after ``--mnist-branches`` branches and after ``--mnist-seconds``, from the
   same root bounds (symbolic, alpha, then LP tightening for at most 150 s on 1 process).

Sections 1 and 2 run branch and bound both ways (``refine`` off / on) in the same run.

    python benchmarks/branch_and_bound.py                 # ~15 min on 2 cores
    python benchmarks/branch_and_bound.py --quick         # digits only, ~1 min
    python benchmarks/branch_and_bound.py --only-mnist --mnist 256x6:0_0.03
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyomo.environ as pyo

import pyomo_nn as pnn
from pyomo_nn.bab.bounding import BatchBounder
from pyomo_nn.bab.chain import relu_chain
from pyomo_nn.bab.leaf import MilpLeaves
from pyomo_nn.bab.search import BranchAndBoundSearch
from pyomo_nn.bounds.executors import LocalProcessPool
from pyomo_nn.bundled import digits_test_set, load_digits_network
from pyomo_nn.tolerances import VNNLIB_BOUND_MARGIN
from pyomo_nn.vnnlib import load_vnnlib
from pyomo_nn.vnnlib.decide import network_bounds, with_property_rows

#: Root bounds of section 4: the solver-free stages, then LP tightening for at most this long.
MNIST_LP_SECONDS = 150.0

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
    print("\n1. digits adversarial margins: branch and bound (refine off / on) vs one MILP")
    row(
        "net",
        "eps",
        "off s",
        "off branches",
        "on s",
        "on branches",
        "optimum",
        "milp s",
        "milp optimum",
        "same",
    )
    x, labels = digits_test_set()
    for arch in ("64-32-32-10", "64-50-50-50-10"):
        net = load_digits_network(arch)
        y = pnn.bab.outputs(net)
        label = int(labels[0])
        runner = int(np.argsort(net.forward(x[0]))[-2])
        for eps in (0.05, 0.1, 0.2):
            domain = pnn.LinfBall(x[0], eps, 0.0, 1.0)
            objective = y[runner] - y[label]
            bounds = pnn.compute_bounds(net, domain)
            runs = []
            for refine in (False, True):
                started = time.perf_counter()
                bab = pnn.branch_and_bound(
                    net, domain, objective, bounds=bounds, time_limit=time_limit, refine_bounds=refine
                )
                runs.append((bab, time.perf_counter() - started))
            status, value, _, milp_seconds = milp_maximum(net, domain, objective, time_limit)
            same = status == "optimal" and all(
                bab.status == "optimal" and abs(bab.objective - value) <= 1e-5 for bab, _ in runs
            )
            (off, off_s), (on, on_s) = runs
            row(arch, eps, off_s, off.branches, on_s, on.branches, on.upper, milp_seconds, value, str(same))


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
        "refine",
        "bab status",
        "bab lower",
        "bab upper",
        "bab gap",
        "branches",
        "milp gap",
        "gap ratio",
    )
    for index in range(images):
        label, x0 = mnist_pair(index)
        domain = pnn.LinfBall(x0, 0.02, 0.0, 1.0)
        objective = y[label] - y[net.output_size + label]
        bounds = pnn.compute_bounds(pair, domain)
        _, value, dual, _ = milp_maximum(pair, domain, objective, time_limit)
        milp_gap = (dual - value) if value is not None and dual is not None else float("inf")
        for refine in (False, True):
            bab = pnn.branch_and_bound(
                pair, domain, objective, bounds=bounds, time_limit=time_limit, refine_bounds=refine
            )
            ratio = milp_gap / bab.gap if bab.gap > 0 else float("inf")
            flag = "on" if refine else "off"
            row(index, flag, bab.status, bab.lower, bab.upper, bab.gap, bab.branches, milp_gap, ratio)
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


def mnist_root(net_name, prop):
    """(network, disjuncts, root bounds of the network extended by their rows)."""
    net = pnn.load_onnx(BENCH / "mnist_fc" / f"mnist-net_{net_name}.onnx")
    disjuncts = list(load_vnnlib(BENCH / "mnist_fc" / f"prop_{prop}.vnnlib").disjuncts)
    extended = with_property_rows(net, disjuncts)
    box = pnn.Box(disjuncts[0].input_lower, disjuncts[0].input_upper)
    bounds = pnn.compute_bounds(extended, box, method="alpha")
    pool = LocalProcessPool(1)
    tightened = pnn.compute_bounds(extended, box, method="lp", time_limit=MNIST_LP_SECONDS, executor=pool)
    pool.shutdown()
    lower = tuple(np.maximum(a, b) for a, b in zip(bounds.lower, tightened.lower, strict=True))
    upper = tuple(np.minimum(a, b) for a, b in zip(bounds.upper, tightened.upper, strict=True))
    bounds = network_bounds(replace(bounds, lower=lower, upper=upper), net)
    return net, disjuncts, bounds


def disjunct_search(net, disjuncts, bounds, refine):
    """The search of ``pyomo-nn vnnlib``'s branch-and-bound stage (a problem per disjunct)."""
    rows = np.stack([d.output_coefs for d in disjuncts])
    offsets = np.stack([-d.rhs for d in disjuncts])
    chain = relu_chain(net, rows, offsets)
    lower, upper = disjuncts[0].input_lower, disjuncts[0].input_upper
    bounder = BatchBounder.from_bounds(chain, lower, upper, bounds, refine=refine)
    return BranchAndBoundSearch(
        bounder,
        np.full(len(disjuncts), VNNLIB_BOUND_MARGIN),
        np.zeros(len(disjuncts)),
        leaf_solver=MilpLeaves(bounder, "highs"),
    )


def mnist_section(instances, branches, seconds):
    print(
        "\n4. refined intermediate bounds, mnist_fc: worst disjunct "
        f"after {branches} branches / {seconds:g} s"
    )
    row("instance", "refine", "limit", "worst", "branches", "open", "proved", "seconds")
    for instance in instances:
        net_name, prop = instance.split(":")
        net, disjuncts, bounds = mnist_root(net_name, prop)
        splits = [int(np.sum((lo < 0) & (up > 0))) for lo, up in zip(bounds.lower, bounds.upper, strict=True)]
        print(f"  {instance}: split per hidden layer {splits[:-1]}")
        for limit in ("branches", "seconds"):
            for refine in (False, True):
                search = disjunct_search(net, disjuncts, bounds, refine)
                started = time.perf_counter()
                deadline = np.inf if limit == "branches" else started + seconds
                state = search.run(deadline, branches if limit == "branches" else None)
                proved = sum(search.proved(p) for p in range(len(disjuncts)))
                row(
                    instance,
                    "on" if refine else "off",
                    limit,
                    float(state.lower.min()),
                    state.branches,
                    len(search.pool),
                    f"{proved}/{len(disjuncts)}",
                    time.perf_counter() - started,
                )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="digits section only")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve (default 60)")
    parser.add_argument("--images", type=int, default=5, help="MNIST images of the comparator (default 5)")
    parser.add_argument("--branches", type=int, default=3000, help="branches per scaling run (default 3000)")
    parser.add_argument(
        "--mnist",
        nargs="*",
        default=["256x4:9_0.03", "256x6:0_0.03"],
        help="mnist_fc instances NET:PROP of section 4 (default 256x4:9_0.03 256x6:0_0.03)",
    )
    parser.add_argument("--mnist-branches", type=int, default=20_000, help="branch limit of section 4")
    parser.add_argument("--mnist-seconds", type=float, default=120.0, help="time limit of section 4")
    parser.add_argument("--only-mnist", action="store_true", help="section 4 only")
    args = parser.parse_args()
    print(f"(pyomo-nn {pnn.__version__}, 2 cores shared with other jobs)")
    if not args.only_mnist:
        digits_section(args.time_limit)
    if args.quick or not (BENCH / "mnist_fc").is_dir():
        return
    if not args.only_mnist:
        pair, y = comparator_section(args.images, args.time_limit)
        scaling_section(pair, y, args.branches)
    mnist_section(args.mnist, args.mnist_branches, args.mnist_seconds)


if __name__ == "__main__":
    main()
