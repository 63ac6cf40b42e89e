"""Train the thesis' four MNIST shapes with its regularisation grid and export them to ONNX.

The thesis (ch. 2.2.2, Table 2.1) trains ReLU MLPs 784 -> hidden -> 10 of four shapes,
3000x1, 800x2, 200x5 and 100x10 (hidden width x depth), for 50 epochs with L1 or L2
regularisation, lambda in {0, 1e-4, 2e-4, 3e-4}: 4 shapes x 7 settings = 28 networks. Here the
data is ``../shared/data/mnist_pool_5000.npz`` (5,000 MNIST test-set images, pixels / 255, so
inputs lie in [0, 1]^784 as in the thesis): with seed 0, 1,000 images are held out for test
accuracy (the same split as ``benchmarks/training.py``) and the other 4,000 train. The thesis
had 60,000 training images, so accuracies are lower than its.

Training: Glorot-uniform weights and zero biases (Keras' defaults; with torch's default init
every L1-regularised 100x10 collapsed to 12.9% accuracy), Adam (lr 1e-3), batch 64, 50
epochs, cross entropy plus ``lambda * sum |W|`` (L1) or ``lambda * sum W^2`` (L2) over the
weight matrices (biases not penalised, as a Keras ``kernel_regularizer`` does), a fixed seed
per network, one torch thread. Each network is
exported with the TorchScript exporter (plain Gemm/Relu, opset 17) to
``benchmarks/thesis/nets/<name>.onnx`` and checked against torch with onnxruntime and with
``pyomo_nn.load_onnx``'s numpy forward pass. ``nets/manifest.csv`` records every file's
sha256, size and accuracies; the ONNX files themselves (117 MB for the full grid) are not
committed: ``python benchmarks/thesis/run.py train`` regenerates them (about 15 minutes on one
core; files already present with the manifest's sha256 are kept).

    python benchmarks/thesis/train.py                    # the full grid (28 networks)
    python benchmarks/thesis/train.py --shapes 100x10 --regs none l1-2e-04
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
NETS = HERE / "nets"
MANIFEST = NETS / "manifest.csv"
POOL = HERE.parents[2] / "shared" / "data" / "mnist_pool_5000.npz"

#: Hidden layer sizes of the thesis' Table 2.1.
SHAPES: dict[str, tuple[int, ...]] = {
    "3000x1": (3000,),
    "800x2": (800,) * 2,
    "200x5": (200,) * 5,
    "100x10": (100,) * 10,
}
LAMBDAS = (1e-4, 2e-4, 3e-4)
#: Regularisation settings: "none" and "<l1|l2>-<lambda>".
REGS = ("none", *(f"{norm}-{lam:.0e}" for norm in ("l1", "l2") for lam in LAMBDAS))

EPOCHS = 50
BATCH = 64
LR = 1e-3
N_TEST = 1000
SPLIT_SEED = 0
#: onnxruntime and pyomo-nn's forward pass must agree with torch to this (logits).
MAX_DIFF = 1e-4

FIELDS = (
    "name",
    "shape",
    "reg",
    "norm",
    "lam",
    "epochs",
    "seed",
    "train_acc",
    "test_acc",
    "weights",
    "bytes",
    "sha256",
    "ort_max_diff",
    "pnn_max_diff",
    "train_seconds",
)


def net_name(shape: str, reg: str) -> str:
    return f"{shape}_{reg}"


def parse_reg(reg: str) -> tuple[str, float]:
    """("none", 0.0) or (norm, lambda)."""
    if reg == "none":
        return "none", 0.0
    norm, lam = reg.split("-", 1)
    return norm, float(lam)


def net_seed(shape: str, reg: str) -> int:
    """A fixed seed per network, the same on every run."""
    return list(SHAPES).index(shape) * 100 + REGS.index(reg)


def load_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test): pixels / 255 as float32; 1,000 held-out test images
    drawn first with seed 0, the other 4,000 for training."""
    data = np.load(POOL)
    x = data["X"].astype(np.float32) / 255.0
    y = data["y"].astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    test, train = order[:N_TEST], order[N_TEST:]
    return x[train], y[train], x[test], y[test]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest() -> dict[str, dict[str, str]]:
    if not MANIFEST.exists():
        return {}
    with MANIFEST.open() as f:
        return {row["name"]: row for row in csv.DictReader(f)}


def write_manifest(rows: dict[str, dict[str, str]]) -> None:
    NETS.mkdir(parents=True, exist_ok=True)
    order = {net_name(s, r): i for i, (s, r) in enumerate((s, r) for s in SHAPES for r in REGS)}
    with MANIFEST.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for name in sorted(rows, key=lambda n: order.get(n, len(order))):
            writer.writerow({k: rows[name][k] for k in FIELDS})


def train_one(shape: str, reg: str, data, epochs: int) -> dict[str, str]:
    import onnxruntime as ort
    import torch
    from torch import nn

    import pyomo_nn as pnn

    torch.set_num_threads(1)
    x_train, y_train, x_test, y_test = data
    norm, lam = parse_reg(reg)
    seed = net_seed(shape, reg)
    torch.manual_seed(seed)
    sizes = (784, *SHAPES[shape], 10)
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        linear = nn.Linear(sizes[i], sizes[i + 1])
        nn.init.xavier_uniform_(linear.weight)  # Keras' Dense default: torch's own init leaves
        nn.init.zeros_(linear.bias)  # 100x10 so small a signal that any L1 penalty kills it
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    generator = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(yt), generator=generator)
        for start in range(0, len(yt), BATCH):
            idx = perm[start : start + BATCH]
            loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            if norm == "l1":
                loss = loss + lam * sum(m.weight.abs().sum() for m in linears)
            elif norm == "l2":
                loss = loss + lam * sum(m.weight.pow(2).sum() for m in linears)
            opt.zero_grad()
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - started
    model.eval()
    with torch.no_grad():
        train_acc = float((model(xt).argmax(1) == yt).float().mean())
        test_logits = model(torch.from_numpy(x_test)).numpy()
    test_acc = float((test_logits.argmax(1) == y_test).mean())

    name = net_name(shape, reg)
    path = NETS / f"{name}.onnx"
    NETS.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.zeros(1, 784),),
            str(path),
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (ort_logits,) = session.run(["logits"], {"input": x_test})
    ort_diff = float(np.max(np.abs(ort_logits - test_logits)))
    net = pnn.load_onnx(path)
    pnn_logits = np.stack([net.forward(x) for x in x_test[:200]])
    pnn_diff = float(np.max(np.abs(pnn_logits - test_logits[:200])))
    if max(ort_diff, pnn_diff) > MAX_DIFF:
        raise SystemExit(f"{name}: onnxruntime differs by {ort_diff:.2e}, pyomo-nn by {pnn_diff:.2e}")
    return {
        "name": name,
        "shape": shape,
        "reg": reg,
        "norm": norm,
        "lam": f"{lam:g}",
        "epochs": str(epochs),
        "seed": str(seed),
        "train_acc": f"{train_acc:.4f}",
        "test_acc": f"{test_acc:.4f}",
        "weights": str(sum(m.weight.numel() for m in linears)),
        "bytes": str(path.stat().st_size),
        "sha256": sha256(path),
        "ort_max_diff": f"{ort_diff:.2e}",
        "pnn_max_diff": f"{pnn_diff:.2e}",
        "train_seconds": f"{seconds:.1f}",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--regs", nargs="+", default=list(REGS), choices=list(REGS))
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--force", action="store_true", help="retrain even if the file matches the manifest")
    args = parser.parse_args(argv)
    data = load_split()
    rows = read_manifest()
    for shape in args.shapes:
        for reg in args.regs:
            name = net_name(shape, reg)
            path = NETS / f"{name}.onnx"
            known = rows.get(name)
            if (
                not args.force
                and known
                and known["epochs"] == str(args.epochs)
                and path.exists()
                and sha256(path) == known["sha256"]
            ):
                print(f"{name}: kept ({known['test_acc']} test accuracy)", flush=True)
                continue
            rows[name] = train_one(shape, reg, data, args.epochs)
            row = rows[name]
            print(
                f"{name}: test {row['test_acc']} train {row['train_acc']} "
                f"{int(row['bytes']) / 1e6:.1f} MB {row['train_seconds']} s",
                flush=True,
            )
            write_manifest(rows)
    write_manifest(rows)


if __name__ == "__main__":
    sys.exit(main())
