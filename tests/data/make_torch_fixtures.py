"""Export small random-weight torch modules as ONNX fixtures for importer tests.

Each module is exported twice: with the legacy TorchScript exporter
(``dynamo=False``, opset 17) and with the ``torch.export`` based exporter
(``dynamo=True``, opset 20, needs ``onnxscript``). All weights are embedded in the
``.onnx`` files (no external data). Run from anywhere::

    python tests/data/make_torch_fixtures.py

Files written to ``--out-dir`` (default: this folder):

* ``torch_norm_mlp_{legacy,dynamo}.onnx``: ``(x - mean) / std`` with constant
  ``[64]`` tensors, then Linear(64, 16) -> ReLU -> Linear(16, 10); input
  ``[batch, 64]``.
* ``torch_flatten_softmax_{legacy,dynamo}.onnx``: input ``[batch, 1, 8, 8]``,
  Flatten -> Linear(64, 12) -> ReLU -> Linear(12, 12) -> ReLU -> Linear(12, 10)
  -> Softmax(dim=1).

Inputs are named ``input`` and outputs ``output``; the batch axis is dynamic.
"""

from __future__ import annotations

import argparse
import logging
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

DEFAULT_OUT_DIR = Path(__file__).resolve().parent
LEGACY_OPSET = 17
DYNAMO_OPSET = 20  # default of torch.onnx.export(dynamo=True) in torch 2.13
MAX_ORT_DIFF = 1e-5


class NormMLP(nn.Module):
    """Affine input normalisation followed by a one-hidden-layer ReLU MLP."""

    def __init__(self) -> None:
        """Create random ``mean``/``std`` buffers and the two linear layers."""
        super().__init__()
        self.register_buffer("mean", 0.5 * torch.rand(64))
        self.register_buffer("std", 0.1 + 0.4 * torch.rand(64))
        self.net = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return logits of the normalised input."""
        return self.net((x - self.mean) / self.std)


def flatten_softmax() -> nn.Sequential:
    """Flatten an image batch, apply a ReLU MLP and a softmax over classes."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(64, 12),
        nn.ReLU(),
        nn.Linear(12, 12),
        nn.ReLU(),
        nn.Linear(12, 10),
        nn.Softmax(dim=1),
    )


def export(model: nn.Module, example: torch.Tensor, path: Path, *, dynamo: bool) -> None:
    """Export ``model`` to ``path`` with a dynamic batch axis and embedded weights."""
    names = {"input_names": ["input"], "output_names": ["output"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        if dynamo:
            torch.onnx.export(
                model,
                (example,),
                str(path),
                dynamo=True,
                opset_version=DYNAMO_OPSET,
                dynamic_shapes=({0: torch.export.Dim("batch")},),
                external_data=False,
                verbose=False,
                **names,
            )
        else:
            torch.onnx.export(
                model,
                (example,),
                str(path),
                dynamo=False,
                opset_version=LEGACY_OPSET,
                dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                **names,
            )


def check(path: Path, model: nn.Module, x: torch.Tensor) -> float:
    """Validate ``path`` and return max abs difference of onnxruntime vs torch."""
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (ort_out,) = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})
    with torch.no_grad():
        ref = model(x).numpy()
    return float(np.max(np.abs(ort_out - ref)))


def _shape(value: onnx.ValueInfoProto) -> list[int | str]:
    """Shape of a graph input/output with symbolic dims as strings."""
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def describe(path: Path) -> None:
    """Print op types, opsets, inputs/outputs and size of an ONNX file."""
    model = onnx.load(str(path))
    graph = model.graph
    opsets = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    size = path.stat().st_size
    print(f"{path.name}: {size} bytes, ir {model.ir_version}, opsets {opsets}")
    print(f"  ops: {[n.op_type for n in graph.node]}")
    for kind, values in (("input", graph.input), ("output", graph.output)):
        for v in values:
            dtype = onnx.helper.tensor_dtype_to_np_dtype(v.type.tensor_type.elem_type)
            print(f"  {kind}: {v.name} {_shape(v)} {dtype}")
    inits = [(i.name, list(i.dims)) for i in graph.initializer]
    print(f"  initializers: {inits}")


def main() -> None:
    """Build the fixture modules, export them with both exporters and check them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-dynamo", action="store_true", help="skip the dynamo exporter")
    args = parser.parse_args()

    torch.set_num_threads(1)
    # the dynamo exporter logs a warning per torchvision op it cannot register
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    builders: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
        "torch_norm_mlp": (NormMLP, (64,)),
        "torch_flatten_softmax": (flatten_softmax, (1, 8, 8)),
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


if __name__ == "__main__":
    main()
