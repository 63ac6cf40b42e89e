"""Train a small CNN on scikit-learn's digits (8x8, one channel) and export it to ONNX.

The network written here is the bundled ``digits_cnn.onnx`` of ``pyomo_nn``: input
``input`` of shape ``[batch, 1, 8, 8]`` (pixels / 16, in [0, 1]), output ``logits``
``[batch, 10]``:

    Conv(1, 4, 3x3, pad 1) -> BatchNorm -> ReLU -> MaxPool(2)        4 x 4 x 4
    Conv(4, 8, 3x3, pad 1) -> ReLU -> AvgPool(2)                     8 x 2 x 2
    Flatten -> Linear(32, 10)

It uses the same train/test split as ``train_digits.py``, so ``pyomo_nn.bundled``'s test
images are held out for it too. Needs the ``train`` extra (torch). Run from anywhere::

    python examples/train_digits_cnn.py --out-dir src/pyomo_nn/data
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn
from train_digits import load_data

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT_DIR = REPO_ROOT / "src" / "pyomo_nn" / "data"
MAX_ORT_DIFF = 1e-4
IMAGE_SHAPE = (1, 8, 8)


def make_cnn() -> nn.Sequential:
    """The bundled CNN's architecture (see the module docstring)."""
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(32, 10),
    )


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epochs: int, lr: float = 3e-3) -> None:
    """Adam on cross entropy; the learning rate drops by 5x after half and three quarters."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[epochs // 2, (3 * epochs) // 4], gamma=0.2)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(x.shape[0])
        for start in range(0, x.shape[0], 64):
            idx = perm[start : start + 64]
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
        sched.step()
    model.eval()


def export_onnx(model: nn.Module, path: Path) -> None:
    """Legacy TorchScript export (the BatchNorm is folded into the first Conv on the way)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (torch.zeros(1, *IMAGE_SHAPE),),
            str(path),
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )


def check_onnx(path: Path, model: nn.Module, x: np.ndarray) -> float:
    """Max abs difference between onnxruntime and torch on ``x``."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (ort_out,) = session.run(["logits"], {"input": x})
    with torch.no_grad():
        return float(np.max(np.abs(ort_out - model(torch.from_numpy(x)).numpy())))


def main() -> None:
    """Train, export and check the CNN."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    x_train, x_test, y_train, y_test = load_data()
    images_train = torch.from_numpy(x_train.reshape(-1, *IMAGE_SHAPE))
    images_test = x_test.reshape(-1, *IMAGE_SHAPE)
    model = make_cnn()
    train(model, images_train, torch.from_numpy(y_train), epochs=args.epochs)
    with torch.no_grad():
        accuracy = float((model(torch.from_numpy(images_test)).argmax(dim=1).numpy() == y_test).mean())

    args.out_dir.mkdir(parents=True, exist_ok=True)
    path = args.out_dir / "digits_cnn.onnx"
    export_onnx(model, path)
    diff = check_onnx(path, model, images_test)
    assert diff < MAX_ORT_DIFF, f"{path.name}: onnxruntime differs from torch by {diff}"
    parameters = sum(p.numel() for p in model.parameters())
    print(
        f"{path.name}: test accuracy {accuracy:.4f}, {parameters} parameters, ort max diff {diff:.2e}, "
        f"{path.stat().st_size} bytes"
    )


if __name__ == "__main__":
    main()
