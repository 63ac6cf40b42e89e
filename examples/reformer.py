"""OMLT's auto-thermal reformer problem with a ReLU surrogate: the most hydrogen under a nitrogen limit.

An auto-thermal reformer turns natural gas, steam and air into syngas. Two settings are decided:
the bypass fraction (the share of the natural gas that bypasses the reformer, 0.1-0.8) and the
natural gas to steam ratio (0.8-1.2). A ReLU network (``examples/data/reformer_relu.onnx``, trained
by ``examples/train_reformer.py`` on the 2,800 simulated points of ``examples/data/reformer.csv``)
predicts 12 outputs of the flowsheet from them; this script maximises the H2 mole fraction of the
product subject to its N2 mole fraction being at most 0.34, as in OMLT's notebook.

The network maps standardised inputs to standardised outputs; ``Network.scaled`` folds the
scaling of ``reformer_scaling.json`` into it, so the model is written in engineering units on the
user's own variables, with no scaling or linking rows::

    net = pnn.load_onnx("reformer_relu.onnx").scaled(input_offset=..., input_factor=...,
                                                     output_offset=..., output_factor=...)
    m.reformer = pnn.NetworkBlock(net, inputs=[m.bypass, m.ratio], outputs=m.y)

It prints the decision, the network's prediction there in the MILP, onnxruntime's prediction at
the decision (from the original ONNX file), and the nearest simulated data point, so the
surrogate's error can be seen next to the answer. OMLT published bypass 0.1, ratio 1.1405,
H2 0.33255 for a network of its own training.

    python examples/reformer.py [--solver highs|cbc|glpk|scip_direct|...] [--config solver.toml]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np
import pyomo.environ as pyo

import pyomo_nn as pnn

DATA_DIR = Path(__file__).resolve().parent / "data"
ONNX_PATH = DATA_DIR / "reformer_relu.onnx"
SCALING_PATH = DATA_DIR / "reformer_scaling.json"
CSV_PATH = DATA_DIR / "reformer.csv"
#: Largest N2 mole fraction of the product (OMLT's constraint).
N2_MAX = 0.34


def load_network() -> tuple[pnn.Network, dict]:
    """The surrogate in engineering units, and its scaling file (names, input box)."""
    scaling = json.loads(SCALING_PATH.read_text())
    net = pnn.load_onnx(ONNX_PATH).scaled(
        input_offset=scaling["input_offset"],
        input_factor=scaling["input_factor"],
        output_offset=scaling["output_offset"],
        output_factor=scaling["output_factor"],
    )
    return net, scaling


def build_model(net: pnn.Network, scaling: dict) -> pyo.ConcreteModel:
    """Maximise H2 subject to N2 <= N2_MAX, on the user's variables."""
    names = scaling["outputs"]
    (bypass_lo, ratio_lo), (bypass_hi, ratio_hi) = scaling["input_lower"], scaling["input_upper"]
    m = pyo.ConcreteModel()
    m.bypass = pyo.Var(bounds=(bypass_lo, bypass_hi), doc="bypass fraction")
    m.ratio = pyo.Var(bounds=(ratio_lo, ratio_hi), doc="natural gas to steam ratio")
    m.y = pyo.Var(names, doc="the network's outputs, by name")
    m.reformer = pnn.NetworkBlock(net, inputs=[m.bypass, m.ratio], outputs=m.y)
    m.h2 = pyo.Objective(expr=m.y["H2"], sense=pyo.maximize)
    m.n2 = pyo.Constraint(expr=m.y["N2"] <= N2_MAX)
    return m


def nearest_data_point(x: np.ndarray, scaling: dict) -> tuple[np.ndarray, dict[str, float]]:
    """The simulated point whose inputs are nearest to ``x`` (distance in standard deviations)."""
    with CSV_PATH.open(newline="") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader)]
        rows = np.array([[float(value) for value in row] for row in reader])
    column = {name: i for i, name in enumerate(header)}
    inputs = rows[:, [column[name] for name in scaling["inputs"]]]
    distance = np.linalg.norm((inputs - x) / np.asarray(scaling["input_factor"]), axis=1)
    best = rows[int(np.argmin(distance))]
    outputs = {name: float(best[column[name]]) for name in ("H2", "N2")}
    return best[[column[name] for name in scaling["inputs"]]], outputs


def solver_config(args: argparse.Namespace) -> pnn.SolverConfig:
    if args.config is not None:
        return pnn.SolverConfig.from_file(args.config)
    return pnn.SolverConfig(name=args.solver, time_limit=args.time_limit, mip_gap=args.mip_gap)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solver", default="highs", help="any Pyomo MILP solver name (default highs)")
    parser.add_argument("--config", type=Path, help="a solver TOML file (replaces --solver and the limits)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument("--mip-gap", type=float, default=1e-6, help="relative MIP gap (default 1e-6)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    net, scaling = load_network()
    m = build_model(net, scaling)
    result = pnn.solve(m, solver_config(args))
    x = np.array([pyo.value(m.bypass), pyo.value(m.ratio)])
    milp = {name: pyo.value(m.y[name]) for name in ("H2", "N2")}
    reference = dict(zip(scaling["outputs"], net.source.run(x)[0], strict=True))
    data_x, data_y = nearest_data_point(x, scaling)
    print(f"solver {result.solver}: {result.status} in {result.wall_time:.2f} s, gap {result.gap or 0:.1e}")
    print(f"decision:                      bypass fraction {x[0]:.5f}, NG steam ratio {x[1]:.5f}")
    print(f"prediction in the MILP:        H2 {milp['H2']:.6f}, N2 {milp['N2']:.6f}")
    print(f"onnxruntime at the decision:   H2 {reference['H2']:.6f}, N2 {reference['N2']:.6f}")
    print(
        f"nearest simulated data point:  bypass fraction {data_x[0]:.5f}, NG steam ratio {data_x[1]:.5f}: "
        f"H2 {data_y['H2']:.6f}, N2 {data_y['N2']:.6f}"
    )
    print("OMLT's published answer:       bypass fraction 0.1, NG steam ratio 1.1405: H2 0.33255, N2 0.34")
    print(f"re-check of the block against onnxruntime: {'passed' if result.verified else 'FAILED'}")
    return 0 if result.verified else 1


if __name__ == "__main__":
    raise SystemExit(main())
