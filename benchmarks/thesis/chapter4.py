"""The thesis' chapter 4 (the comparator) on the networks of ``train.py``: maxdiff and mineps.

Three parts, each written as CSV to ``benchmarks/thesis/results/chapter4_*.csv``:

``maxdiff`` (thesis 4.3.1, Tables/Figures 4.2-4.7): pairs of the four shapes (3000x1, 800x2,
200x5, 100x10; ``--reg``, default ``none``, the lambda = 0 networks; the thesis used L1 lambda
2e-4 rounded to 90 %, ``--reg l1-2e-04 --round 90``) over the region around one representative
x0_C per class (``--region simple``: B_inf(x0_C, 0.05) clipped to [0, 1]^784, the thesis'
``imgref_simple``; ``neighbours``: its ``imgref_neighbours``, ``pnn.Neighbourhood`` radius 2)
and over the whole box [0, 1]^784 (``--box-pairs``, the thesis' ``non_imgref``). The thesis
picked x0_C at random; here x0_C is the held-out test image (train.py's split) of class C
closest in L2 to the mean of its class among the images every network of the run classifies
correctly: deterministic and typical. Per problem, three solves, each with ``--time-limit``
seconds:

* ``milp_maxdiff``: the thesis' objective in logit space, ``||y_a(x) - y_b(x)||_1``
  (``pnn.Comparison(net_a, net_b, region, bounds=...)`` + ``objectives.MaxDiff("logits")``,
  HiGHS). The thesis maximised the L1 difference of *probabilities* (a MINLP it solved with
  Gurobi); the probability L1 difference at the input found is reported beside it.
* ``milp_gap`` and ``bab_gap``: the linear objective ``y_a[C] - y_b[C]`` (how much more
  network a believes the true class than network b), once as a MILP (the same Comparison
  with a small objective plug-in, ``LogitGap`` below) and once by
  ``pnn.branch_and_bound(pnn.bab.side_by_side(net_a, net_b), region, y[C] - y[10 + C])``.
  Branch and bound takes only linear objectives of the outputs, so the L1 maxdiff has no
  branch-and-bound counterpart; this pair is the like-for-like comparison.
* ``minlp_maxdiff_prob``: the thesis' own objective, the L1 difference of the softmax
  outputs (``MaxDiff("probabilities")``, an exact MINLP for SCIP), started from the last
  input found for the problem (branch and bound's) or the centre.

Bounds (``--bounds``, default ``auto``: alpha on these networks) are computed once per problem
and shared by its solves: per network for the Comparison, and for the side-by-side pair as
branch and bound's root (``bounds_seconds``, each). Per solve: status, incumbent, dual bound,
gap (absolute: dual bound - incumbent), seconds (build + solve for the MILP, the
branch-and-bound call; bounds not included), branches, and the class and top probability each
network gives the input found, re-computed with onnxruntime on the ONNX files (a rounded
network, ``--round``, has no file: pyomo-nn's numpy forward pass). The inputs found go to
``chapter4_maxdiff_inputs.npz``; ``figures`` draws them (like thesis figures 4.2-4.7) into
``results/figures/``.

``mineps`` (thesis 4.3.2, Figures 4.8-4.10): a 2x15 network (784 -> 15 -> 15 -> 10, trained
like train.py's networks, ``nets/15x2_none.onnx``, recorded in ``chapter4_net15x2.csv``)
against copies pruned to 5 %, 7.25 %, ..., 92.75 % of the weights (``pnn.prune(percent=p)``,
40 levels), for one representative x_d per digit (classified d by the network; the same
closest-to-the-mean rule): ``Comparison(net, pruned, LinfBall(x_d, --max-eps))`` +
``objectives.MinEps(true_class=d)``. Infeasible = certified: no input within ``--max-eps``
separates the networks.

    python benchmarks/thesis/chapter4.py all    # balls and box, neighbours, mineps, figures (~3 h on 2 cores)
    python benchmarks/thesis/chapter4.py maxdiff --pairs 800x2:200x5 --classes 0 1 2 --time-limit 20
    python benchmarks/thesis/chapter4.py mineps --digits 0 1 2 --time-limit 20
    python benchmarks/thesis/chapter4.py figures
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train import NETS, SHAPES, load_split

RESULTS = Path(__file__).resolve().parent / "results"
FIGURES = RESULTS / "figures"
#: The thesis' region size in chapter 4 (delta of ``simple``, eps of ``neighbours``).
RADIUS = 0.05
#: The thesis' pruning levels for mineps: 5 % to 92.75 % in steps of 2.25 % (40 levels).
PERCENTS = tuple(round(5.0 + 2.25 * i, 2) for i in range(40))
MINEPS_SHAPE = "15x2"
METHODS = ("milp_maxdiff", "milp_gap", "bab_gap", "minlp_maxdiff_prob")
ALL_PAIRS = tuple(f"{a}:{b}" for a, b in itertools.combinations(SHAPES, 2))

MAXDIFF_FIELDS = (
    "pair", "net_a", "net_b", "region", "true_class", "image", "method", "status", "objective",
    "dual_bound", "gap", "seconds", "bounds_seconds", "branches", "class_a", "prob_a", "class_b",
    "prob_b", "logit_l1", "prob_l1", "gap_at_x", "verified", "linf_from_x0",
)  # fmt: skip
MINEPS_FIELDS = (
    "digit", "image", "percent", "zeroed_share", "pruned_test_acc", "status", "eps", "dual_bound",
    "gap", "seconds", "class_net", "class_pruned", "verified",
)  # fmt: skip


def fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer, str)):
        return str(value)
    value = float(value)
    return "" if not np.isfinite(value) else f"{value:.6g}"


def write_csv(path: Path, fields: tuple[str, ...], rows: list[dict]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: fmt(row.get(k)) for k in fields})


class Nets:
    """An ONNX network with its pyomo-nn IR and an onnxruntime session (the re-check)."""

    def __init__(self, path: Path, net=None) -> None:
        import onnxruntime as ort

        import pyomo_nn as pnn

        self.path = path
        self.net = net if net is not None else pnn.load_onnx(path)
        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        #: The pruned copy actually compared (``--round``), or None for the file's network.
        self.rounded = None

    def logits(self, x: np.ndarray) -> np.ndarray:
        feed = {self.session.get_inputs()[0].name: np.asarray(x, np.float32).reshape(1, -1)}
        (out,) = self.session.run(None, feed)
        return out[0].astype(np.float64)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def representatives(x: np.ndarray, y: np.ndarray, predictors: list) -> dict[int, int]:
    """Per class C, the index of the image closest (L2) to the mean of class C among the images
    of class C that every predictor classifies correctly."""
    ok = np.ones(len(y), dtype=bool)
    for predict in predictors:
        ok &= predict(x) == y
    chosen = {}
    for c in range(10):
        idx = np.flatnonzero((y == c) & ok)
        mean = x[idx].mean(axis=0)
        chosen[c] = int(idx[np.argmin(np.linalg.norm(x[idx] - mean, axis=1))])
    return chosen


def logit_gap_objective(cls: int):
    """``y_a[cls] - y_b[cls]`` as an objective plug-in for ``pnn.Comparison`` (the package's
    MaxDiff is the L1 norm; branch and bound needs a linear objective)."""
    import pyomo.environ as pyo

    from pyomo_nn.objectives import Evaluation, Objective, SearchScore

    class LogitGap(Objective):
        name = "logit_gap"
        min_networks = 2
        max_networks = 2

        def __init__(self, cls: int) -> None:
            self.cls = cls

        def build(self, problem) -> None:
            a, b = problem.outputs(0), problem.outputs(1)
            problem.block.objective = pyo.Objective(expr=a[self.cls] - b[self.cls], sense=pyo.maximize)

        def search_score(self, problem, logits) -> SearchScore:
            first, second = np.zeros_like(logits[0]), np.zeros_like(logits[1])
            first[:, self.cls], second[:, self.cls] = 1.0, -1.0
            return SearchScore(logits[0][:, self.cls] - logits[1][:, self.cls], [first, second])

        def evaluate(self, problem, x, logits) -> Evaluation:
            return Evaluation(value=float(logits[0][self.cls] - logits[1][self.cls]), holds=True, details={})

    return LogitGap(cls)


def prepare(net: Nets, reg_round: float | None):
    import pyomo_nn as pnn

    return net.net if not reg_round else pnn.prune(net.net, percent=reg_round)


def outcome(a: Nets, b: Nets, x: np.ndarray, cls: int, x0: np.ndarray | None) -> dict:
    """Both networks at x by onnxruntime (the rounded networks' logits come from pyomo-nn's IR:
    they have no ONNX file)."""
    la = a.logits(x) if a.rounded is None else a.rounded.forward(x)
    lb = b.logits(x) if b.rounded is None else b.rounded.forward(x)
    pa, pb = softmax(la), softmax(lb)
    return {
        "class_a": int(np.argmax(la)),
        "prob_a": float(pa.max()),
        "class_b": int(np.argmax(lb)),
        "prob_b": float(pb.max()),
        "logit_l1": float(np.abs(la - lb).sum()),
        "prob_l1": float(np.abs(pa - pb).sum()),
        "gap_at_x": float(la[cls] - lb[cls]),
        "linf_from_x0": None if x0 is None else float(np.max(np.abs(x - x0))),
    }


def maxdiff(argv: list[str] | None = None) -> None:
    import pyomo_nn as pnn
    from pyomo_nn import objectives as obj

    parser = argparse.ArgumentParser(description="thesis 4.3.1: maxdiff between pairs of shapes")
    parser.add_argument("--pairs", nargs="*", default=list(ALL_PAIRS), help="a:b shape pairs")
    parser.add_argument("--classes", nargs="+", type=int, default=list(range(10)))
    parser.add_argument("--region", choices=("simple", "neighbours"), default="simple")
    parser.add_argument("--box-pairs", nargs="*", default=list(ALL_PAIRS), help="pairs also over [0,1]^784")
    parser.add_argument("--reg", default="none", help="regularisation of the networks (train.py REGS)")
    parser.add_argument("--round", type=float, default=0.0, help="prune every network to this %% first")
    parser.add_argument("--bounds", default="auto", help="bound method of the MILP (default auto = alpha)")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per solve")
    parser.add_argument(
        "--pair-bounds",
        choices=("pair", "assembled"),
        default="assembled",
        help="branch and bound's root: pnn.bab.side_by_side_bounds from the two networks' bounds "
        "(default; seconds where 'pair' takes minutes with 3000x1) or --bounds on the side-by-side "
        "pair (the first two runs)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS,
        default=list(METHODS),
        help="solves per problem, in this order (minlp_maxdiff_prob starts from the last input found)",
    )
    parser.add_argument("--tag", default="", help="suffix of the CSV / npz names")
    parser.add_argument("--threads", type=int, default=None, help="HiGHS threads per MILP (default: HiGHS')")
    args = parser.parse_args(argv)

    _, _, x_test, y_test = load_split()
    nets: dict[str, Nets] = {}
    for shape in {s for p in (*args.pairs, *args.box_pairs) for s in p.split(":")}:
        nets[shape] = Nets(NETS / f"{shape}_{args.reg}.onnx")
        nets[shape].rounded = prepare(nets[shape], args.round) if args.round else None
    used = lambda s: nets[s].rounded if nets[s].rounded is not None else nets[s].net  # noqa: E731
    reps = representatives(x_test, y_test, [used(s).predict for s in nets])
    rows: list[dict] = []
    inputs: dict[str, np.ndarray] = {}
    csv_path = RESULTS / f"chapter4_maxdiff{args.tag}.csv"
    npz_path = RESULTS / f"chapter4_maxdiff_inputs{args.tag}.npz"
    for c, i in reps.items():
        inputs[f"x0_{c}"] = x_test[i]
    jobs = [(p, args.region, c) for p in args.pairs for c in args.classes]
    jobs += [(p, "box", c) for p in args.box_pairs for c in args.classes[:1]]
    for pair, region_name, c in jobs:
        sa, sb = pair.split(":")
        a, b = nets[sa], nets[sb]
        x0 = x_test[reps[c]] if region_name != "box" else None
        if region_name == "simple":
            region = pnn.LinfBall(x0, eps=RADIUS, lower=0.0, upper=1.0)
        elif region_name == "neighbours":
            region = pnn.Neighbourhood(x0, eps=RADIUS, radius=2, shape=(28, 28))
        else:
            region = pnn.Box(0.0, 1.0)
        base = {"pair": pair, "net_a": sa, "net_b": sb, "region": region_name, "true_class": c,
                "image": reps[c] if x0 is not None else ""}  # fmt: skip
        # Bounds once per problem, shared by the solves (``bounds_seconds``): per network for the
        # Comparison, and for the side-by-side pair (branch and bound's root).
        started = time.perf_counter()
        net_bounds = [pnn.compute_bounds(used(s), region, method=args.bounds) for s in (sa, sb)]
        milp_bounds_seconds = time.perf_counter() - started
        pair_net = pnn.bab.side_by_side(used(sa), used(sb))
        found = None  # the last input found in this problem: the probability MINLP's start
        comparison = pnn.Comparison(used(sa), used(sb), region, bounds=net_bounds)
        for method in args.methods:
            started = time.perf_counter()
            row = dict(base, method=method)
            x = None
            if method != "bab_gap":
                start = None
                if method == "milp_maxdiff":
                    objective = obj.MaxDiff(space="logits")
                elif method == "minlp_maxdiff_prob":
                    objective, start = obj.MaxDiff(space="probabilities"), found
                else:
                    objective = logit_gap_objective(c)
                try:
                    res = comparison.solve(
                        objective, time_limit=args.time_limit, start=start, threads=args.threads
                    )
                except Exception as error:  # a failed solve is a row, not the end of the run
                    row.update(status=f"error: {type(error).__name__}: {error}"[:200])
                else:
                    x = res.x
                    row.update(
                        status=res.status, objective=res.objective, dual_bound=res.dual_bound,
                        gap=None if res.objective is None or res.dual_bound is None
                        else res.dual_bound - res.objective,
                        bounds_seconds=milp_bounds_seconds, verified=res.verified,
                    )  # fmt: skip
                row["seconds"] = time.perf_counter() - started
            else:
                # The side-by-side pair's root bounds, here rather than with the networks' so
                # that the MILP rows are written first (they are the slow part with 3000x1).
                y = pnn.bab.outputs(pair_net)
                if args.pair_bounds == "assembled":
                    pair_bounds = pnn.bab.side_by_side_bounds(used(sa), used(sb), *net_bounds)
                else:
                    pair_bounds = pnn.compute_bounds(pair_net, region, method=args.bounds)
                row["bounds_seconds"] = time.perf_counter() - started
                started = time.perf_counter()
                try:
                    res = pnn.branch_and_bound(
                        pair_net, region, y[c] - y[10 + c], time_limit=args.time_limit, bounds=pair_bounds
                    )
                except Exception as error:
                    row.update(status=f"error: {type(error).__name__}: {error}"[:200])
                else:
                    x = res.point
                    row.update(status=res.status, objective=res.lower, dual_bound=res.upper, gap=res.gap,
                               branches=res.branches)  # fmt: skip
                row["seconds"] = time.perf_counter() - started
            if x is not None:
                x = found = np.asarray(x, dtype=np.float64)
                row.update(outcome(a, b, x, c, x0))
                if method == "bab_gap":
                    error = abs(row["gap_at_x"] - row["objective"])
                    row["verified"] = error <= 1e-3 * (1 + abs(row["objective"]))
                inputs[f"{pair}|{region_name}|{c}|{method}"] = x
            rows.append(row)
            print(
                f"{pair:>14} {region_name:>10} class {c} {method:>12}: {row.get('status')} "
                f"obj {fmt(row.get('objective'))} dual {fmt(row.get('dual_bound'))} {row['seconds']:.1f} s "
                f"classes {row.get('class_a', '-')}/{row.get('class_b', '-')}",
                flush=True,
            )
            write_csv(csv_path, MAXDIFF_FIELDS, rows)
            np.savez_compressed(npz_path, **inputs)


def train_15x2() -> Path:
    """The mineps network (thesis 4.3.2): 784 -> 15 -> 15 -> 10, trained exactly like train.py's
    (its ``train_one`` with the shape added), kept if already there."""
    import train

    path = NETS / f"{MINEPS_SHAPE}_none.onnx"
    record = RESULTS / "chapter4_net15x2.csv"
    if path.exists() and record.exists():
        with record.open() as f:
            row = next(csv.DictReader(f))
        if row["sha256"] == train.sha256(path):
            return path
    train.SHAPES[MINEPS_SHAPE] = (15, 15)  # only in this process: train.py's grid is unchanged
    try:
        row = train.train_one(MINEPS_SHAPE, "none", train.load_split(), train.EPOCHS)
    finally:
        del train.SHAPES[MINEPS_SHAPE]
    write_csv(record, train.FIELDS, [row])
    print(f"{row['name']}: test {row['test_acc']} train {row['train_acc']} {row['train_seconds']} s")
    return path


def mineps(argv: list[str] | None = None) -> None:
    import pyomo_nn as pnn
    from pyomo_nn import objectives as obj

    parser = argparse.ArgumentParser(description="thesis 4.3.2: mineps of 15x2 against pruned copies")
    parser.add_argument("--digits", nargs="+", type=int, default=list(range(10)))
    parser.add_argument("--percents", nargs="+", type=float, default=list(PERCENTS))
    parser.add_argument("--max-eps", type=float, default=0.2, help="radius searched (the ball of the bounds)")
    parser.add_argument("--bounds", default="auto")
    parser.add_argument("--time-limit", type=float, default=8.0, help="seconds per problem")
    parser.add_argument("--tag", default="")
    parser.add_argument("--threads", type=int, default=None, help="HiGHS threads per MILP (default: HiGHS')")
    args = parser.parse_args(argv)

    path = train_15x2()
    net = Nets(path)
    _, _, x_test, y_test = load_split()
    reps = representatives(x_test, y_test, [net.net.predict])
    rows: list[dict] = []
    for percent in args.percents:
        pruned = pnn.prune(net.net, percent=percent)
        accuracy = float(np.mean(pruned.predict(x_test) == y_test))
        layers = pnn.sparsity(pruned)
        zeroed = sum(layer.zeros for layer in layers) / sum(layer.total for layer in layers)
        for d in args.digits:
            x0 = x_test[reps[d]]
            started = time.perf_counter()
            row = {"digit": d, "image": reps[d], "percent": percent, "zeroed_share": zeroed,
                   "pruned_test_acc": accuracy}  # fmt: skip
            ball = pnn.LinfBall(x0, eps=args.max_eps, lower=0.0, upper=1.0)
            comparison = pnn.Comparison(net.net, pruned, ball, bounds=args.bounds)
            res = comparison.solve(obj.MinEps(true_class=d), time_limit=args.time_limit, threads=args.threads)
            row.update(status=res.status, eps=res.objective, dual_bound=res.dual_bound, verified=res.verified,
                       seconds=time.perf_counter() - started)  # fmt: skip
            if res.objective is not None and res.dual_bound is not None:
                row["gap"] = res.objective - res.dual_bound
            if res.x is not None:
                row["class_net"] = int(np.argmax(net.logits(res.x)))
                row["class_pruned"] = int(np.argmax(pruned.forward(res.x)))
            rows.append(row)
            print(
                f"pruned {percent:6.2f}% (acc {accuracy:.3f}) digit {d}: {res.status} "
                f"eps {fmt(res.objective)} "
                f"dual {fmt(res.dual_bound)} {row['seconds']:.1f} s",
                flush=True,
            )
            write_csv(RESULTS / f"chapter4_mineps{args.tag}.csv", MINEPS_FIELDS, rows)


def figures(argv: list[str] | None = None) -> None:
    """Small PNGs of the maxdiff inputs (one row per pair: x0_C and the inputs found) and the
    mineps curve (eps against pruning percentage, with the pruned accuracy)."""
    parser = argparse.ArgumentParser(description="chapter 4 figures")
    parser.add_argument("--tag", default="")
    parser.add_argument(
        "--mineps-tags", nargs="*", default=None, help="mineps CSVs drawn together (default: --tag's)"
    )
    args = parser.parse_args(argv)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install 'pyomo-nn[plots]'): no figures")
        return
    FIGURES.mkdir(parents=True, exist_ok=True)
    npz = RESULTS / f"chapter4_maxdiff_inputs{args.tag}.npz"
    csv_path = RESULTS / f"chapter4_maxdiff{args.tag}.csv"
    if npz.exists() and csv_path.exists():
        inputs = dict(np.load(npz))
        with csv_path.open() as f:
            rows = list(csv.DictReader(f))
        for (pair, region, method), group in itertools.groupby(
            sorted(rows, key=lambda r: (r["pair"], r["region"], r["method"], int(r["true_class"]))),
            key=lambda r: (r["pair"], r["region"], r["method"]),
        ):
            group = [r for r in group if f"{pair}|{region}|{r['true_class']}|{method}" in inputs]
            if not group:
                continue
            figure, axes = plt.subplots(2, len(group), figsize=(1.3 * len(group) + 0.4, 3.0), squeeze=False)
            for k, r in enumerate(group):
                c = r["true_class"]
                found = inputs[f"{pair}|{region}|{c}|{method}"].reshape(28, 28)
                x0 = inputs.get(f"x0_{c}")
                axes[0, k].imshow(found, cmap="gray_r", vmin=0, vmax=1)
                axes[0, k].set_title(f"{c}: {r['class_a']}/{r['class_b']}", fontsize=8)
                if x0 is not None and region != "box":
                    moved = found - x0.reshape(28, 28)
                    # the neighbours region is a blur of x0 (up to ~0.8 away): scale to what moved
                    scale = RADIUS if region == "simple" else max(float(np.abs(moved).max()), RADIUS)
                    axes[1, k].imshow(moved, cmap="bwr", vmin=-scale, vmax=scale)
                for ax in axes[:, k]:
                    ax.set_xticks([])
                    ax.set_yticks([])
            axes[0, 0].set_ylabel("input", fontsize=8)
            axes[1, 0].set_ylabel("x - x0", fontsize=8)
            a, b = pair.split(":")
            figure.suptitle(f"{method}, {a} vs {b}, {region} (title: true: {a}/{b})", fontsize=8)
            figure.tight_layout()
            out = FIGURES / f"chapter4_{method}_{a}_vs_{b}_{region}{args.tag}.png"
            figure.savefig(out, dpi=80)
            plt.close(figure)
            print(f"wrote {out}")
    rows = []
    for tag in [args.tag] if args.mineps_tags is None else args.mineps_tags:
        mineps_csv = RESULTS / f"chapter4_mineps{tag}.csv"
        if mineps_csv.exists():
            with mineps_csv.open() as f:
                rows += list(csv.DictReader(f))
    if rows:
        rows.sort(key=lambda r: float(r["percent"]))
        figure, left = plt.subplots(figsize=(7, 4))
        for d in sorted({int(r["digit"]) for r in rows}):
            mine = [r for r in rows if int(r["digit"]) == d]
            p = np.array([float(r["percent"]) for r in mine])
            eps = np.array([float(r["eps"]) if r["eps"] else np.nan for r in mine])
            opt = np.array([r["status"] == "optimal" for r in mine])
            line = left.plot(p, eps, "-", alpha=0.4, label=f"digit {d}")[0]
            left.plot(p[opt], eps[opt], "o", color=line.get_color(), ms=4)
            left.plot(p[~opt], eps[~opt], "x", color=line.get_color(), ms=4)
        left.set_xlabel("weights pruned (%)")
        left.set_ylabel("minimal eps (o optimal, x best found)")
        right = left.twinx()
        acc = sorted({(float(r["percent"]), float(r["pruned_test_acc"])) for r in rows})
        right.plot([a for a, _ in acc], [b for _, b in acc], "k--", label="pruned accuracy")
        right.set_ylabel("test accuracy of the pruned 15x2")
        left.legend(loc="lower left", fontsize="x-small", ncol=2)
        figure.tight_layout()
        out = FIGURES / f"chapter4_mineps{''.join(args.mineps_tags or []) or args.tag}.png"
        figure.savefig(out, dpi=80)
        plt.close(figure)
        print(f"wrote {out}")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    steps = {"maxdiff": maxdiff, "mineps": mineps, "figures": figures}
    if not argv or argv[0] not in (*steps, "all"):
        raise SystemExit(__doc__)
    if argv[0] == "all":
        tag = argparse.ArgumentParser(add_help=False)
        tag.add_argument("--tag", default="")
        neighbours_tag = tag.parse_known_args(argv[1:])[0].tag + "_neighbours"
        maxdiff(argv[1:])
        maxdiff([*argv[1:], "--region", "neighbours", "--box-pairs", "--tag", neighbours_tag])
        mineps([])
        figures([])
        figures(["--tag", neighbours_tag])
    else:
        steps[argv[0]](argv[1:])


if __name__ == "__main__":
    main()
