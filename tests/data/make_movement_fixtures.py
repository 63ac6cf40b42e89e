"""Export a small torch CNN full of data movement (Transpose, Pad, Slice) as ONNX fixtures.

Converters wrap convolutions in layout changes: tf2onnx transposes NHWC inputs to NCHW and
back, ``F.pad``/``nn.ReflectionPad2d`` write ``Pad`` nodes, tensor slicing writes ``Slice``.
The module is exported with the legacy TorchScript exporter (``dynamo=False``, opset 17) and
with the ``torch.export`` based one (``dynamo=True``, opset 20), with the export helpers of
``make_torch_fixtures.py``. Run from anywhere::

    python tests/data/make_movement_fixtures.py

Files written to ``--out-dir`` (default: this folder): ``torch_movement_{legacy,dynamo}.onnx``,
input ``[batch, 7, 7, 2]`` (NHWC): permute to NCHW -> constant Pad (value 0.25) -> Conv(2, 4,
3) -> ReLU -> slice channels 1: and every second column -> reflect Pad -> Conv(3, 3, 2) ->
ReLU -> MaxPool(2) -> permute to NHWC -> Flatten -> Linear(18, 3).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from make_torch_fixtures import MAX_ORT_DIFF, check, describe, export
from torch import nn

DEFAULT_OUT_DIR = Path(__file__).resolve().parent
INPUT_SHAPE = (7, 7, 2)


class Movement(nn.Module):
    """Transposes, pads and slices around two convolutions."""

    def __init__(self) -> None:
        """Create the convolutions, the reflection pad and the head."""
        super().__init__()
        self.conv_a = nn.Conv2d(2, 4, 3)
        self.reflect = nn.ReflectionPad2d((1, 0, 1, 1))
        self.conv_b = nn.Conv2d(3, 3, 2)
        self.head = nn.Linear(18, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the NHWC batch ``x``."""
        x = F.pad(x.permute(0, 3, 1, 2), (1, 2, 0, 1), value=0.25)
        x = torch.relu(self.conv_a(x))[:, 1:, :, ::2]
        x = F.max_pool2d(torch.relu(self.conv_b(self.reflect(x))), 2)
        return self.head(x.permute(0, 2, 3, 1).flatten(1))


def main() -> None:
    """Export the module with both exporters and check the files against torch."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
    torch.manual_seed(args.seed)
    model = Movement().eval()
    example, test_x = torch.rand(2, *INPUT_SHAPE), torch.rand(7, *INPUT_SHAPE)
    for dynamo in (False, True):
        path = args.out_dir / f"torch_movement_{'dynamo' if dynamo else 'legacy'}.onnx"
        export(model, example, path, dynamo=dynamo)
        diff = check(path, model, test_x)
        assert diff < MAX_ORT_DIFF, f"{path.name}: ort differs from torch by {diff}"
        describe(path)
        print(f"  ort vs torch max abs diff (batch 7): {diff:.2e}")


if __name__ == "__main__":
    main()
