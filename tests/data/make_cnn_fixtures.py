"""Export small random-weight torch CNNs as ONNX fixtures for the importer and block tests.

Each module is exported with the legacy TorchScript exporter (``dynamo=False``, opset 17)
and with the ``torch.export`` based one (``dynamo=True``, opset 20), like
``make_torch_fixtures.py`` (whose export helpers this script reuses). Run from anywhere::

    python tests/data/make_cnn_fixtures.py

Files written to ``--out-dir`` (default: this folder):

* ``torch_cnn_{legacy,dynamo}.onnx``: input ``[batch, 1, 8, 8]``; Conv(1, 4, 3, pad 1) ->
  BatchNorm -> ReLU -> MaxPool(2) -> Conv(4, 6, 3, pad 1) -> ReLU -> AvgPool(2) -> Flatten
  -> Linear(24, 10).
* ``torch_cnn_batchnorm.onnx``: the same CNN exported by the legacy exporter with
  ``training=TrainingMode.PRESERVE`` and no constant folding, so the file keeps its
  ``BatchNormalization`` node (the exporters otherwise fold it into the Conv themselves).
* ``torch_residual_{legacy,dynamo}.onnx``: input ``[batch, 2, 6, 6]``; Conv(2, 4, 3, pad 1)
  -> ReLU, then a residual block ``relu(x + bn(conv(relu(bn(conv(x))))))``, then two branches
  (a 1x1 conv and a dilated 3x3 conv, 3 channels each) concatenated on channels -> ReLU ->
  MaxPool(2, stride 1) -> global average pool -> Flatten -> Linear(6, 3).

BatchNorm layers get random running statistics, so folding them is really exercised.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path

import torch
from make_torch_fixtures import LEGACY_OPSET, MAX_ORT_DIFF, check, describe, export
from torch import nn

DEFAULT_OUT_DIR = Path(__file__).resolve().parent


def _randomise_batch_norms(model: nn.Module) -> nn.Module:
    """Give every BatchNorm non-trivial running statistics and affine parameters."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            with torch.no_grad():
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.3, 0.3)
    return model


def small_cnn() -> nn.Module:
    """LeNet-style: conv, batch norm, max pool, conv, average pool, dense."""
    return _randomise_batch_norms(
        nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(4, 6, 3, padding=1),
            nn.ReLU(),
            nn.AvgPool2d(2),
            nn.Flatten(),
            nn.Linear(24, 10),
        )
    )


class ResidualConcat(nn.Module):
    """A residual block (Add) followed by two branches joined with Concat."""

    def __init__(self) -> None:
        """Create the stem, the residual block, the branches and the head."""
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU())
        self.block = nn.Sequential(
            nn.Conv2d(4, 4, 3, padding=1, bias=False),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.Conv2d(4, 4, 3, padding=1, bias=False),
            nn.BatchNorm2d(4),
        )
        self.branch_a = nn.Conv2d(4, 3, 1)
        self.branch_b = nn.Conv2d(4, 3, 3, padding=2, dilation=2)
        self.head = nn.Sequential(
            nn.ReLU(),
            nn.MaxPool2d(2, stride=1),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(6, 3),
        )
        _randomise_batch_norms(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of ``x``."""
        x = self.stem(x)
        x = torch.relu(x + self.block(x))
        return self.head(torch.cat([self.branch_a(x), self.branch_b(x)], dim=1))


def export_keeping_batch_norm(model: nn.Module, example: torch.Tensor, path: Path) -> None:
    """Legacy export that leaves BatchNormalization nodes in the graph."""
    torch.onnx.export(
        model,
        (example,),
        str(path),
        dynamo=False,
        opset_version=LEGACY_OPSET,
        training=torch.onnx.TrainingMode.PRESERVE,
        do_constant_folding=False,
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
    )


def main() -> None:
    """Build the fixture modules, export them with both exporters and check them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-dynamo", action="store_true", help="skip the dynamo exporter")
    args = parser.parse_args()

    torch.set_num_threads(1)
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    builders: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
        "torch_cnn": (small_cnn, (1, 8, 8)),
        "torch_residual": (ResidualConcat, (2, 6, 6)),
    }
    for name, (build, shape) in builders.items():
        torch.manual_seed(args.seed)
        model = build().eval()
        example = torch.rand(2, *shape)
        test_x = torch.rand(7, *shape)
        for dynamo in (False, True) if not args.no_dynamo else (False,):
            path = args.out_dir / f"{name}_{'dynamo' if dynamo else 'legacy'}.onnx"
            export(model, example, path, dynamo=dynamo)
            diff = check(path, model, test_x)
            assert diff < MAX_ORT_DIFF, f"{path.name}: ort differs from torch by {diff}"
            describe(path)
            print(f"  ort vs torch max abs diff (batch 7): {diff:.2e}")
        if name == "torch_cnn":
            path = args.out_dir / "torch_cnn_batchnorm.onnx"
            export_keeping_batch_norm(model, example, path)
            diff = check(path, model, test_x)
            assert diff < MAX_ORT_DIFF, f"{path.name}: ort differs from torch by {diff}"
            describe(path)


if __name__ == "__main__":
    main()
