"""A hydrogen plant of three auto-thermal reformer trains: one network per train, real decisions.

Each train A, B, C is a copy of OMLT's simulated reformer flowsheet (``examples/data/reformer.csv``)
scaled to 100 %, 80 % and 60 % of its size. The plant decides which trains run and, for each
running train, its bypass fraction and its natural-gas-to-steam ratio, to maximise the margin of
the syngas it sells, under a shared natural-gas supply, a shared steam supply and a limit on the
nitrogen in the blended product. Each train's flows are predicted by the ReLU network
``examples/data/reformer_flows_relu.onnx`` (written by ``python examples/train_reformer.py --target
flows``; validation R^2 >= 0.99998 on every output), loaded in engineering units with
``Network.scaled``, one :class:`pyomo_nn.NetworkBlock` per train on the train's own variables.

The numbers (flows in kmol/s, duty in kW, money in $/s):

=======================  ==========  ==============================================================
name                     value       meaning
=======================  ==========  ==============================================================
``SIZES``                1, .8, .6   capacity of trains A, B, C relative to the simulated flowsheet
``NG_FEED``              1.21186     natural gas a full-size train burns, kmol/s (every simulated
                                     point: the bypass only splits it between reformer and bypass)
``GAS_SUPPLY``           2.3         natural gas available, kmol/s: any two trains, not all three
``STEAM_SUPPLY``         2.0         steam the boilers can raise, kmol/s
``N2_MAX``               0.34        largest N2 mole fraction of the blended product (OMLT's limit)
``H2_PRICE``             4.0         $/kmol of H2 (2 $/kg x 2.016 kg/kmol)
``CO_PRICE``             1.1         $/kmol of CO, sold as fuel (283 MJ/kmol at 4 $/GJ)
``GAS_PRICE``            3.4         $/kmol of natural gas (4 $/GJ x 0.85 GJ/kmol)
``STEAM_PRICE``          0.27        $/kmol of steam (15 $/t x 18 kg/kmol)
``HEAT_PRICE``           4.7e-6      $/kJ of reformer duty (heat at 4 $/GJ from a furnace of 85 %)
``TRAIN_COST``           0.28        $/s of a running train (1000 $/h: operators, maintenance)
=======================  ==========  ==============================================================

Per train ``u`` (size ``s``): a binary ``on``; the bypass fraction ``bypass`` in [0.1, 0.8] and
the NG/steam ratio ``ratio`` in [0.8, 1.2], the network's inputs (the data's box); the network's
outputs ``out[k]`` for one full-size train: steam fed, reformer duty, product flow and its H2, CO
and N2 flows. What the train really does is ``flow[k] = s on out[k]``, a product of a binary and
a bounded variable, written exactly with the output bounds ``L <= out <= U`` the block computed:
``s L on <= flow <= s U on``, ``flow <= s (out - L (1 - on))``, ``flow >= s (out - U (1 - on))``.
A stopped train's inputs are pinned to the middle of the box (``|bypass - 0.45| <= 0.35 on``,
``|ratio - 1| <= 0.2 on``) so that it has one state. Plant rows: the running trains' gas
(``s NG_FEED on``) within ``GAS_SUPPLY``, their steam within ``STEAM_SUPPLY``, and N2 of the blend
``sum N2 flow <= N2_MAX sum product flow``. Objective: H2 and CO sold minus gas, steam, heat and
running costs.

    python examples/reformer_plant.py [--solver highs] [--config solver.toml] [--time-limit 120]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyomo.environ as pyo

import pyomo_nn as pnn

DATA_DIR = Path(__file__).resolve().parent / "data"
FLOWS_ONNX = DATA_DIR / "reformer_flows_relu.onnx"
FLOWS_SCALING = DATA_DIR / "reformer_flows_scaling.json"

SIZES = {"A": 1.0, "B": 0.8, "C": 0.6}
NG_FEED = 1.21186
GAS_SUPPLY = 2.3
STEAM_SUPPLY = 2.0
N2_MAX = 0.34
H2_PRICE = 4.0
CO_PRICE = 1.1
GAS_PRICE = 3.4
STEAM_PRICE = 0.27
HEAT_PRICE = 4.7e-6
TRAIN_COST = 0.28
#: The network's outputs, in its order (names of ``reformer_flows_scaling.json``'s outputs).
FLOWS = ("steam", "duty", "product", "h2", "co", "n2")
#: Nominal point a stopped train's inputs are pinned to, and the half-widths of the input box.
NOMINAL = {"bypass": (0.45, 0.35), "ratio": (1.0, 0.2)}
#: The input box of every train (the simulated data's): bypass fraction, NG/steam ratio.
INPUT_BOX = pnn.Box([0.1, 0.8], [0.8, 1.2])
#: Bound method of the Big-M constants: LP tightening costs ~0.1 s here and halves HiGHS' time
#: against the default (``--bounds default``).
BOUND_METHOD = "lp"


def load_flows_network() -> pnn.Network:
    """The flows network in engineering units: the ONNX file with its scaling folded in."""
    scaling = json.loads(FLOWS_SCALING.read_text())
    return pnn.load_onnx(FLOWS_ONNX).scaled(
        input_offset=scaling["input_offset"],
        input_factor=scaling["input_factor"],
        output_offset=scaling["output_offset"],
        output_factor=scaling["output_factor"],
    )


def add_train_rows(
    unit: pyo.Block,
    size: float,
    bypass: pyo.Var,
    ratio: pyo.Var,
    out: list,
    lower: np.ndarray,
    upper: np.ndarray,
) -> None:
    """The train's binary ``on``, its real flows ``flow[k] = size on out[k]`` (exact, with the
    output bounds ``lower``/``upper``) and the pinning of a stopped train's inputs."""
    unit.on = pyo.Var(domain=pyo.Binary)
    unit.flow = pyo.Var(FLOWS)
    lo = {k: float(lower[i]) for i, k in enumerate(FLOWS)}
    hi = {k: float(upper[i]) for i, k in enumerate(FLOWS)}
    o = dict(zip(FLOWS, out, strict=True))
    unit.flow_min = pyo.Constraint(FLOWS, rule=lambda b, k: b.flow[k] >= size * lo[k] * b.on)
    unit.flow_max = pyo.Constraint(FLOWS, rule=lambda b, k: b.flow[k] <= size * hi[k] * b.on)
    unit.flow_below = pyo.Constraint(FLOWS, rule=lambda b, k: b.flow[k] <= size * (o[k] - lo[k] * (1 - b.on)))
    unit.flow_above = pyo.Constraint(FLOWS, rule=lambda b, k: b.flow[k] >= size * (o[k] - hi[k] * (1 - b.on)))
    (b_mid, b_half), (r_mid, r_half) = NOMINAL["bypass"], NOMINAL["ratio"]
    pins = {"bypass": (bypass, b_mid, b_half), "ratio": (ratio, r_mid, r_half)}
    unit.pin_below = pyo.Constraint(
        list(pins), rule=lambda b, n: pins[n][0] - pins[n][1] <= pins[n][2] * b.on
    )
    unit.pin_above = pyo.Constraint(
        list(pins), rule=lambda b, n: pins[n][1] - pins[n][0] <= pins[n][2] * b.on
    )


def add_plant_rows(m: pyo.ConcreteModel) -> None:
    """Shared gas and steam supplies, the N2 limit of the blend, and the margin to maximise;
    ``m.units[u]`` must hold each train's rows (:func:`add_train_rows`)."""
    units = m.units
    m.gas = pyo.Expression(expr=sum(SIZES[u] * NG_FEED * units[u].on for u in SIZES))
    m.total = pyo.Expression(FLOWS, rule=lambda m, k: sum(units[u].flow[k] for u in SIZES))
    m.gas_supply = pyo.Constraint(expr=m.gas <= GAS_SUPPLY)
    m.steam_supply = pyo.Constraint(expr=m.total["steam"] <= STEAM_SUPPLY)
    m.n2_limit = pyo.Constraint(expr=m.total["n2"] <= N2_MAX * m.total["product"])
    m.margin = pyo.Objective(
        expr=H2_PRICE * m.total["h2"]
        + CO_PRICE * m.total["co"]
        - GAS_PRICE * m.gas
        - STEAM_PRICE * m.total["steam"]
        - HEAT_PRICE * m.total["duty"]
        - TRAIN_COST * sum(units[u].on for u in SIZES),
        sense=pyo.maximize,
    )


def build_plant(net: pnn.Network, method: str | None = BOUND_METHOD) -> pyo.ConcreteModel:
    """The plant: per train ``m.units[u]`` its inputs ``bypass``/``ratio``, the network's outputs
    ``out`` and a NetworkBlock ``reformer`` on them, then the plant's rows. The trains share one
    network and one input box, so the Big-M constants are computed once (by ``method``; None: the
    package's default) and shared by the three blocks."""
    if method is None:
        bounds = pnn.compute_bounds(net, INPUT_BOX)
    else:
        bounds = pnn.compute_bounds(net, INPUT_BOX, method=method)
    box_lower, box_upper = INPUT_BOX.box(net.input_size)
    m = pyo.ConcreteModel()
    m.units = pyo.Block(list(SIZES))
    for u, size in SIZES.items():
        unit = m.units[u]
        unit.bypass = pyo.Var(bounds=(box_lower[0], box_upper[0]))
        unit.ratio = pyo.Var(bounds=(box_lower[1], box_upper[1]))
        unit.out = pyo.Var(FLOWS)
        unit.reformer = pnn.NetworkBlock(net, bounds, inputs=[unit.bypass, unit.ratio], outputs=unit.out)
        lower, upper = unit.reformer.output_bounds()
        add_train_rows(unit, size, unit.bypass, unit.ratio, list(unit.out.values()), lower, upper)
    add_plant_rows(m)
    return m


@dataclass
class TrainReport:
    """One train at the solution, in plant units (its size applied)."""

    name: str
    running: bool
    bypass: float
    ratio: float
    flows: dict[str, float]  # flow[k] of the model
    reference: dict[str, float]  # size x onnxruntime's prediction at (bypass, ratio)


def report(m: pyo.ConcreteModel, net: pnn.Network) -> list[TrainReport]:
    """Each train's decision, its flows in the model and by onnxruntime (scaled by its size)."""
    trains = []
    for u, size in SIZES.items():
        unit = m.units[u]
        x = np.array([pyo.value(unit.bypass), pyo.value(unit.ratio)])
        running = pyo.value(unit.on) > 0.5
        reference = size * net.source.run(x)[0] if running else np.zeros(len(FLOWS))
        trains.append(
            TrainReport(
                name=u,
                running=running,
                bypass=float(x[0]),
                ratio=float(x[1]),
                flows={k: float(pyo.value(unit.flow[k])) for k in FLOWS},
                reference=dict(zip(FLOWS, reference.tolist(), strict=True)),
            )
        )
    return trains


#: Columns of the printed table: title, unit, width.
COLUMNS = (
    ("train", "", 6),
    ("size", "", 5),
    ("running", "", 8),
    ("bypass", "fraction", 9),
    ("NG/steam", "ratio", 9),
    ("gas in", "kmol/s", 8),
    ("steam in", "kmol/s", 9),
    ("duty", "MW", 7),
    ("product", "kmol/s", 8),
    ("H2 out", "kmol/s", 8),
    ("CO out", "kmol/s", 8),
    ("N2 out", "kmol/s", 8),
)


def _row(cells: list[str]) -> str:
    return "".join(
        f"{cell:<{width}}" if k < 3 else f"{cell:>{width}}"
        for k, (cell, (_, _, width)) in enumerate(zip(cells, COLUMNS, strict=True))
    )


def print_report(m: pyo.ConcreteModel, trains: list[TrainReport], result: pnn.Result) -> None:
    """The decision per train, the plant's balances and the margin, each with its meaning."""
    print(f"solver {result.solver}: {result.status}, {result.wall_time:.2f} s, gap {result.gap or 0:.1e}")
    print()
    print("per train: the decision (running, bypass fraction, NG/steam ratio) and the train's own flows")
    print("(its size times the network's prediction for one full-size train)")
    print(_row([title for title, _, _ in COLUMNS]))
    print(_row([unit for _, unit, _ in COLUMNS]))
    for t in trains:
        f = {k: round(v, 9) + 0.0 for k, v in t.flows.items()}  # no "-0.000" for a stopped train
        gas = SIZES[t.name] * NG_FEED if t.running else 0.0
        decision = [f"{t.bypass:.4f}", f"{t.ratio:.4f}"] if t.running else ["-", "-"]
        print(
            _row(
                [t.name, f"{SIZES[t.name]:.0%}", "yes" if t.running else "no", *decision, f"{gas:.3f}"]
                + [f"{f['steam']:.3f}", f"{f['duty'] / 1000:.2f}"]
                + [f"{f[k]:.3f}" for k in ("product", "h2", "co", "n2")]
            )
        )
    total = {k: pyo.value(m.total[k]) for k in FLOWS}
    print()
    print(
        f"plant: natural gas {pyo.value(m.gas):.3f} of {GAS_SUPPLY} kmol/s, steam {total['steam']:.3f} of "
        f"{STEAM_SUPPLY} kmol/s; blended product {total['product']:.3f} kmol/s with mole fractions "
        f"H2 {total['h2'] / total['product']:.4f}, N2 {total['n2'] / total['product']:.4f} (at most {N2_MAX})"
    )
    terms = {
        "H2 sold": H2_PRICE * total["h2"],
        "CO sold as fuel": CO_PRICE * total["co"],
        "natural gas": -GAS_PRICE * pyo.value(m.gas),
        "steam": -STEAM_PRICE * total["steam"],
        "reformer heat": -HEAT_PRICE * total["duty"],
        "running trains": -TRAIN_COST * sum(t.running for t in trains),
    }
    print("margin in $/s: " + ", ".join(f"{name} {value:+.3f}" for name, value in terms.items()))
    print(f"  = {pyo.value(m.margin):.4f} $/s ({pyo.value(m.margin) * 3600:,.0f} $/h)")
    print()
    worst = max(
        (abs(t.flows[k] - t.reference[k]) / max(abs(t.reference[k]), 1.0) for t in trains for k in FLOWS),
        default=0.0,
    )
    print(
        "check: onnxruntime on the original file at each running train's decision, times the train's "
        f"size, differs from the model's flows by at most {worst:.1e} (relative); the re-check of every "
        f"block by pnn.solve {'passed' if result.verified else 'FAILED'}"
    )


def solver_config(args: argparse.Namespace) -> pnn.SolverConfig:
    if args.config is not None:
        return pnn.SolverConfig.from_file(args.config)
    return pnn.SolverConfig(name=args.solver, time_limit=args.time_limit, mip_gap=args.mip_gap)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solver", default="highs", help="any Pyomo MILP solver name (default highs)")
    parser.add_argument("--config", type=Path, help="a solver TOML file (replaces --solver and the limits)")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds (default 120)")
    parser.add_argument("--mip-gap", type=float, default=1e-6, help="relative MIP gap (default 1e-6)")
    parser.add_argument(
        "--bounds",
        default=BOUND_METHOD,
        help=f"bound method of the Big-M constants (default {BOUND_METHOD}; 'default': pyomo-nn's default)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    net = load_flows_network()
    start = time.perf_counter()
    m = build_plant(net, None if args.bounds == "default" else args.bounds)
    built = time.perf_counter() - start
    binaries = sum(s.binaries for u in SIZES for s in m.units[u].reformer.stats)
    print(
        f"three reformer trains, one network each ({binaries} ReLU binaries in all, "
        f"{m.units['A'].reformer.bounds.method} bounds), built in {built:.2f} s"
    )
    result = pnn.solve(m, solver_config(args))
    print_report(m, report(m, net), result)
    return 0 if result.verified else 1


if __name__ == "__main__":
    raise SystemExit(main())
