"""Network IR -> ONNX (Gemm/Relu graph, float32), e.g. for pruned networks."""

from __future__ import annotations

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from pyomo_nn.importers.onnx_importer import OUTPUT_MARKERS
from pyomo_nn.ir import INPUT, Dense, Network

#: ONNX opset written by the exporter.
EXPORT_OPSET = 17

#: Name of the logits tensor in exported files.
LOGITS = "logits"


def to_onnx(network: Network) -> onnx.ModelProto:
    """An ONNX model computing ``network`` (input ``input`` of shape [batch, *input_shape]),
    ending in the source's softmax/sigmoid marker if it had one."""
    nodes: list[onnx.NodeProto] = []
    initializers: list[onnx.TensorProto] = []
    flat = INPUT
    if len(network.input_shape) > 1:
        flat = "input_flat"
        nodes.append(helper.make_node("Flatten", [INPUT], [flat], name="flatten", axis=1))
    tensor = {INPUT: flat}
    last = network.layers[-1].name
    for layer in network.layers:
        output = LOGITS if layer.name == last else layer.name
        if isinstance(layer, Dense):
            initializers.append(
                numpy_helper.from_array(layer.weight.astype(np.float32), f"{layer.name}.weight")
            )
            initializers.append(numpy_helper.from_array(layer.bias.astype(np.float32), f"{layer.name}.bias"))
            inputs = [tensor[layer.input], f"{layer.name}.weight", f"{layer.name}.bias"]
            nodes.append(helper.make_node("Gemm", inputs, [output], name=layer.name, transB=1))
        else:
            nodes.append(helper.make_node("Relu", [tensor[layer.input]], [output], name=layer.name))
        tensor[layer.name] = output
    final = LOGITS
    if network.output_activation is not None:
        op = next(op for op, marker in OUTPUT_MARKERS.items() if marker == network.output_activation)
        attributes = {} if op == "Sigmoid" else {"axis": 1}
        nodes.append(helper.make_node(op, [LOGITS], ["output"], name=op.lower(), **attributes))
        final = "output"
    graph = helper.make_graph(
        nodes,
        "pyomo_nn_export",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["batch", *network.input_shape])],
        [helper.make_tensor_value_info(final, TensorProto.FLOAT, ["batch", network.output_size])],
        initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", EXPORT_OPSET)], producer_name="pyomo-nn"
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def save_onnx(network: Network, path: str | os.PathLike[str]) -> None:
    """Write ``network`` as an ONNX file."""
    onnx.save(to_onnx(network), path)
