"""Train small ReLU MLPs on scikit-learn's digits data and export them to ONNX.

The networks and the test split written here are the bundled example data of
``pyomo_nn``. Run from anywhere::

    python examples/train_digits.py --out-dir src/pyomo_nn/data

Outputs (in ``--out-dir``):

* ``digits_64-32-32-10.onnx`` and ``digits_64-50-50-50-10.onnx``: ReLU MLPs
  mapping a float32 input ``input`` of shape ``[batch, 64]`` (pixels scaled to
  [0, 1]) to ``logits`` of shape ``[batch, 10]`` (no softmax). Other sizes with
  ``--architectures``, e.g. ``--architectures 64-100-100-10 --out-dir benchmarks/.cache``
  (what ``benchmarks/defaults_vs_omlt.py`` runs); every network starts from ``--seed``.
* ``digits_test.npz``: the test split, arrays ``x`` (float32, ``(n, 64)``) and
  ``y`` (int64 labels).
"""

from __future__ import annotations

import argparse
import itertools
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT_DIR = REPO_ROOT / "src" / "pyomo_nn" / "data"
MAX_ORT_DIFF = 1e-4
ARCHITECTURES: tuple[tuple[int, ...], ...] = ((64, 32, 32, 10), (64, 50, 50, 50, 10))


def load_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``x_train, x_test, y_train, y_test`` with pixels scaled to [0, 1]."""
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    return x_train, x_test, y_train, y_test


def architecture(text: str) -> tuple[int, ...]:
    """Parse ``64-100-100-10`` into layer sizes: 64 inputs, 10 outputs, at least one hidden layer."""
    try:
        sizes = tuple(int(part) for part in text.split("-"))
    except ValueError:
        sizes = ()
    if len(sizes) < 3 or sizes[0] != 64 or sizes[-1] != 10 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected layer sizes like 64-100-100-10 (64 inputs, 10 classes, a hidden layer), got {text!r}"
        )
    return sizes


def make_mlp(sizes: tuple[int, ...]) -> nn.Sequential:
    """Build a ReLU MLP with the given layer sizes (no activation on the output)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def l1_weights(model: nn.Module) -> torch.Tensor:
    """Sum of absolute values of all weight matrices (biases excluded)."""
    return sum(
        (m.weight.abs().sum() for m in model.modules() if isinstance(m, nn.Linear)),
        start=torch.zeros(()),
    )


def train(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    l1: float,
    lr: float = 3e-3,
    batch_size: int = 64,
) -> None:
    """Train with Adam on cross entropy plus an L1 penalty on the weights.

    The learning rate drops by 5x after half and again after three quarters
    of the epochs, so that weights pushed to zero by the L1 term settle near it.
    """
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[epochs // 2, (3 * epochs) // 4], gamma=0.2)
    loss_fn = nn.CrossEntropyLoss()
    n = x.shape[0]
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(n)
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx]) + l1 * l1_weights(model)
            loss.backward()
            opt.step()
        sched.step()
    model.eval()


def export_onnx(model: nn.Module, path: Path) -> None:
    """Export ``model`` with the legacy TorchScript exporter (plain Gemm/Relu)."""
    dummy = torch.zeros(1, 64, dtype=torch.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (dummy,),
            str(path),
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )


def check_onnx(path: Path, model: nn.Module, x: np.ndarray) -> float:
    """Return max abs difference between onnxruntime and torch outputs on ``x``."""
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (ort_out,) = sess.run(["logits"], {"input": x})
    with torch.no_grad():
        torch_out = model(torch.from_numpy(x)).numpy()
    return float(np.max(np.abs(ort_out - torch_out)))


def weight_stats(model: nn.Module, tol: float = 1e-3) -> tuple[int, float]:
    """Return number of parameters and fraction of weights with ``|w| < tol``."""
    n_params = sum(p.numel() for p in model.parameters())
    weights = torch.cat([m.weight.detach().flatten() for m in model.modules() if isinstance(m, nn.Linear)])
    return n_params, float((weights.abs() < tol).float().mean())


def main() -> None:
    """Train, export and verify the digits networks and write the test split."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--l1", type=float, default=2e-4, help="L1 weight penalty")
    parser.add_argument(
        "--architectures",
        nargs="+",
        type=architecture,
        default=list(ARCHITECTURES),
        metavar="SIZES",
        help="layer sizes such as 64-100-100-10 (default: the two bundled networks)",
    )
    args = parser.parse_args()

    torch.set_num_threads(1)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    x_train, x_test, y_train, y_test = load_data()
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)

    for sizes in args.architectures:
        torch.manual_seed(args.seed)
        model = make_mlp(sizes)
        train(model, xt, yt, epochs=args.epochs, l1=args.l1)
        with torch.no_grad():
            pred = model(torch.from_numpy(x_test)).argmax(dim=1).numpy()
        acc = float((pred == y_test).mean())

        name = "-".join(str(s) for s in sizes)
        path = args.out_dir / f"digits_{name}.onnx"
        export_onnx(model, path)
        diff = check_onnx(path, model, x_test)
        assert diff < MAX_ORT_DIFF, f"{path.name}: onnxruntime differs from torch by {diff}"
        n_params, small = weight_stats(model)
        print(
            f"{path.name}: test acc {acc:.4f}, params {n_params}, "
            f"|w|<1e-3: {small:.3f}, ort max diff {diff:.2e}, "
            f"{path.stat().st_size} bytes"
        )

    npz = args.out_dir / "digits_test.npz"
    np.savez_compressed(npz, x=x_test.astype(np.float32), y=y_test.astype(np.int64))
    print(f"{npz.name}: x {x_test.shape}, y {y_test.shape}, {npz.stat().st_size} bytes")


if __name__ == "__main__":
    main()
