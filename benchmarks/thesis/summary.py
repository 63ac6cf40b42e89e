"""Print the markdown tables of docs/thesis.md from the CSVs in ``benchmarks/thesis/results/``.

python benchmarks/thesis/run.py summary
python benchmarks/thesis/summary.py _3000x1_800x2 _800x2_100x10 --mineps _reduced _extended  # + chapter 4
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train import REGS, SHAPES

RESULTS = Path(__file__).resolve().parent / "results"


def read(name: str) -> list[dict[str, str]]:
    path = RESULTS / name
    if not path.exists():
        return []
    with path.open() as f:
        return list(csv.DictReader(f))


def rounding_table(rows: list[dict[str, str]]) -> str:
    eps = sorted({r["eps"] for r in rows if not r.get("percent")}, key=float)
    percents = sorted({r["percent"] for r in rows if r.get("percent")}, key=float)
    lines = [
        "| network | test acc | "
        + " | ".join(f"eps {e}: zeroed, acc change" for e in eps)
        + "".join(f" | {p}% zeroed: eps, acc change" for p in percents)
        + " |",
        "|---|---|" + "---|" * (len(eps) + len(percents)),
    ]
    by_net: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
    for r in rows:
        by_net[r["name"]][r["eps"] if not r.get("percent") else "p" + r["percent"]] = r
    order = [f"{s}_{g}" for s in SHAPES for g in REGS]
    for name in sorted(by_net, key=lambda n: order.index(n) if n in order else len(order)):
        cells = by_net[name]
        first = next(iter(cells.values()))
        lines.append(
            f"| {name} | {100 * float(first['test_acc_before']):.1f}% | "
            + " | ".join(
                f"{100 * float(cells[e]['zeroed_share']):.1f}%, {cells[e]['acc_change_pp']} pp"
                if e in cells
                else "-"
                for e in eps
            )
            + "".join(
                f" | {float(cells['p' + p]['eps']):.3g}, {cells['p' + p]['acc_change_pp']} pp"
                if "p" + p in cells
                else " | -"
                for p in percents
            )
            + " |"
        )
    return "\n".join(lines)


def bounds_table(bounds: list[dict[str, str]], ratios: list[dict[str, str]]) -> str:
    lines = [
        "| network | eps | zeroed | split hidden: alpha / lp / milp | cpu s: symbolic / alpha / lp"
        " / milp | solves without any bound: lp / milp | output width: symbolic / alpha / lp / milp"
        " | LP/MILP width, largest over layers where every MILP gave a bound (per neuron) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    runs: dict[tuple[str, str], dict[str, list[dict[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for r in bounds:
        runs[r["name"], r["eps"]][r["method"]].append(r)
    ratio_of: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for r in ratios:
        ratio_of[r["name"], r["eps"]].append(r)
    for (name, eps), methods in runs.items():
        if "milp" not in methods:
            continue

        def split(method: str, methods=methods) -> int:
            return sum(int(r["split"]) for r in methods[method][:-1])

        def cpu(method: str, methods=methods) -> str:
            return f"{float(methods[method][0]['cpu_seconds']):.1f}"

        def out(method: str, methods=methods) -> str:
            return f"{float(methods[method][-1]['mean_width']):.3g}"

        unproved = sum(int(r["unproved"]) for r in methods["milp"])
        lp_unproved = sum(int(r["unproved"]) for r in methods["lp"])
        solves = sum(2 * int(r["compared"]) for r in ratio_of[name, eps])
        proved = [r for r in ratio_of[name, eps] if r["milp_unproved"] == "0" and r["width_ratio"]]
        ratio = (
            f"{max(float(r['width_ratio']) for r in proved):.3f} "
            f"({max(float(r['neuron_ratio_max']) for r in proved):.3f}), {len(proved)} layers"
            if proved
            else "-"
        )
        lines.append(
            f"| {name} | {eps} | {100 * float(methods['lp'][0]['zeroed_share']):.1f}% "
            f"| {split('alpha')} / {split('lp')} / {split('milp')} "
            f"| {cpu('symbolic')} / {cpu('alpha')} / {cpu('lp')} / {cpu('milp')} "
            f"| {lp_unproved} / {unproved} of {solves} "
            f"| {out('symbolic')} / {out('alpha')} / {out('lp')} / {out('milp')} | {ratio} |"
        )
    return "\n".join(lines)


def split_table(tagged: dict[str, list[dict[str, str]]]) -> str:
    """Per layer: the nominal MILP budget (2^m split), MILP seconds, solves without a bound and
    the LP/MILP width ratio, for each MILP budget."""
    lines = [
        "| network | MILP budget s | layer | split (lp) | nominal layer budget s | milp s (wall) "
        "| solves without a bound | LP/MILP width (largest neuron) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for budget, rows in tagged.items():
        for r in rows:
            every = int(r["milp_unproved"]) >= 2 * int(r["compared"])
            ratio = (
                f"{float(r['width_ratio']):.3f} ({float(r['neuron_ratio_max']):.3f})"
                if r["width_ratio"] and not every
                else "-"
            )
            lines.append(
                f"| {r['name']} eps {r['eps']} | {budget} | {r['layer']} | {r['split_lp']} "
                f"| {float(r['milp_budget_share']):.1f} | {float(r['milp_seconds']):.1f} "
                f"| {r['milp_unproved']} of {2 * int(r['compared'])} | {ratio} |"
            )
    return "\n".join(lines)


def _g(value: str, digits: int = 4) -> str:
    return "-" if value in ("", None) else f"{float(value):.{digits}g}"


def _f(value: str, spec: str) -> str:
    return "-" if value in ("", None) else format(float(value), spec)


def chapter4_table(tag: str) -> str:
    """One docs/thesis.md chapter-4 maxdiff table from ``chapter4_maxdiff{tag}.csv`` and its
    inputs: per problem the three solves (incumbent and dual bound), branch and bound's
    branches, the classes both networks give its input, and the share of x0_C's background
    pixels (x0 = 0) it moved by more than 0.04."""
    import numpy as np

    rows = read(f"chapter4_maxdiff{tag}.csv")
    npz = RESULTS / f"chapter4_maxdiff_inputs{tag}.npz"
    inputs = dict(np.load(npz)) if npz.exists() else {}
    problems: dict[tuple, dict[str, dict[str, str]]] = defaultdict(dict)
    for r in rows:
        problems[(r["pair"], r["region"], int(r["true_class"]))][r["method"]] = r
    lines = [
        "| region, class | MILP maxdiff: logit L1 (dual bound) | MILP y_a[C] - y_b[C] (dual) "
        "| BaB y_a[C] - y_b[C] (dual), branches | classes a/b at BaB x, prob L1 "
        "| background pixels BaB moved > 0.04 | bounds s: MILP / BaB |",
        "|---|---|---|---|---|---|---|",
    ]
    for (pair, region, c), solves in problems.items():
        md, mg, bb = (solves.get(m, {}) for m in ("milp_maxdiff", "milp_gap", "bab_gap"))
        moved = "-"
        x = inputs.get(f"{pair}|{region}|{c}|bab_gap")
        x0 = inputs.get(f"x0_{c}")
        if x is not None and x0 is not None and region != "box":
            moved = f"{np.mean(np.abs(x - x0)[x0 == 0] > 0.04):.0%}"
        name = f"{region} {c}" if region != "box" else f"box, {pair}, objective class {c}"
        lines.append(
            f"| {name} | {_g(md.get('objective', ''))} ({_g(md.get('dual_bound', ''))}) "
            f"| {_g(mg.get('objective', ''))} ({_g(mg.get('dual_bound', ''))}) "
            f"| {_g(bb.get('objective', ''))} ({_g(bb.get('dual_bound', ''))}), {bb.get('branches') or '-'} "
            f"| {bb.get('class_a', '-')}/{bb.get('class_b', '-')}, {_f(bb.get('prob_l1', ''), '.3f')} "
            f"| {moved} | {_f(md.get('bounds_seconds', ''), '.0f')} "
            f"/ {_f(bb.get('bounds_seconds', ''), '.0f')} |"
        )
    return "\n".join(lines)


def mineps_table(tags: list[str]) -> str:
    """The docs/thesis.md mineps table from ``chapter4_mineps{tag}.csv`` (several runs merged,
    one row per pruning level): best eps found per digit (``~``: stopped at the time limit, an
    upper bound; ``none``: no separating input found), and the pruned copy's test accuracy."""
    rows = [r for tag in tags for r in read(f"chapter4_mineps{tag}.csv")]
    levels: dict[float, dict[str, dict[str, str]]] = defaultdict(dict)
    for r in rows:
        levels[float(r["percent"])][r["digit"]] = r
    digits = sorted({r["digit"] for r in rows}, key=int)
    lines = [
        "| pruned % | weights zeroed | pruned test acc | " + " | ".join(f"digit {d}" for d in digits) + " |",
        "|---|---|---|" + "---|" * len(digits),
    ]
    for percent in sorted(levels):
        cells = levels[percent]
        first = next(iter(cells.values()))
        out = []
        for d in digits:
            r = cells.get(d)
            if r is None:
                out.append("-")
            elif not r["eps"]:
                out.append("none")
            else:
                out.append(("" if r["status"] == "optimal" else "~") + f"{float(r['eps']):.3f}")
        lines.append(
            f"| {percent:g} | {float(first['zeroed_share']):.1%} | {float(first['pruned_test_acc']):.1%} | "
            + " | ".join(out)
            + " |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    print("## rounding\n")
    print(rounding_table(read("rounding.csv")))
    print("\n## bounds over [0, 1]^784\n")
    print(bounds_table(read("bounds.csv"), read("lp_vs_milp.csv")))
    tagged = {b: read(f"lp_vs_milp_timelimit{b}.csv") for b in ("60", "240")}
    if any(tagged.values()):
        print("\n## MILP budget and its exponential split (200x5, eps 0.04)\n")
        print(split_table(tagged))
    argv = list(argv or ())
    mineps_tags = argv[argv.index("--mineps") + 1 :] if "--mineps" in argv else []
    for tag in argv[: argv.index("--mineps")] if "--mineps" in argv else argv:
        print(f"\n## chapter 4 maxdiff, chapter4_maxdiff{tag}.csv\n")
        print(chapter4_table(tag))
    if mineps_tags:
        print(f"\n## chapter 4 mineps, {', '.join(f'chapter4_mineps{t}.csv' for t in mineps_tags)}\n")
        print(mineps_table(mineps_tags))


if __name__ == "__main__":
    main(sys.argv[1:])
