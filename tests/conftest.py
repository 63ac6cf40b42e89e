"""Shared helpers: hand-made ONNX graphs, random networks, the onnxruntime comparison."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import pyomo_nn as pnn
import pyomo_nn.tolerances

DATA = Path(__file__).parent / "data"


def make_onnx(
    tmp_path: Path,
    nodes: list[onnx.NodeProto],
    initializers: dict[str, np.ndarray],
    input_shape: list,
    output: str = "y",
    opset: int = 17,
    name: str = "model.onnx",
) -> Path:
    """Write a one-input graph built from ``nodes`` and float32 ``initializers``."""
    inits = [
        numpy_helper.from_array(
            np.asarray(value, dtype=np.int64 if value.dtype.kind == "i" else np.float32), key
        )
        for key, value in initializers.items()
    ]
    graph = helper.make_graph(
        nodes,
        "test",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    _declare_output_shape(model, input_shape)
    path = tmp_path / name
    onnx.save(model, path)
    return path


def _declare_output_shape(model: onnx.ModelProto, input_shape: list) -> None:
    """Fill in the output's shape (the ONNX checker requires one) by running the graph once."""
    import onnxruntime

    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feed = np.zeros([d if isinstance(d, int) else 1 for d in input_shape], dtype=np.float32)
    (value,) = session.run(None, {"x": feed})
    output = model.graph.output[0]
    del model.graph.output[:]
    model.graph.output.append(
        helper.make_tensor_value_info(output.name, TensorProto.FLOAT, list(value.shape))
    )


def assert_matches_onnxruntime(
    net: pnn.Network, samples: int = 16, seed: int = 0, scale: float = 1.0
) -> float:
    """numpy forward vs onnxruntime on random inputs; returns the max abs difference."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-scale, scale, size=(samples, net.input_size))
    ours = net.forward(x)
    reference = net.source.run(x)
    difference = float(np.max(np.abs(ours - reference)))
    assert difference <= pnn.tolerances.IMPORT_MATCH_ATOL * max(1.0, float(np.max(np.abs(reference)))), (
        f"numpy IR and onnxruntime differ by {difference:.3e} (max abs)"
    )
    return difference


def random_mlp(sizes: list[int], seed: int = 0, bias_scale: float = 0.3) -> pnn.Network:
    """ReLU MLP with He-scaled Gaussian weights."""
    rng = np.random.default_rng(seed)
    weights = [
        rng.normal(size=(n_out, n_in)) * np.sqrt(2.0 / n_in) for n_in, n_out in itertools.pairwise(sizes)
    ]
    biases = [rng.normal(size=n_out) * bias_scale for n_out in sizes[1:]]
    return pnn.Network.mlp(weights, biases)


@pytest.fixture
def digits_net() -> pnn.Network:
    from pyomo_nn.bundled import load_digits_network

    return load_digits_network("64-32-32-10")
