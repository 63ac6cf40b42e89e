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


def digits_margin_model(sense: str = "maximize", eps: float = 0.1) -> tuple:
    """``outputs[rival] - outputs[label]`` of the bundled 64-32-32-10 digits net over an L-inf
    ball around test image 0 (rival: label + 3; eps 0.1: 11 split neurons, 0.2: 32), as
    ``(model, net, rival, label)``; ``sense`` is "maximize" or "minimize"."""
    import pyomo.environ as pyo

    from pyomo_nn.bundled import digits_test_set, load_digits_network

    net = load_digits_network("64-32-32-10")
    images, labels = digits_test_set()
    label = int(labels[0])
    domain = pnn.LinfBall(images[0], eps=eps, lower=0.0, upper=1.0)
    m = pyo.ConcreteModel()
    m.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, domain))
    rival = (label + 3) % 10
    m.obj = pyo.Objective(expr=m.nn.outputs[rival] - m.nn.outputs[label], sense=getattr(pyo, sense))
    return m, net, rival, label


def random_cnn(seed: int = 0) -> pnn.Network:
    """A small CNN built in code with every new layer type: Conv2d (padding, groups,
    dilation), ReLU, a residual Add, MaxPool2d, AvgPool2d, Concat on channels and Dense.
    Input (2, 6, 6); the pooling settings vary with the seed."""
    from pyomo_nn.ir import INPUT, Add, AvgPool2d, Concat, Conv2d, Dense, MaxPool2d, ReLU

    rng = np.random.default_rng(seed)

    def weights(*shape: int) -> np.ndarray:
        return rng.normal(size=shape) * np.sqrt(2.0 / np.prod(shape[1:]))

    stride = int(rng.integers(1, 3))
    pool_pads = (0, 0, 1, 1) if stride == 1 else (0, 0, 0, 0)
    pooled = (6 + pool_pads[2] - 2) // stride + 1
    layers = [
        Conv2d("conv_0", INPUT, weights(4, 2, 3, 3), rng.normal(size=4) * 0.3, (2, 6, 6), pads=(1, 1, 1, 1)),
        ReLU("relu_0", "conv_0"),
        Conv2d(
            "conv_1",
            "relu_0",
            weights(4, 2, 3, 3),
            rng.normal(size=4) * 0.3,
            (4, 6, 6),
            pads=(2, 2, 2, 2),
            dilations=(2, 2),
            groups=2,
        ),
        Add("add_0", ("relu_0", "conv_1"), 144),
        ReLU("relu_1", "add_0"),
        MaxPool2d("maxpool_0", "relu_1", (4, 6, 6), (2, 2), (stride, stride), pool_pads),
        Conv2d("conv_2", "maxpool_0", weights(3, 4, 1, 1), rng.normal(size=3) * 0.3, (4, pooled, pooled)),
        AvgPool2d(
            "avgpool_0",
            "maxpool_0",
            (4, pooled, pooled),
            (2, 2),
            pads=(0, 0, 1, 1),
            count_include_pad=bool(rng.integers(2)),
        ),
        Concat("concat_0", ("conv_2", "avgpool_0")),
        ReLU("relu_2", "concat_0"),
    ]
    size = 7 * pooled * pooled
    layers.append(Dense("dense_0", "relu_2", weights(3, size), rng.normal(size=3) * 0.3))
    return pnn.Network(tuple(layers), (2, 6, 6))
