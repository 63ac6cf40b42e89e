"""Network IR -> ONNX (float32), e.g. for pruned networks.

Every tensor is kept flat, (batch, values), as in the IR: Dense layers become Gemm, ReLUs
Relu, Elementwise layers Mul + Add, Add layers Add, Concat layers Concat on axis 1; a layer
that needs its tensor's shape (conv, pooling, Transpose, Slice, Pad) reshapes its input to
(batch, *shape), runs its op and flattens the result again. Each kind's nodes are its entry
in :data:`EXPORT`, registered by its unit in :mod:`pyomo_nn.units`.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from pyomo_nn.file_errors import writable
from pyomo_nn.importers.onnx_importer import OUTPUT_MARKERS
from pyomo_nn.ir import INPUT, Layer, Network, StageTable

#: ONNX opset written by the exporter (19 when an average pool is dilated: AveragePool's
#: dilations need it).
EXPORT_OPSET = 17
DILATED_AVERAGE_POOL_OPSET = 19

#: Name of the logits tensor in exported files.
LOGITS = "logits"


class GraphWriter:
    """Collects nodes and initializers for one exported graph, and the opset it needs."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.opset = EXPORT_OPSET

    def require_opset(self, opset: int) -> None:
        """The file needs at least ``opset`` (for an attribute a later opset added)."""
        self.opset = max(self.opset, opset)

    def constant(self, name: str, values: np.ndarray) -> str:
        dtype = np.int64 if np.asarray(values).dtype.kind == "i" else np.float32
        self.initializers.append(numpy_helper.from_array(np.asarray(values, dtype=dtype), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, name: str, **attributes: object) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attributes))
        return output

    def tensor(self, name: str, source: str, shape: tuple[int, ...]) -> str:
        """Flat ``source`` reshaped to (batch, *shape) for an op that needs the tensor's shape."""
        target = self.constant(f"{name}.shape", np.array([-1, *shape]))
        return self.node("Reshape", [source, target], f"{name}.image", f"{name}_reshape")

    def flat(self, name: str, result: str, output: str) -> str:
        """``result`` flattened to (batch, values) as ``output``, as every IR tensor is."""
        return self.node("Flatten", [result], output, f"{name}_flatten", axis=1)


def window_attributes(layer: Layer) -> dict[str, list[int]]:
    """``strides``, ``pads`` and ``dilations`` of a sliding-window layer (Conv, pooling) as ONNX
    attributes."""
    return {"strides": list(layer.strides), "pads": list(layer.pads), "dilations": list(layer.dilations)}


#: ``write(writer, layer, inputs, output)``: add the nodes computing ``layer`` from the flat
#: tensors ``inputs`` into the flat tensor ``output``. Registered per kind by :mod:`pyomo_nn.units`.
EXPORT: StageTable[Callable[[GraphWriter, Layer, list[str], str], None]] = StageTable("ONNX export")


def to_onnx(network: Network) -> onnx.ModelProto:
    """An ONNX model computing ``network`` (input ``input`` of shape [batch, *input_shape]),
    ending in the source's softmax/sigmoid marker if it had one."""
    writer = GraphWriter()
    flat = INPUT
    if len(network.input_shape) > 1:
        flat = writer.node("Flatten", [INPUT], "input_flat", "flatten", axis=1)
    tensor = {INPUT: flat}
    last = network.layers[-1].name
    for layer in network.layers:
        output = LOGITS if layer.name == last else layer.name
        EXPORT.stage_for(layer)(writer, layer, [tensor[name] for name in layer.inputs], output)
        tensor[layer.name] = output
    final = LOGITS
    if network.output_activation is not None:
        op = next(op for op, marker in OUTPUT_MARKERS.items() if marker == network.output_activation)
        attributes = {} if op == "Sigmoid" else {"axis": 1}
        writer.node(op, [LOGITS], "output", op.lower(), **attributes)
        final = "output"
    graph = helper.make_graph(
        writer.nodes,
        "pyomo_nn_export",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["batch", *network.input_shape])],
        [helper.make_tensor_value_info(final, TensorProto.FLOAT, ["batch", network.output_size])],
        writer.initializers,
    )
    opset = writer.opset
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="pyomo-nn")
    model.ir_version = 8 if opset == EXPORT_OPSET else 9
    onnx.checker.check_model(model)
    return model


def save_onnx(network: Network, path: str | os.PathLike[str]) -> None:
    """Write ``network`` as an ONNX file."""
    model = to_onnx(network)
    with writable(path):
        onnx.save(model, path)
