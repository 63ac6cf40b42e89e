"""Malformed ONNX files: a fixed-seed fuzz run (byte mutations of small files, as in
``benchmarks/fuzz_onnx.py``) and one regression test per kind of defect it found. Every
malformed file must give a typed :class:`~pyomo_nn.errors.PyomoNNError` or load exactly."""

from __future__ import annotations

import importlib.util
import itertools
import re
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import pyomo_nn as pnn
from pyomo_nn.errors import (
    InvalidONNXError,
    InvalidWeightsError,
    ShapeMismatchError,
    UnsupportedOperatorError,
)
from pyomo_nn.importers import load_onnx_bytes
from pyomo_nn.tolerances import MAX_ABS_WEIGHT

ROOT = Path(__file__).resolve().parents[1]


def _fuzzer():
    spec = importlib.util.spec_from_file_location("fuzz_onnx", ROOT / "benchmarks" / "fuzz_onnx.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


FUZZ = _fuzzer()


def test_mutated_files_give_typed_errors_or_exact_loads():
    """6,000 fixed mutants of seven small files (about 3 s): no other exception, no mismatch
    with onnxruntime, no mutant slower than 10 s."""
    seeds = [FUZZ.read_seed(path) for path in FUZZ.SEEDS]
    counts: Counter = Counter()
    slowest = 0.0
    for _, mutant in itertools.islice(FUZZ.mutants(seeds, seed=2024), 6000):
        start = time.perf_counter()
        counts[FUZZ.outcome(mutant, samples=2, timeout=10.0)] += 1
        slowest = max(slowest, time.perf_counter() - start)
    bugs = {name: count for name, count in counts.items() if name.startswith(FUZZ.BUG)}
    assert not bugs, f"untyped outcomes: {bugs}"
    # The mutants reach past the protobuf parser into the importer and the IR checks.
    for outcome in ("loaded", "InvalidWeightsError", "ShapeMismatchError", "UnsupportedOperatorError"):
        assert counts[outcome] > 20, counts
    assert slowest < 10.0


# -- hand-made malformed files, one per kind of defect ------------------------------------


def _model(
    nodes: list[onnx.NodeProto],
    initializers: list[onnx.TensorProto],
    input_shape: list,
    output_shape: list,
    opset: int = 17,
    input_type: int = TensorProto.FLOAT,
) -> bytes:
    """Serialized one-input graph with output ``y``; accepted by onnx.checker."""
    graph = helper.make_graph(
        nodes,
        "malformed",
        [helper.make_tensor_value_info("x", input_type, input_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, output_shape)],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _matmul(weight: np.ndarray, input_shape: list | None = None) -> bytes:
    """``y = x @ weight`` with x of shape (1, rows)."""
    init = numpy_helper.from_array(weight.astype(np.float32), "w")
    shape = input_shape or [1, weight.shape[0]]
    return _model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [init], shape, [1, 2])


def test_initializer_data_that_does_not_fill_its_shape_is_invalid_onnx():
    tensor = numpy_helper.from_array(np.ones(4, dtype=np.float32), "w")
    tensor.dims[:] = [2, 1]  # 4 values stored for a (2, 1) tensor
    model = _model([helper.make_node("MatMul", ["x", "w"], ["y"])], [tensor], [1, 2], [1, 1])
    with pytest.raises(InvalidONNXError, match=r"initializer 'w' cannot be decoded.*\(2, 1\)"):
        load_onnx_bytes(model)


def test_initializer_of_unknown_element_type_is_invalid_onnx():
    tensor = numpy_helper.from_array(np.ones((2, 2), dtype=np.float32), "w")
    tensor.data_type = 127
    model = _model([helper.make_node("MatMul", ["x", "w"], ["y"])], [tensor], [1, 2], [1, 2])
    with pytest.raises(InvalidONNXError, match="unknown type 127"):
        load_onnx_bytes(model)


def test_input_of_unknown_element_type_is_refused():
    model = _model([helper.make_node("Relu", ["x"], ["y"])], [], [1, 2], [1, 2], input_type=65)
    with pytest.raises(UnsupportedOperatorError, match="unknown type 65"):
        load_onnx_bytes(model)


def test_cast_of_a_constant_to_an_unknown_type_is_invalid_onnx():
    nodes = [
        helper.make_node("Cast", ["w"], ["wc"], name="cast", to=99),
        helper.make_node("MatMul", ["x", "wc"], ["y"]),
    ]
    model = _model(nodes, [numpy_helper.from_array(np.eye(2, dtype=np.float32), "w")], [1, 2], [1, 2])
    with pytest.raises(InvalidONNXError, match=r"node 'cast'.*unknown type 99"):
        load_onnx_bytes(model)


@pytest.mark.parametrize("value", [1e17, -3e38, 2 * MAX_ABS_WEIGHT])
def test_weights_too_large_for_a_sound_encoding_are_refused_naming_node_and_value(value):
    weight = np.ones((3, 2))
    weight[1, 0] = value
    expected = rf"node 'mm'.*coefficient entries.*largest {re.escape(f'{value:.6g}')} at index \(0, 1\)"
    with pytest.raises(InvalidWeightsError, match=expected):
        load_onnx_bytes(_matmul(weight))


def test_huge_constants_that_later_ops_would_cancel_are_refused():
    """x - 3e38 overflows to -inf in onnxruntime's float32 even when a later op scales it back
    down: the float64 fold would not match the file."""
    inits = [
        numpy_helper.from_array(np.array([0.0, 3e38], dtype=np.float32), "mean"),
        numpy_helper.from_array(np.array([[1e-33], [1e-33]], dtype=np.float32), "w"),
    ]
    nodes = [
        helper.make_node("Sub", ["x", "mean"], ["centred"], name="sub"),
        helper.make_node("MatMul", ["centred", "w"], ["y"]),
    ]
    with pytest.raises(InvalidWeightsError, match=r"node 'sub'.*constant entries.*largest -3e\+38"):
        load_onnx_bytes(_model(nodes, inits, [1, 2], [1, 1]))


def test_weights_just_below_the_bound_load_and_match_onnxruntime():
    weight = np.ones((3, 2))
    weight[1, 0] = 0.5 * MAX_ABS_WEIGHT
    network = load_onnx_bytes(_matmul(weight))
    x = np.array([[0.25, 0.5, 1.0]])
    np.testing.assert_allclose(network.forward(x), network.source.run(x), rtol=1e-6)


@pytest.mark.parametrize(("label", "index"), [("weight", 0), ("bias", 1)])
def test_hand_made_layers_with_too_large_weights_are_refused(label, index):
    arrays = [np.eye(2), np.zeros(2)]
    arrays[index][0] = 1e9
    with pytest.raises(InvalidWeightsError, match=rf"layer 'dense_0': {label} entries beyond \+-1e\+06"):
        pnn.Network.mlp([arrays[0]], [arrays[1]])


def test_models_onnxruntime_cannot_load_are_invalid_onnx():
    model = onnx.load_from_string(_matmul(np.ones((2, 2))))
    model.opset_import[0].version = 30  # not an opset onnxruntime knows
    with pytest.raises(InvalidONNXError, match="onnxruntime cannot load"):
        load_onnx_bytes(model.SerializeToString())


def test_input_shape_too_large_to_encode_is_refused_before_allocating():
    model = _model([helper.make_node("Relu", ["x"], ["y"])], [], [1, 2**31], [1, 2**31])
    with pytest.raises(UnsupportedOperatorError, match="2147483648 values per sample"):
        load_onnx_bytes(model)


def test_input_dimension_of_size_zero_is_refused():
    with pytest.raises(UnsupportedOperatorError, match="dimension of size 0"):
        load_onnx_bytes(_matmul(np.eye(2), input_shape=[0, 2]))


def test_dense_matrix_too_large_to_build_is_refused():
    # MatMul on (1, 5000, 64): a block-diagonal dense map of 160000 x 320000 entries.
    weight = np.ones((64, 2), dtype=np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")]
    model = _model(nodes, [numpy_helper.from_array(weight, "w")], [1, 5000, 64], [1, 5000, 2])
    with pytest.raises(UnsupportedOperatorError, match=r"node 'mm'.*dense 10000 x 320000"):
        load_onnx_bytes(model)


def _conv(**attrs: object) -> bytes:
    weight = numpy_helper.from_array(np.ones((1, 1, 3, 3), dtype=np.float32), "w")
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv", **attrs)
    return _model([node], [weight], [1, 1, 8, 8], [1, 1, None, None])


def test_window_geometry_too_large_to_build_is_refused_quickly():
    start = time.perf_counter()
    with pytest.raises(ShapeMismatchError, match=r"node 'conv'.*index entries"):
        load_onnx_bytes(_conv(pads=[10**9, 0, 10**9, 0]))
    assert time.perf_counter() - start < 5.0


def test_zero_stride_with_same_padding_is_a_shape_error():
    with pytest.raises(ShapeMismatchError, match=r"strides \[0, 1\] must be positive"):
        load_onnx_bytes(_conv(strides=[0, 1], auto_pad="SAME_UPPER"))


def test_input_dependent_axes_are_unsupported():
    nodes = [helper.make_node("Unsqueeze", ["x", "x"], ["y"], name="unsqueeze")]
    model = _model(nodes, [], [1], [1, 1])
    with pytest.raises(UnsupportedOperatorError, match=r"node 'unsqueeze'.*axes that depend on the input"):
        load_onnx_bytes(model)


def test_flatten_axis_out_of_range_is_a_shape_error():
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"], name="flatten", axis=-9),
        helper.make_node("Relu", ["f"], ["y"]),
    ]
    with pytest.raises(ShapeMismatchError, match="axis -9 is out of range for a tensor of rank 2"):
        load_onnx_bytes(_model(nodes, [], [1, 4], [1, 4]))


def test_concat_axis_out_of_range_is_a_shape_error():
    nodes = [helper.make_node("Concat", ["x", "x"], ["y"], name="concat", axis=5)]
    with pytest.raises(ShapeMismatchError, match="axis 5 is out of range"):
        load_onnx_bytes(_model(nodes, [], [1, 1], [1, 2]))


def test_reduce_mean_axes_out_of_range_are_a_shape_error():
    nodes = [helper.make_node("ReduceMean", ["x"], ["y"], name="mean", axes=[6, 7])]
    with pytest.raises(ShapeMismatchError, match="axis 6 is out of range for a tensor of rank 4"):
        load_onnx_bytes(_model(nodes, [], [1, 2, 3, 3], [1, 2, 1, 1], opset=13))


def test_reshape_copying_a_dimension_the_tensor_lacks_is_a_shape_error():
    shape = numpy_helper.from_array(np.array([1, 2, 0], dtype=np.int64), "shape")
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape")]
    with pytest.raises(ShapeMismatchError, match="copies a dimension"):
        load_onnx_bytes(_model(nodes, [shape], [1, 4], [1, 2, 2]))


def test_dropout_in_training_mode_is_unsupported():
    inits = [
        numpy_helper.from_array(np.array(0.5, dtype=np.float32), "ratio"),
        numpy_helper.from_array(np.array(True), "training"),
    ]
    nodes = [
        helper.make_node("Dropout", ["x", "ratio", "training"], ["d"], name="dropout"),
        helper.make_node("Relu", ["d"], ["y"]),
    ]
    with pytest.raises(UnsupportedOperatorError, match=r"node 'dropout'.*training mode"):
        load_onnx_bytes(_model(nodes, inits, [1, 4], [1, 4]))


def test_constant_without_a_value_attribute_is_invalid_onnx():
    """Found by fuzzing the movement-op fixtures: an IndexError before."""
    nodes = [helper.make_node("Constant", [], ["c"]), helper.make_node("Add", ["x", "c"], ["y"])]
    with pytest.raises(InvalidONNXError, match="exactly one value attribute"):
        load_onnx_bytes(_model(nodes, [], [1, 2], [1, 2]))


def test_gemm_transpose_flags_other_than_0_or_1_are_invalid_onnx():
    """Found by fuzzing: transB = 2**40 loaded, then onnxruntime failed at run time."""
    init = numpy_helper.from_array(np.eye(2, dtype=np.float32), "w")
    node = helper.make_node("Gemm", ["x", "w"], ["y"], transB=2**40)
    with pytest.raises(InvalidONNXError, match="transB must be 0 or 1"):
        load_onnx_bytes(_model([node], [init], [1, 2], [1, 2]))
