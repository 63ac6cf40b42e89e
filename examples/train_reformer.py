"""Train OMLT's auto-thermal reformer surrogate (a ReLU regression network) and export it to ONNX.

The data (``examples/data/reformer.csv``, see ``examples/data/README.md``) are 2,800 points of a
process simulation: two inputs (bypass fraction, natural gas to steam ratio) and the reformer's
outputs. As in OMLT's example, inputs and outputs are standardised by their mean and standard
deviation and the scaling is kept *outside* the network: the ONNX file maps scaled inputs to
scaled outputs, and the scaling is written next to it as JSON. Needs the ``train`` extra
(``pip install -e ".[train]"``). One command rewrites the shipped files exactly::

    python examples/train_reformer.py                  # ~15 s on one core
    python examples/train_reformer.py --target flows   # the plant's network (examples/reformer_plant.py)

Outputs of the default ``--target fractions`` (in ``--out-dir``, default ``examples/data``):

* ``reformer_relu.onnx``: ReLU MLP 2 -> 10 -> 10 -> 10 -> 10 -> 12 (plain ``Gemm``/``Relu``),
  float32 input ``x_scaled`` of shape ``[batch, 2]`` to ``y_scaled`` of shape ``[batch, 12]``.
* ``reformer_scaling.json``: input and output names in network order, the scaling in OMLT's
  convention ``x_scaled = (x - input_offset) / input_factor`` and
  ``y = y_scaled * output_factor + output_offset`` (offsets = means, factors = sample standard
  deviations, as pandas' ``std`` that OMLT uses), the input box (the data's min/max, in
  engineering units), the outputs' data range, and the validation R^2 per output.

``--target flows`` trains the same architecture on the same inputs for the plant example
(``examples/reformer_plant.py``), whose balances need flows rather than mole fractions: the
product's flow varies about 3x with the bypass fraction, so a flow computed as total flow times
a predicted fraction would be a product of two network outputs, a nonlinearity. The targets
(:data:`FLOW_OUTPUTS`, from the same CSV) are Steam Flow and Reformer Duty as they are, the
product flow ``P`` from a carbon balance, and the H2, CO and N2 flows ``P x fraction``:

* every simulated point burns the same natural gas, :data:`NG_FEED` kmol/s
  (``Steam Flow = NG_FEED (1 - bypass) ratio`` holds to 2e-6 on every point), carrying
  :data:`NG_CARBON` carbon atoms per molecule;
* all that carbon leaves in the product as CH4, CO, CO2 (1 atom), C2H6 (2), C3H8 (3) and
  C4H10 (4), so ``P = NG_FEED NG_CARBON / sum(atoms x mole fraction)`` (2.4-7.1 kmol/s).

It writes ``reformer_flows_relu.onnx`` (2 -> 10 x 4 -> 6) and ``reformer_flows_scaling.json``.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import time
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

DATA_DIR = Path(__file__).resolve().parent / "data"
CSV_PATH = DATA_DIR / "reformer.csv"
INPUTS = ("Bypass Fraction", "NG Steam Ratio")
#: OMLT's 12 outputs; the CSV's last column, O2, is always ~0 (at most 4e-20) and is dropped.
OUTPUTS = (
    "Steam Flow",
    "Reformer Duty",
    "AR",
    "C2H6",
    "C3H8",
    "C4H10",
    "CH4",
    "CO",
    "CO2",
    "H2",
    "H2O",
    "N2",
)
DROPPED = ("O2",)
SIZES = (2, 10, 10, 10, 10, 12)
#: Natural gas fed to the flowsheet at every simulated point, kmol/s (both reformer and bypass).
NG_FEED = 1.21186
#: Carbon atoms per natural-gas molecule (its CH4, C2H6, C3H8, C4H10 content).
NG_CARBON = 1.0155
#: Carbon atoms per molecule of the product's carbon-bearing components.
CARBON_ATOMS = {"CH4": 1, "CO": 1, "CO2": 1, "C2H6": 2, "C3H8": 3, "C4H10": 4}
#: Outputs of ``--target flows``: kmol/s, except the duty (as in the CSV).
FLOW_OUTPUTS = ("Steam Flow", "Reformer Duty", "Product Flow", "H2 Flow", "CO Flow", "N2 Flow")
#: Per target: output names, layer sizes, file stem.
TARGETS = {
    "fractions": (OUTPUTS, SIZES, "reformer"),
    "flows": (FLOW_OUTPUTS, (*SIZES[:-1], len(FLOW_OUTPUTS)), "reformer_flows"),
}
#: Fraction of the points held out (drawn at random with the seed) to report R^2 on.
VALIDATION_FRACTION = 0.2
#: onnxruntime must reproduce torch's outputs on every data point to this (scaled units).
MAX_ORT_DIFF = 1e-5


def load_data(path: Path = CSV_PATH) -> tuple[np.ndarray, np.ndarray]:
    """Return the inputs ``(n, 2)`` and outputs ``(n, 12)`` of the CSV, in float64."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader)]
        rows = np.array([[float(value) for value in row] for row in reader], dtype=np.float64)
    expected = set(INPUTS) | set(OUTPUTS) | set(DROPPED)
    if set(header) != expected:
        raise ValueError(f"{path}: columns {header}, expected {sorted(expected)}")
    column = {name: i for i, name in enumerate(header)}
    for name in DROPPED:
        assert np.abs(rows[:, column[name]]).max() < 1e-15, f"{name} is not ~0 in {path}"
    x = rows[:, [column[name] for name in INPUTS]]
    y = rows[:, [column[name] for name in OUTPUTS]]
    return x, y


def flow_targets(y: np.ndarray) -> np.ndarray:
    """The ``--target flows`` outputs (:data:`FLOW_OUTPUTS`) from the CSV's outputs ``y``."""
    column = {name: i for i, name in enumerate(OUTPUTS)}
    carbon = sum(atoms * y[:, column[name]] for name, atoms in CARBON_ATOMS.items())
    product = NG_FEED * NG_CARBON / carbon
    flows = [product * y[:, column[name]] for name in ("H2", "CO", "N2")]
    return np.column_stack([y[:, column["Steam Flow"]], y[:, column["Reformer Duty"]], product, *flows])


def make_mlp(sizes: tuple[int, ...]) -> nn.Sequential:
    """A ReLU MLP with the given layer sizes (no activation on the output)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def train(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epochs: int, lr: float, batch_size: int
) -> None:
    """Adam on the mean squared error, mini-batches, learning rate on a cosine schedule to 0."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    loss_fn = nn.MSELoss()
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(x.shape[0])
        for start in range(0, x.shape[0], batch_size):
            idx = perm[start : start + batch_size]
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
        sched.step()
    model.eval()


def r2_scores(prediction: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Coefficient of determination per column."""
    residual = ((prediction - target) ** 2).sum(axis=0)
    total = ((target - target.mean(axis=0)) ** 2).sum(axis=0)
    return 1.0 - residual / total


def export_onnx(model: nn.Module, path: Path, n_inputs: int = SIZES[0]) -> None:
    """Export with the TorchScript exporter: plain Gemm/Relu nodes, a dynamic batch axis."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (torch.zeros(1, n_inputs, dtype=torch.float32),),
            str(path),
            input_names=["x_scaled"],
            output_names=["y_scaled"],
            dynamic_axes={"x_scaled": {0: "batch"}, "y_scaled": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )


def ort_difference(path: Path, model: nn.Module, x: np.ndarray) -> float:
    """Largest absolute difference between onnxruntime and torch on ``x`` (float32, scaled)."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (ort_out,) = session.run(["y_scaled"], {"x_scaled": x})
    with torch.no_grad():
        torch_out = model(torch.from_numpy(x)).numpy()
    return float(np.max(np.abs(ort_out - torch_out)))


def main() -> None:
    """Train, check against onnxruntime, write the ONNX file and the scaling JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=1e-2, help="Adam's initial learning rate")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--target", choices=sorted(TARGETS), default="fractions", help="mole fractions (default) or flows"
    )
    args = parser.parse_args()
    outputs, sizes, stem = TARGETS[args.target]

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    args.out_dir.mkdir(parents=True, exist_ok=True)

    x, y = load_data()
    if args.target == "flows":
        y = flow_targets(y)
    x_offset, x_factor = x.mean(axis=0), x.std(axis=0, ddof=1)
    y_offset, y_factor = y.mean(axis=0), y.std(axis=0, ddof=1)
    xs = ((x - x_offset) / x_factor).astype(np.float32)
    ys = ((y - y_offset) / y_factor).astype(np.float32)

    perm = np.random.default_rng(args.seed).permutation(x.shape[0])
    n_val = round(VALIDATION_FRACTION * x.shape[0])
    val, trn = np.sort(perm[:n_val]), np.sort(perm[n_val:])

    torch.manual_seed(args.seed)
    model = make_mlp(sizes)
    start = time.perf_counter()
    train(
        model,
        torch.from_numpy(xs[trn]),
        torch.from_numpy(ys[trn]),
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
    )
    seconds = time.perf_counter() - start

    with torch.no_grad():
        pred = model(torch.from_numpy(xs)).numpy().astype(np.float64) * y_factor + y_offset
    r2_val = r2_scores(pred[val], y[val])
    r2_trn = r2_scores(pred[trn], y[trn])
    rmse_val = np.sqrt(((pred[val] - y[val]) ** 2).mean(axis=0))

    onnx_path = args.out_dir / f"{stem}_relu.onnx"
    export_onnx(model, onnx_path)
    diff = ort_difference(onnx_path, model, xs)
    assert diff < MAX_ORT_DIFF, f"{onnx_path.name}: onnxruntime differs from torch by {diff}"

    scaling = {
        "description": (
            f"Scaling of {onnx_path.name} (written by examples/train_reformer.py"
            + ("" if args.target == "fractions" else f" --target {args.target}")
            + "): "
            "x_scaled = (x - input_offset) / input_factor, y = y_scaled * output_factor + output_offset; "
            "offsets are the data's means, factors its sample standard deviations (ddof=1); "
            "input_lower/input_upper is the data's box; output_min/output_max the outputs' data range."
        ),
        "inputs": list(INPUTS),
        "outputs": list(outputs),
        "input_offset": x_offset.tolist(),
        "input_factor": x_factor.tolist(),
        "output_offset": y_offset.tolist(),
        "output_factor": y_factor.tolist(),
        "input_lower": x.min(axis=0).tolist(),
        "input_upper": x.max(axis=0).tolist(),
        "output_min": y.min(axis=0).tolist(),
        "output_max": y.max(axis=0).tolist(),
        "training": {
            "sizes": list(sizes),
            "epochs": args.epochs,
            "lr": args.lr,
            "batch_size": args.batch_size,
            "seed": args.seed,
            "n_train": int(trn.size),
            "n_validation": int(val.size),
            "validation_r2": [round(float(v), 6) for v in r2_val],
        },
    }
    json_path = args.out_dir / f"{stem}_scaling.json"
    json_path.write_text(json.dumps(scaling, indent=2) + "\n")

    print(
        f"trained {'-'.join(map(str, sizes))} for {args.epochs} epochs in {seconds:.1f} s "
        f"({trn.size} training, {val.size} validation points)"
    )
    print(f"{'output':16s} {'R2 val':>9s} {'R2 train':>9s} {'RMSE val':>10s} {'data std':>10s}")
    for name, rv, rt, err, std in zip(outputs, r2_val, r2_trn, rmse_val, y_factor, strict=True):
        print(f"{name:16s} {rv:9.6f} {rt:9.6f} {err:10.3g} {std:10.3g}")
    print(f"{onnx_path.name}: {onnx_path.stat().st_size} bytes, onnxruntime vs torch max diff {diff:.1e}")
    print(f"{json_path.name}: {json_path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
