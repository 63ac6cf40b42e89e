"""The thesis' chapter 2 on the networks of ``train.py``: rounding, then LP against MILP bounds.

Two parts, each written as CSV to ``benchmarks/thesis/results/``:

``rounding.csv`` (every trained network, every eps): the Rounder (``pnn.prune(net, eps=eps)``,
thesis Alg. 2) with eps in {1e-4, 1e-3, 1e-2, 1e-1}: test accuracy on the 1,000 held-out pool
images before and after rounding, and the share of weights set to 0 (``pnn.sparsity``), in
all and per layer; then the same for the eps that zeroes 60 % and 90 % of the weights
(``pnn.prune(net, percent=...)``, column ``percent``). Cheap: seconds per network.

``bounds.csv`` (the networks and eps of ``--bounds-configs``, see below): per-layer bounds
over the thesis' domain X = [0, 1]^784 (``pnn.Box(0, 1)``, thesis 2.1.1) by ``interval``,
``symbolic``, ``alpha`` (the package's propagation methods), ``lp`` (thesis Alg. 3 with
relax = 1) and ``milp`` (Alg. 3 with relax = 0), all through ``pnn.compute_bounds``. Per layer:
neurons, split neurons, mean and largest width, seconds. ``lp_vs_milp.csv`` puts LP and MILP
side by side per layer: mean widths and their ratio, the per-neuron width ratio (median and
largest), the thesis' RO Gap of the upper bound, ``|H_lp - H_milp| / (|H_milp| + 1e-10)``, and
both times.

Time limits and budget. Every bound runs in this process (``InlineExecutor``: one core, so
``cpu_seconds``, this process's CPU time, measures the work whatever else the shared machine
runs; ``layer_seconds`` and ``total_seconds`` are wall time). ``lp`` gets ``--lp-time-limit``
seconds (150) per network; neurons it does not reach keep their alpha bounds and are counted in
``unproved``. ``milp`` gets a total budget: ``compute_bounds(method="milp", time_limit=T)``
first repeats the LP pass (its seed), then gives each layer m of the MILP pass a share
2^m / sum_{k >= m} 2^k of the time left (``bounds/tightening.py``: the thesis' exponential split,
2.3.4: the deepest layers get the most time), split over that layer's solves, each at least
0.05 s. We set T = (the LP run's seconds) x 1.25 + 5 + ``--milp-budget`` (120), so the MILP pass
gets about ``--milp-budget`` seconds; ``milp_budget_share`` is layer m's nominal part of it. A
MILP solve stopped by its limit keeps its dual bound (never looser than the LP's); those solves
per layer are ``milp_unproved`` (from the package's ``BoundTighteningWarning``). The package
reports one time per layer for both passes; ``milp_seconds`` subtracts the LP run's time of
that layer (an estimate).

Which networks get bounds: the configurations of ``BOUNDS_ORDER`` (regularisation, eps), each
for every shape, smallest shape first, until ``--budget-minutes`` (50) of wall time have passed:
a configuration starts only if it can finish within the budget, so a run stays under an hour.
Rounding covers every trained network and eps.

    python benchmarks/thesis/chapter2.py                       # the configuration of run.py
    python benchmarks/thesis/chapter2.py --skip-rounding --bounds-shapes 100x10 --bounds-configs none@0.1
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train import NETS, REGS, SHAPES, load_split, net_name, read_manifest

RESULTS = Path(__file__).resolve().parent / "results"
EPS = (1e-4, 1e-3, 1e-2, 1e-1)
#: Also round to a share of the weights (``pnn.prune(percent=...)``): the ~60 % of the thesis'
#: finding at eps 0.1, and the 90 % its chapter 4 uses, whatever eps that takes on our networks.
PERCENTS = (60.0, 90.0)
PROPAGATION = ("interval", "symbolic", "alpha")
#: Seconds of MILP pass per network (after the repeated LP pass), split over layers as 2^m.
MILP_BUDGET = 120.0
#: Wall-clock limit of one network's LP bounds (neurons not reached keep their alpha bounds).
LP_TIME_LIMIT = 150.0
#: Wall-clock minutes of the whole run (rounding first, a few minutes, then the bounds): no bound
#: configuration starts that could not finish by then. Under an hour on the shared 2-core machine.
BUDGET_MINUTES = 50.0

ROUNDING_FIELDS = (
    "name", "shape", "reg", "norm", "lam", "eps", "percent", "test_acc_before", "test_acc", "acc_change_pp",
    "zeroed_share", "zeroed_by_layer", "seconds",
)  # fmt: skip
BOUNDS_FIELDS = (
    "name", "shape", "reg", "eps", "zeroed_share", "method", "layer", "layer_name", "neurons",
    "split", "mean_width", "max_width", "layer_seconds", "total_seconds", "cpu_seconds", "unproved",
    "time_limit",
)  # fmt: skip
RATIO_FIELDS = (
    "name", "shape", "reg", "eps", "layer", "layer_name", "neurons", "compared", "split_lp",
    "split_milp", "lp_mean_width", "milp_mean_width", "width_ratio", "neuron_ratio_median",
    "neuron_ratio_max", "ro_gap_upper_mean", "ro_gap_upper_max", "lp_seconds", "milp_seconds",
    "milp_unproved", "milp_budget_share", "symbolic_mean_width", "alpha_mean_width",
)  # fmt: skip


def fmt(value: float) -> str:
    return f"{value:.6g}"


def load_net(name: str):
    import pyomo_nn as pnn

    path = NETS / f"{name}.onnx"
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `python benchmarks/thesis/run.py train` first")
    return pnn.load_onnx(path)


def accuracy(net, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(net.predict(x) == y))


def rounding_rows(names: list[str], manifest: dict, x_test, y_test) -> list[dict[str, str]]:
    import pyomo_nn as pnn
    from pyomo_nn.transforms import pruning_threshold

    rows = []
    for name in names:
        net = load_net(name)
        before = accuracy(net, x_test, y_test)
        info = manifest[name]
        for eps, percent in [(eps, None) for eps in EPS] + [(None, p) for p in PERCENTS]:
            started = time.perf_counter()
            pruned = pnn.prune(net, eps=eps, percent=percent)
            if percent is not None:
                eps = pruning_threshold(net, percent)
            acc = accuracy(pruned, x_test, y_test)
            layers = pnn.sparsity(pruned)
            zeros = sum(layer.zeros for layer in layers)
            total = sum(layer.total for layer in layers)
            rows.append(
                {
                    "name": name,
                    "shape": info["shape"],
                    "reg": info["reg"],
                    "norm": info["norm"],
                    "lam": info["lam"],
                    "eps": f"{eps:g}",
                    "percent": "" if percent is None else f"{percent:g}",
                    "test_acc_before": f"{before:.4f}",
                    "test_acc": f"{acc:.4f}",
                    "acc_change_pp": f"{100 * (acc - before):+.1f}",
                    "zeroed_share": f"{zeros / total:.4f}",
                    "zeroed_by_layer": ";".join(f"{layer.fraction:.3f}" for layer in layers),
                    "seconds": f"{time.perf_counter() - started:.2f}",
                }
            )
            print(
                f"round {name} eps {eps:g}: acc {before:.3f} -> {acc:.3f}, zeroed {zeros / total:.1%}",
                flush=True,
            )
    return rows


def unproved_by_layer(caught: list[warnings.WarningMessage], method: str) -> dict[str, int]:
    """Solves without a bound per layer in ``method``'s own pass (a ``milp`` run warns about its
    LP pass too), from the package's BoundTighteningWarning messages."""
    counts: dict[str, int] = {}
    for item in caught:
        match = re.match(r"(\w+) bounds of layer '([^']+)': (\d+) of (\d+) solves", str(item.message))
        if match and match[1] == method:
            counts[match[2]] = counts.get(match[2], 0) + int(match[3])
    return counts


def run_method(net, domain, method: str, time_limit: float | None):
    """Bounds by ``method``, in this process (one core, so ``time.process_time`` is its CPU
    time: the machine's 2 cores are shared with other jobs), and the unproved solves."""
    import pyomo_nn as pnn
    from pyomo_nn.bounds.executors import InlineExecutor

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bounds = pnn.compute_bounds(
            net, domain, method=method, time_limit=time_limit, executor=InlineExecutor()
        )
    return bounds, unproved_by_layer(caught, method)


def layer_rows(
    base: dict, method: str, bounds, unproved: dict[str, int], time_limit, cpu: float
) -> list[dict]:
    rows = []
    for k, name in enumerate(bounds.layer_names):
        lo, hi = bounds.lower[k], bounds.upper[k]
        width = hi - lo
        rows.append(
            {
                **base,
                "method": method,
                "layer": str(k),
                "layer_name": name,
                "neurons": str(lo.size),
                "split": str(int(np.count_nonzero((lo < 0) & (hi > 0)))),
                "mean_width": fmt(float(width.mean())),
                "max_width": fmt(float(width.max())),
                "layer_seconds": fmt(bounds.layer_seconds[k]) if bounds.layer_seconds else "",
                "total_seconds": fmt(bounds.seconds),
                "cpu_seconds": fmt(cpu),
                "unproved": str(unproved.get(name, 0)),
                "time_limit": "" if time_limit is None else fmt(time_limit),
            }
        )
    return rows


def ratio_rows(base: dict, found: dict, milp_budget: float) -> list[dict]:
    """LP against MILP per layer, on the neurons the tightening passes work on: those split by
    the alpha bounds (every output neuron)."""
    lp, milp, alpha, symbolic = found["lp"], found["milp"], found["alpha"], found["symbolic"]
    last = len(lp.layer_names) - 1
    work = [
        k
        for k in range(len(lp.layer_names))
        if k > 0 and (k == last or np.any((lp.lower[k] < 0) & (lp.upper[k] > 0)))
    ]
    rows = []
    for k, name in enumerate(lp.layer_names):
        if k == 0:
            continue  # affine in the input: every method is exact there
        open_ = np.ones(lp.lower[k].size, bool) if k == last else (alpha.lower[k] < 0) & (alpha.upper[k] > 0)
        lw = (lp.upper[k] - lp.lower[k])[open_]
        mw = (milp.upper[k] - milp.lower[k])[open_]
        ratio = lw / np.maximum(mw, 1e-9)
        hu, mu = lp.upper[k][open_], milp.upper[k][open_]
        ro_gap = np.abs(hu - mu) / (np.abs(mu) + 1e-10)
        lp_s = lp.layer_seconds[k] if lp.layer_seconds else float("nan")
        milp_s = milp.layer_seconds[k] if milp.layer_seconds else float("nan")
        # Layer k's share of the time left is 2^k / sum_{j >= k} 2^j: when every layer uses its
        # share, that is 2^k / sum_j 2^j of the whole budget.
        share = 2.0**k / sum(2.0**j for j in work) if k in work else 0.0
        empty = not open_.any()
        rows.append(
            {
                **base,
                "layer": str(k),
                "layer_name": name,
                "neurons": str(lp.lower[k].size),
                "compared": str(int(open_.sum())),
                "split_lp": str(int(np.count_nonzero((lp.lower[k] < 0) & (lp.upper[k] > 0)))),
                "split_milp": str(int(np.count_nonzero((milp.lower[k] < 0) & (milp.upper[k] > 0)))),
                "lp_mean_width": "" if empty else fmt(float(lw.mean())),
                "milp_mean_width": "" if empty else fmt(float(mw.mean())),
                "width_ratio": "" if empty else fmt(float(lw.mean() / max(mw.mean(), 1e-9))),
                "neuron_ratio_median": "" if empty else fmt(float(np.median(ratio))),
                "neuron_ratio_max": "" if empty else fmt(float(ratio.max())),
                "ro_gap_upper_mean": "" if empty else fmt(float(ro_gap.mean())),
                "ro_gap_upper_max": "" if empty else fmt(float(ro_gap.max())),
                "lp_seconds": fmt(lp_s),
                "milp_seconds": fmt(max(milp_s - lp_s, 0.0)),
                "milp_unproved": str(found["milp_unproved"].get(name, 0)),
                "milp_budget_share": fmt(share * milp_budget),
                "symbolic_mean_width": ""
                if empty
                else fmt(float((symbolic.upper[k] - symbolic.lower[k])[open_].mean())),
                "alpha_mean_width": ""
                if empty
                else fmt(float((alpha.upper[k] - alpha.lower[k])[open_].mean())),
            }
        )
    return rows


def bounds_rows(name: str, eps: float, lp_limit: float, milp_budget: float) -> tuple[list[dict], list[dict]]:
    import pyomo_nn as pnn

    net = load_net(name)
    shape, reg = name.split("_", 1)
    if eps > 0:
        net = pnn.prune(net, eps=eps)
    layers = pnn.sparsity(net)
    base = {
        "name": name,
        "shape": shape,
        "reg": reg,
        "eps": f"{eps:g}",
        "zeroed_share": f"{sum(s.zeros for s in layers) / sum(s.total for s in layers):.4f}",
    }
    domain = pnn.Box(0.0, 1.0)
    found: dict = {}
    rows: list[dict] = []
    for method in (*PROPAGATION, "lp", "milp"):
        limit = {"lp": lp_limit, "milp": None}.get(method)
        if method == "milp":
            limit = found["lp"].seconds * 1.25 + 5.0 + milp_budget
        cpu = time.process_time()
        bounds, unproved = run_method(net, domain, method, limit)
        cpu = time.process_time() - cpu
        found[method] = bounds
        if method == "milp":
            found["milp_unproved"] = unproved
        rows += layer_rows(base, method, bounds, unproved, limit, cpu)
        split = sum(
            int(np.count_nonzero((lo < 0) & (hi > 0)))
            for lo, hi in zip(bounds.lower[:-1], bounds.upper[:-1], strict=True)
        )
        print(
            f"bounds {name} eps {eps:g} {method}: {bounds.seconds:.1f} s wall, {cpu:.1f} s cpu, "
            f"{split} split hidden neurons, {sum(unproved.values())} solves without a bound",
            flush=True,
        )
    base = {k: base[k] for k in ("name", "shape", "reg", "eps")}
    return rows, ratio_rows(base, found, milp_budget)


#: Bound configurations in the order they run until the budget is spent: (regularisation,
#: eps), each for every shape, smallest first.
BOUNDS_ORDER = (
    ("l1-2e-04", 0.1),
    ("none", 0.1),
    ("l1-2e-04", 0.01),
    ("none", 0.01),
    ("l2-2e-04", 0.1),
    ("l1-2e-04", 0.001),
    ("none", 0.001),
    ("l1-2e-04", 0.0001),
    ("none", 0.0001),
)
BOUNDS_SHAPES = ("100x10", "200x5", "800x2", "3000x1")


def write_csv(path: Path, fields: tuple[str, ...], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skip-rounding", action="store_true")
    parser.add_argument("--skip-bounds", action="store_true")
    parser.add_argument("--bounds-shapes", nargs="+", default=list(BOUNDS_SHAPES), choices=list(SHAPES))
    parser.add_argument(
        "--bounds-configs",
        nargs="+",
        default=[f"{reg}@{eps:g}" for reg, eps in BOUNDS_ORDER],
        help="REG@EPS in the order to run, each for every shape (default: %(default)s)",
    )
    parser.add_argument("--lp-time-limit", type=float, default=LP_TIME_LIMIT)
    parser.add_argument("--milp-budget", type=float, default=MILP_BUDGET)
    parser.add_argument(
        "--budget-minutes",
        type=float,
        default=BUDGET_MINUTES,
        help="wall-clock minutes for the whole run: no bound configuration starts after it",
    )
    parser.add_argument("--tag", default="", help="suffix of the CSV names (e.g. a reduced run)")
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # 2 cores shared with other jobs: one BLAS thread
    manifest = read_manifest()
    started = time.perf_counter()
    if not args.skip_rounding:
        _, _, x_test, y_test = load_split()
        names = [net_name(s, r) for s in SHAPES for r in REGS if net_name(s, r) in manifest]
        write_csv(
            RESULTS / f"rounding{args.tag}.csv",
            ROUNDING_FIELDS,
            rounding_rows(names, manifest, x_test, y_test),
        )
    rows: list[dict] = []
    ratios: list[dict] = []
    deadline = started + 60 * args.budget_minutes
    skipped = []
    for config in [] if args.skip_bounds else args.bounds_configs:
        reg, eps = config.split("@")
        for shape in args.bounds_shapes:
            name = net_name(shape, reg)
            manifest = read_manifest()  # train.py may still be adding networks
            # a configuration needs up to about 2.5 LP limits and the MILP budget
            left = deadline - time.perf_counter()
            lp_limit = min(args.lp_time_limit, (left - args.milp_budget) / 2.5)
            if name not in manifest or lp_limit < 30:
                skipped.append(f"{name}@{eps}")
                continue
            found, ratio = bounds_rows(name, float(eps), lp_limit, args.milp_budget)
            rows += found
            ratios += ratio
            write_csv(RESULTS / f"bounds{args.tag}.csv", BOUNDS_FIELDS, rows)
            write_csv(RESULTS / f"lp_vs_milp{args.tag}.csv", RATIO_FIELDS, ratios)
    if skipped:
        print(f"not run (budget or network missing): {' '.join(skipped)}", flush=True)
    print(f"chapter 2 done in {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
