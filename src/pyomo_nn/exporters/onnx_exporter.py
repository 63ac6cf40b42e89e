"""Network IR -> ONNX (float32), e.g. for pruned networks.

Every tensor is kept flat, (batch, values), as in the IR: Dense layers become Gemm, ReLUs
Relu, Elementwise layers Mul + Add, Add layers Add, Concat layers Concat on axis 1; a conv or
pooling layer reshapes its input to (batch, C, H, W), runs Conv/MaxPool/AveragePool and
flattens the result again.
"""

from __future__ import annotations

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from pyomo_nn.file_errors import writable
from pyomo_nn.importers.onnx_importer import OUTPUT_MARKERS
from pyomo_nn.ir import INPUT, Add, AvgPool2d, Concat, Conv2d, Dense, Elementwise, Layer, MaxPool2d, Network

#: ONNX opset written by the exporter (19 when an average pool is dilated: AveragePool's
#: dilations need it).
EXPORT_OPSET = 17
DILATED_AVERAGE_POOL_OPSET = 19

#: Name of the logits tensor in exported files.
LOGITS = "logits"


class _GraphWriter:
    """Collects nodes and initializers for one exported graph."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def constant(self, name: str, values: np.ndarray) -> str:
        dtype = np.int64 if np.asarray(values).dtype.kind == "i" else np.float32
        self.initializers.append(numpy_helper.from_array(np.asarray(values, dtype=dtype), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, name: str, **attributes: object) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attributes))
        return output

    def layer(self, layer: Layer, inputs: list[str], output: str) -> None:
        name = layer.name
        if isinstance(layer, Dense):
            weight = self.constant(f"{name}.weight", layer.weight)
            bias = self.constant(f"{name}.bias", layer.bias)
            self.node("Gemm", [inputs[0], weight, bias], output, name, transB=1)
        elif isinstance(layer, Elementwise):
            scaled = self.node(
                "Mul",
                [inputs[0], self.constant(f"{name}.scale", layer.scale)],
                f"{name}.scaled",
                f"{name}_mul",
            )
            self.node("Add", [scaled, self.constant(f"{name}.shift", layer.shift)], output, name)
        elif isinstance(layer, Add):
            total = inputs[0]
            for k, term in enumerate(inputs[1:], start=1):
                total = self.node(
                    "Add", [total, term], output if k == len(inputs) - 1 else f"{name}.sum{k}", f"{name}_{k}"
                )
        elif isinstance(layer, Concat):
            self.node("Concat", inputs, output, name, axis=1)
        elif isinstance(layer, Conv2d | MaxPool2d | AvgPool2d):
            self._spatial(layer, inputs[0], output)
        else:
            self.node("Relu", inputs, output, name)

    def _spatial(self, layer: Conv2d | MaxPool2d | AvgPool2d, source: str, output: str) -> None:
        name = layer.name
        shape = self.constant(f"{name}.shape", np.array([-1, *layer.input_shape]))
        image = self.node("Reshape", [source, shape], f"{name}.image", f"{name}_reshape")
        window = {
            "strides": list(layer.strides),
            "pads": list(layer.pads),
            "dilations": list(layer.dilations),
        }
        if isinstance(layer, Conv2d):
            weight = self.constant(f"{name}.weight", layer.weight)
            bias = self.constant(f"{name}.bias", layer.bias)
            result = self.node(
                "Conv", [image, weight, bias], f"{name}.out", name, group=layer.groups, **window
            )
        else:
            if isinstance(layer, AvgPool2d):
                op, extra = "AveragePool", {"count_include_pad": int(layer.count_include_pad)}
                if layer.dilations == (1, 1):
                    del window["dilations"]
            else:
                op, extra = "MaxPool", {}
            result = self.node(
                op, [image], f"{name}.out", name, kernel_shape=list(layer.kernel), **window, **extra
            )
        self.node("Flatten", [result], output, f"{name}_flatten", axis=1)


def to_onnx(network: Network) -> onnx.ModelProto:
    """An ONNX model computing ``network`` (input ``input`` of shape [batch, *input_shape]),
    ending in the source's softmax/sigmoid marker if it had one."""
    writer = _GraphWriter()
    flat = INPUT
    if len(network.input_shape) > 1:
        flat = writer.node("Flatten", [INPUT], "input_flat", "flatten", axis=1)
    tensor = {INPUT: flat}
    last = network.layers[-1].name
    for layer in network.layers:
        output = LOGITS if layer.name == last else layer.name
        writer.layer(layer, [tensor[name] for name in layer.inputs], output)
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
    dilated_pool = any(isinstance(layer, AvgPool2d) and layer.dilations != (1, 1) for layer in network.layers)
    opset = DILATED_AVERAGE_POOL_OPSET if dilated_pool else EXPORT_OPSET
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="pyomo-nn")
    model.ir_version = 8 if opset == EXPORT_OPSET else 9
    onnx.checker.check_model(model)
    return model


def save_onnx(network: Network, path: str | os.PathLike[str]) -> None:
    """Write ``network`` as an ONNX file."""
    model = to_onnx(network)
    with writable(path):
        onnx.save(model, path)
