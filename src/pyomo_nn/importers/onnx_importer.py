"""ONNX -> network IR.

The importer evaluates the graph symbolically: every tensor is either a constant or an
affine function ``matrix @ base + offset`` of an IR tensor (the input or a layer's output).
Affine ops (Gemm, MatMul, Add, Sub, Mul, Div by constants, BatchNormalization) compose into
that function and reshapes leave it unchanged, so input normalisation and chains of linear
ops fold into one :class:`~pyomo_nn.ir.Dense` layer (or an :class:`~pyomo_nn.ir.Elementwise`
one when the map is diagonal), emitted when a ReLU (or the output) needs it.

Sliding-window ops (Conv, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool) and ops
joining branches (Add/Sub of two input-dependent tensors, Concat on channels) never fold into
a dense matrix: each becomes an IR layer of its own, sparse where it is linear. A
BatchNormalization after a Conv is folded into the Conv's weights afterwards
(:func:`~pyomo_nn.ir.fold.fold_elementwise`).

Only the ancestors of the logits are read: a trailing Softmax/LogSoftmax/Sigmoid is kept
as a marker, and classifier post-processing (ArgMax, ZipMap, ... as written by skl2onnx)
is ignored.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from pyomo_nn.errors import (
    InvalidONNXError,
    InvalidWeightsError,
    ModelFileNotFoundError,
    ShapeMismatchError,
    UnsupportedOperatorError,
)
from pyomo_nn.importers.onnx_spatial import onnx_output_shape, spatial_input, window_settings
from pyomo_nn.importers.variant import UnsupportedVariant
from pyomo_nn.ir import (
    INPUT,
    Add,
    AvgPool2d,
    Concat,
    Conv2d,
    Dense,
    Elementwise,
    Layer,
    MaxPool2d,
    MovementLayer,
    Network,
    Pad,
    ReLU,
    Sign,
    Slice,
    Transpose,
)
from pyomo_nn.ir.activations import SMOOTH_KINDS, LeakyReLU
from pyomo_nn.ir.checks import check_magnitude
from pyomo_nn.ir.fold import fold_elementwise
from pyomo_nn.ir.movement import PAD_MODES
from pyomo_nn.ir.onnx_source import OnnxSource

#: Operations that end a classifier: kept as a marker, never encoded.
OUTPUT_MARKERS = {"Softmax": "softmax", "LogSoftmax": "log_softmax", "Sigmoid": "sigmoid"}

_FLOAT_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16}

#: Most values per sample of any tensor the importer builds, the input included. A MILP needs a
#: Pyomo variable (about 1 kB) per value, so networks are far smaller (ImageNet's 3 x 224 x 224
#: input has 1.5e5 values, a 64 x 112 x 112 feature map 8e5); a declared shape beyond this is
#: a damaged file, refused before numpy spends seconds or fails with a MemoryError.
MAX_TENSOR_SIZE = 10**7

#: Most entries of a dense matrix the importer composes (1 GB in float64): a Dense layer of
#: VGG-16's 25088 x 4096 fits; a MatMul over a damaged shape does not.
MAX_DENSE_ENTRIES = 2**27


@dataclass
class _AffineMap:
    """A tensor equal to ``matrix @ value(base) + offset`` per sample.

    ``matrix`` is None for the identity, a 1-D array for a diagonal matrix (element-wise
    scaling, kept cheap for large tensors) or a 2-D array. ``shape`` is the full ONNX shape
    with the batch dimension set to 1, so its product is the number of values per sample.
    """

    base: str
    base_size: int
    matrix: np.ndarray | None
    offset: np.ndarray
    shape: tuple[int, ...]

    @property
    def is_diagonal(self) -> bool:
        """True for the identity or a diagonal map of the base."""
        return self.matrix is None or self.matrix.ndim == 1

    def map(self, linear: np.ndarray, offset: np.ndarray, shape: tuple[int, ...]) -> _AffineMap:
        """Compose with ``y -> linear @ y + offset``."""
        if self.matrix is None:
            matrix = linear
        elif self.matrix.ndim == 1:
            matrix = linear * self.matrix[None, :]
        else:
            _check_dense(linear.shape[0], self.base_size)
            matrix = linear @ self.matrix
        return _AffineMap(self.base, self.base_size, matrix, linear @ self.offset + offset, shape)

    def scale(self, factors: np.ndarray) -> _AffineMap:
        """Element-wise product with ``factors`` (flat, one per value)."""
        if self.matrix is None:
            matrix = factors
        elif self.matrix.ndim == 1:
            matrix = factors * self.matrix
        else:
            matrix = factors[:, None] * self.matrix
        return _AffineMap(self.base, self.base_size, matrix, factors * self.offset, self.shape)

    def with_shape(self, shape: tuple[int, ...]) -> _AffineMap:
        return _AffineMap(self.base, self.base_size, self.matrix, self.offset, shape)

    def shifted(self, shift: np.ndarray) -> _AffineMap:
        return _AffineMap(self.base, self.base_size, self.matrix, self.offset + shift, self.shape)

    def dense_matrix(self) -> np.ndarray:
        if self.matrix is None or self.matrix.ndim == 1:
            _check_dense(self.base_size, self.base_size)
        if self.matrix is None:
            return np.eye(self.base_size)
        return np.diag(self.matrix) if self.matrix.ndim == 1 else self.matrix

    def diagonal(self) -> np.ndarray:
        """The diagonal of a diagonal map (see :attr:`is_diagonal`)."""
        return np.ones(self.base_size) if self.matrix is None else self.matrix


Value = _AffineMap | np.ndarray


def supported_ops() -> tuple[str, ...]:
    """Names of the ONNX operators the importer understands."""
    return tuple(sorted([*_HANDLERS, *_LAYER_OPS, "Constant", "Relu", *OUTPUT_MARKERS]))


def load_onnx(path: str | os.PathLike[str], output: str | None = None) -> Network:
    """Read an ONNX feed-forward network into the numpy IR.

    ``output`` names the logits tensor when the graph cannot tell (several outputs and no
    softmax). Raises :class:`ModelFileNotFoundError`, :class:`InvalidONNXError`,
    :class:`UnsupportedOperatorError` or :class:`InvalidWeightsError` with a message that
    names the problem.
    """
    file = Path(path)
    if not file.is_file():
        raise ModelFileNotFoundError(f"ONNX file not found: {file} (check the path)")
    return load_onnx_bytes(file.read_bytes(), output=output, label=str(file))


def load_onnx_bytes(model_bytes: bytes, output: str | None = None, label: str | None = None) -> Network:
    """Like :func:`load_onnx` for a serialized model held in memory (``label`` names it in
    messages and in ``network.source.path``)."""
    name = label or "<in-memory ONNX model>"
    try:
        model = onnx.load_from_string(model_bytes)
        onnx.checker.check_model(model)
    except Exception as error:  # onnx raises protobuf DecodeError, ValidationError, ...
        raise InvalidONNXError(
            f"{name} is not a valid ONNX model ({type(error).__name__}: {error}); "
            "export it again with torch.onnx.export or skl2onnx"
        ) from error
    with np.errstate(all="ignore"):  # damaged weights overflow; the reader checks every value itself
        network = _GraphReader(model, model_bytes, label, output).read()
    _check_onnxruntime_loads(model_bytes, name)
    return network


def _check_onnxruntime_loads(model_bytes: bytes, name: str) -> None:
    """Refuse a model onnxruntime cannot load (an unknown opset, an invalid type the ONNX checker
    lets through): every answer is re-checked with onnxruntime, which would fail later."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    try:
        onnxruntime.InferenceSession(
            model_bytes, options, providers=["CPUExecutionProvider"], enable_fallback=0
        )
    except Exception as error:  # onnxruntime raises its own Fail, InvalidArgument, ... types
        message = str(error).strip().splitlines()[-1] if str(error).strip() else ""
        raise InvalidONNXError(
            f"onnxruntime cannot load {name} ({type(error).__name__}: {message}); pyomo-nn re-checks "
            "every answer with onnxruntime, so the model must run there: export it again with "
            "torch.onnx.export or skl2onnx"
        ) from error


class _GraphReader:
    def __init__(self, model: onnx.ModelProto, model_bytes: bytes, path: str | None, output: str | None):
        self.model = model
        self.graph = model.graph
        self.model_bytes = model_bytes
        self.path = path
        self.requested_output = output
        self.values: dict[str, Value] = {}
        self.layers: list[Layer] = []
        self.sizes: dict[str, int] = {}
        kinds = ("dense", "relu", "elementwise", "conv", "maxpool", "avgpool", "add", "concat", "transpose")
        self.counts = dict.fromkeys((*kinds, "slice", "pad", "sigmoid", "tanh", "softplus", "leakyrelu"), 0)
        self.materialized: list[tuple[_AffineMap, str]] = []

    # -- top level -----------------------------------------------------------------
    def read(self) -> Network:
        for initializer in self.graph.initializer:
            self.values[initializer.name] = _tensor_array(initializer, f"initializer {initializer.name!r}")
        input_info = self._network_input()
        full_shape, has_batch = _input_shape(input_info)
        input_size = math.prod(full_shape)
        self.values[input_info.name] = _AffineMap(INPUT, input_size, None, np.zeros(input_size), full_shape)
        self.sizes[INPUT] = input_size

        logits_name, marker = self._logits_tensor()
        producers = {out: node for node in self.graph.node for out in node.output}
        needed = _ancestors(logits_name, producers)
        for node in self.graph.node:
            if id(node) in needed:
                self._read_node(node)

        logits = self.values.get(logits_name)
        if not isinstance(logits, _AffineMap):
            raise UnsupportedOperatorError(
                f"the network output {logits_name!r} does not depend on the input {input_info.name!r}"
            )
        try:
            self._materialize(logits)
        except UnsupportedVariant as why:
            raise UnsupportedOperatorError(f"the network output {logits_name!r}: {why}") from None
        if not self.layers:
            raise UnsupportedOperatorError("the ONNX graph has no layers between its input and output")
        per_sample = full_shape[1:] if has_batch else full_shape
        elem_type = input_info.type.tensor_type.elem_type
        source = OnnxSource(
            model_bytes=self.model_bytes,
            path=self.path,
            input_name=input_info.name,
            input_shape=full_shape,
            input_dtype=np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type)),
            logits_name=logits_name,
        )
        network = Network(tuple(self.layers), per_sample, output_activation=marker, source=source)
        try:
            return fold_elementwise(network)
        except InvalidWeightsError as error:
            raise InvalidWeightsError(
                f"folding a BatchNormalization or scaling into the layer before it: {error}"
            ) from None

    def _network_input(self) -> onnx.ValueInfoProto:
        initializers = {init.name for init in self.graph.initializer}
        inputs = [info for info in self.graph.input if info.name not in initializers]
        if len(inputs) != 1:
            names = [info.name for info in inputs]
            raise UnsupportedOperatorError(
                f"pyomo-nn reads networks with exactly one input tensor; this graph has {names}"
            )
        elem_type = inputs[0].type.tensor_type.elem_type
        if elem_type not in _FLOAT_TYPES:
            raise UnsupportedOperatorError(
                f"input {inputs[0].name!r} has element type "
                f"{_type_name(elem_type)}; only float inputs are supported"
            )
        return inputs[0]

    def _logits_tensor(self) -> tuple[str, str | None]:
        """The tensor the IR's output stands for, and the marker of a trailing softmax."""
        producers = {out: node for node in self.graph.node for out in node.output}
        outputs = [info.name for info in self.graph.output]
        if self.requested_output is not None:
            if self.requested_output not in producers:
                raise ShapeMismatchError(
                    f"output {self.requested_output!r} is not produced by any node of the graph"
                )
            target = self.requested_output
        elif len(outputs) == 1:
            target = outputs[0]
        else:
            markers = [node for node in self.graph.node if node.op_type in OUTPUT_MARKERS]
            if len(markers) != 1:
                raise UnsupportedOperatorError(
                    f"the graph has {len(outputs)} outputs {outputs} and no single softmax to find the "
                    "logits by; pass load_onnx(path, output='tensor name')"
                )
            target = markers[0].output[0]
        node = producers.get(target)
        while node is not None and node.op_type == "Identity":
            target = node.input[0]
            node = producers.get(target)
        if node is not None and node.op_type in OUTPUT_MARKERS:
            return node.input[0], OUTPUT_MARKERS[node.op_type]
        return target, None

    # -- nodes -----------------------------------------------------------------------
    def _read_node(self, node: onnx.NodeProto) -> None:
        op = node.op_type
        label = f"node {node.name or '(unnamed)'!r} (op {op})"
        if op == "Constant":
            self.values[node.output[0]] = _constant_value(node, label)
            return
        if _OP_DOMAINS.get(op, "") != ("" if node.domain == "ai.onnx" else node.domain) or (
            op not in _HANDLERS and op not in _LAYER_OPS and op != "Relu"
        ):
            extra = " (only as the last operation: it is kept as a marker)" if op in OUTPUT_MARKERS else ""
            raise UnsupportedOperatorError(
                f"{label} is not supported{extra}. Supported ops: {', '.join(supported_ops())}"
            )
        args = [self.values[name] if name else None for name in node.input]
        attrs = {attr.name: onnx.helper.get_attribute_value(attr) for attr in node.attribute}
        try:
            result = self._apply(node, args, attrs)
        except UnsupportedVariant as why:
            raise UnsupportedOperatorError(f"{label}: {why}") from None
        except (InvalidWeightsError, InvalidONNXError) as error:
            raise type(error)(f"{label}: {error}") from None
        except ValueError as error:
            raise ShapeMismatchError(f"{label}: shapes do not fit ({error})") from error
        if isinstance(result, _AffineMap):
            _check_affine_magnitude(label, result)
        self.values[node.output[0]] = result

    def _apply(self, node: onnx.NodeProto, args: list, attrs: dict) -> Value:
        """The value of ``node``'s first output."""
        op = node.op_type
        if op == "Relu":
            (x,) = args
            return self._relu(x) if isinstance(x, _AffineMap) else np.maximum(x, 0)
        if op in _LAYER_OPS:
            return _LAYER_OPS[op](self, node, args, attrs)
        return _HANDLERS[op](args, attrs)

    def _smooth(self, node: onnx.NodeProto, args: list, attrs: dict) -> Value:
        """Sigmoid, Tanh, Softplus in a hidden layer (a final Sigmoid stays an output marker)."""
        (x,) = args
        kind = SMOOTH_KINDS[node.op_type]
        if not isinstance(x, _AffineMap):
            return kind.function(np.asarray(x, dtype=np.float64))
        name = self._new_name(node.op_type.lower())
        self._append(kind(name, self._materialize(x)))
        size = self.sizes[name]
        return _AffineMap(name, size, None, np.zeros(size), x.shape)

    def _sign(self, node: onnx.NodeProto, args: list, attrs: dict) -> Value:
        """Sign (-1, 0, +1) of a tensor: a Sign layer (of a constant: the constant)."""
        (x,) = args
        if not isinstance(x, _AffineMap):
            return np.sign(np.asarray(x, dtype=np.float64))
        self.counts.setdefault("sign", 0)
        name = self._new_name("sign")
        self._append(Sign(name, self._materialize(x)))
        size = self.sizes[name]
        return _AffineMap(name, size, None, np.zeros(size), x.shape)

    def _leaky_relu(self, node: onnx.NodeProto, args: list, attrs: dict) -> Value:
        """LeakyRelu with 0 <= alpha <= 1 (ONNX's default alpha 0.01)."""
        (x,) = args
        alpha = float(attrs.get("alpha", 0.01))
        if not 0.0 <= alpha <= 1.0:
            raise UnsupportedVariant(f"LeakyRelu with alpha {alpha:g} outside [0, 1] is not supported")
        if not isinstance(x, _AffineMap):
            return LeakyReLU("constant", "?", alpha).forward(np.asarray(x, dtype=np.float64))
        name = self._new_name("leakyrelu")
        self._append(LeakyReLU(name, self._materialize(x), alpha))
        size = self.sizes[name]
        return _AffineMap(name, size, None, np.zeros(size), x.shape)

    def _relu(self, x: _AffineMap) -> _AffineMap:
        name = self._new_name("relu")
        self._append(ReLU(name, self._materialize(x)))
        size = self.sizes[name]
        return _AffineMap(name, size, None, np.zeros(size), x.shape)

    def _materialize(self, value: _AffineMap) -> str:
        """Name of an IR tensor holding ``value``: the base itself, or a new Elementwise layer
        (diagonal map) or Dense layer (any other map) reading the base."""
        if value.matrix is None and not np.any(value.offset):
            return value.base
        for known, name in self.materialized:
            if known is value:
                return name
        layer = self._affine_layer(value)
        self._append(layer)
        self.materialized.append((value, layer.name))
        return layer.name

    def _affine_layer(self, value: _AffineMap) -> Layer:
        """An Elementwise layer for a diagonal map, a Dense layer for any other."""
        if value.is_diagonal:
            return Elementwise(self._new_name("elementwise"), value.base, value.diagonal(), value.offset)
        return Dense(self._new_name("dense"), value.base, value.dense_matrix(), value.offset)

    def _layer_output(self, layer: Layer, shape: tuple[int, ...]) -> _AffineMap:
        """Append ``layer`` and return its output as a value of ONNX shape ``shape``."""
        self._append(layer)
        size = self.sizes[layer.name]
        return _AffineMap(layer.name, size, None, np.zeros(size), shape)

    # -- ops that become layers of their own -------------------------------------------
    def _conv(self, node: onnx.NodeProto, args: list, attrs: dict) -> Value:
        x, weight = args[0], args[1]
        bias = args[2] if len(args) > 2 else None
        if isinstance(weight, _AffineMap) or isinstance(bias, _AffineMap):
            raise UnsupportedVariant("a convolution with input-dependent weights is nonlinear")
        if not isinstance(x, _AffineMap):
            raise UnsupportedVariant("convolving a constant tensor is not supported")
        weight = _check_finite(np.asarray(weight, dtype=np.float64))
        input_shape, rank = spatial_input(x.shape)
        if weight.ndim != rank + 2:
            raise ValueError(f"weights of shape {weight.shape} do not fit a {rank}-D convolution")
        if "kernel_shape" in attrs and tuple(attrs["kernel_shape"]) != weight.shape[2:]:
            raise ValueError(f"kernel_shape {attrs['kernel_shape']} differs from the weights {weight.shape}")
        settings = window_settings(attrs, input_shape, rank, weight.shape[2:])
        kernel = settings.pop("kernel")
        bias = np.zeros(weight.shape[0]) if bias is None else _check_finite(np.asarray(bias, np.float64))
        layer = Conv2d(
            self._new_name("conv"),
            self._materialize(x),
            weight.reshape(*weight.shape[:2], *kernel),
            bias,
            input_shape,
            groups=int(attrs.get("group", 1)),
            **settings,
        )
        return self._layer_output(
            layer, onnx_output_shape(layer.output_shape[0], layer.window.output_hw, rank)
        )

    def _pool(self, node: onnx.NodeProto, args: list, attrs: dict) -> Value:
        x = args[0]
        if not isinstance(x, _AffineMap):
            raise UnsupportedVariant("pooling a constant tensor is not supported")
        if len(node.output) > 1 and node.output[1]:
            raise UnsupportedVariant("MaxPool's Indices output is not supported")
        input_shape, rank = spatial_input(x.shape)
        if node.op_type.startswith("Global"):
            settings: dict = {"kernel": input_shape[1:]}
        else:
            settings = window_settings(attrs, input_shape, rank, attrs["kernel_shape"])
        source = self._materialize(x)
        if node.op_type in ("MaxPool", "GlobalMaxPool"):
            layer: Layer = MaxPool2d(self._new_name("maxpool"), source, input_shape, **settings)
        else:
            include_pad = bool(attrs.get("count_include_pad", 0))
            layer = AvgPool2d(
                self._new_name("avgpool"), source, input_shape, count_include_pad=include_pad, **settings
            )
        return self._layer_output(layer, onnx_output_shape(input_shape[0], layer.window.output_hw, rank))

    def _reduce_mean(self, node: onnx.NodeProto, args: list, attrs: dict) -> Value:
        """ReduceMean over the spatial axes: a global average pool (what torch's dynamo exporter
        writes for AdaptiveAvgPool2d(1))."""
        x, axes = args[0], _axes(args, attrs)
        keepdims = bool(attrs.get("keepdims", 1))
        if not isinstance(x, _AffineMap):
            return np.mean(x, axis=tuple(axes) if axes else None, keepdims=keepdims)
        rank = len(x.shape)
        axes = sorted(_axis(axis, rank) for axis in axes)
        if rank not in (3, 4) or axes != list(range(2, rank)):
            raise UnsupportedVariant(
                f"ReduceMean over axes {axes} of a tensor of shape {x.shape}: only the spatial axes "
                "(a global average pool) are supported"
            )
        input_shape, _ = spatial_input(x.shape)
        layer = AvgPool2d(self._new_name("avgpool"), self._materialize(x), input_shape, input_shape[1:])
        shape = (1, input_shape[0], *([1] * (rank - 2) if keepdims else []))
        return self._layer_output(layer, shape)

    def _add(self, node: onnx.NodeProto, args: list, attrs: dict, sign: float = 1.0) -> Value:
        a, b = args
        if not (isinstance(a, _AffineMap) and isinstance(b, _AffineMap)) or a.base == b.base:
            return _op_add(args, attrs, sign)
        if a.shape != b.shape:
            raise UnsupportedVariant(f"adding tensors of shapes {a.shape} and {b.shape} would broadcast")
        second = b if sign > 0 else b.scale(np.full(b.offset.size, sign))
        layer = Add(self._new_name("add"), (self._materialize(a), self._materialize(second)), a.offset.size)
        return self._layer_output(layer, a.shape)

    def _sub(self, node: onnx.NodeProto, args: list, attrs: dict) -> Value:
        return self._add(node, args, attrs, sign=-1.0)

    def _concat(self, node: onnx.NodeProto, args: list, attrs: dict) -> Value:
        axis = int(attrs["axis"])
        if not any(isinstance(x, _AffineMap) for x in args):
            return np.concatenate([np.asarray(x) for x in args], axis=axis)
        if not all(isinstance(x, _AffineMap) for x in args):
            raise UnsupportedVariant("joining an input-dependent tensor with a constant one is not supported")
        shapes = [x.shape for x in args]
        axis = _axis(axis, len(shapes[0]))
        if any(
            len(s) != len(shapes[0]) or s[:axis] + s[axis + 1 :] != shapes[0][:axis] + shapes[0][axis + 1 :]
            for s in shapes
        ):
            raise ValueError(f"cannot concatenate shapes {shapes} along axis {axis}")
        if int(np.prod(shapes[0][:axis])) != 1:
            raise UnsupportedVariant(
                f"Concat along axis {axis} of tensors of shape {shapes[0]} interleaves values; only "
                "the channel axis (the first after the batch) is supported"
            )
        shape = (*shapes[0][:axis], sum(s[axis] for s in shapes), *shapes[0][axis + 1 :])
        if len(args) == 1:
            return args[0].with_shape(shape)
        layer = Concat(self._new_name("concat"), tuple(self._materialize(x) for x in args))
        return self._layer_output(layer, shape)

    def _moved(self, x: Value, kind: str, layer: Callable[[tuple[int, ...], int], MovementLayer]) -> Value:
        """Transpose, Slice or Pad of ``x``: ``layer(shape, batch)`` is the IR layer for a tensor of
        ``shape`` whose axes are the ONNX axes from ``batch`` on (1: the leading batch axis of size 1
        is left out, when the op leaves it alone). A constant is computed here; a dense affine map
        has its rows re-laid (no layer); an identity or diagonal map becomes a layer on its base."""
        shape = _shape_of(x)
        if not isinstance(x, _AffineMap):
            constant, array = layer(shape, 0), np.asarray(x)
            if array.dtype.kind not in "biuf":
                raise UnsupportedVariant(f"a {kind} of a {array.dtype} constant is not supported")
            table = constant.table
            values = np.where(table >= 0, array.ravel()[np.maximum(table, 0)], constant.fill)
            return values.astype(array.dtype)
        batch = 1 if len(shape) >= 2 and shape[0] == 1 else 0
        try:
            moved = layer(shape[batch:], batch)
        except ValueError:
            if not batch:
                raise
            moved, batch = layer(shape, 0), 0
        gather = moved.gather(x.offset.size)
        copied = gather >= 0
        out_shape = (1, *moved.output_shape) if batch else moved.output_shape
        offset = np.where(copied, x.offset[np.maximum(gather, 0)], 0.0)
        if x.matrix is not None and x.matrix.ndim == 2:
            _check_dense(gather.size, x.base_size)
            matrix = np.where(copied[:, None], x.matrix[np.maximum(gather, 0)], 0.0)
            offset = np.where(copied, offset, moved.fill)
            return _AffineMap(x.base, x.base_size, matrix, offset, out_shape)
        moved = dataclasses.replace(moved, name=self._new_name(kind), input=x.base)
        self._append(moved)
        diagonal = None if x.matrix is None else np.where(copied, x.matrix[np.maximum(gather, 0)], 1.0)
        return _AffineMap(moved.name, gather.size, diagonal, offset, out_shape)

    def _transpose(self, node: onnx.NodeProto, args: list, attrs: dict) -> Value:
        rank = len(_shape_of(args[0]))
        perm = _ints(attrs.get("perm", range(rank - 1, -1, -1)), "perm")
        if sorted(perm) != list(range(rank)):
            raise ValueError(f"perm {perm} is not a permutation of the {rank} axes")

        def layer(shape: tuple[int, ...], batch: int) -> Transpose:
            if batch and perm[0] != 0:
                raise ValueError("the batch axis moves")
            return Transpose("transpose", "?", shape, [p - batch for p in perm[batch:]])

        return self._moved(args[0], "transpose", layer)

    def _slice(self, node: onnx.NodeProto, args: list, attrs: dict) -> Value:
        rank = len(_shape_of(args[0]))
        if len(args) > 1:  # opset >= 10: starts, ends, axes, steps are inputs
            if any(isinstance(a, _AffineMap) for a in args[1:]):
                raise UnsupportedVariant("a Slice whose ranges depend on the input is not supported")
            ranges = [None if a is None else _ints(a, "Slice ranges") for a in args[1:5]]
            ranges += [None] * (4 - len(ranges))
        else:  # opset < 10: attributes
            ranges = [_ints(attrs.get(name, []), name) for name in ("starts", "ends")]
            ranges += [None if "axes" not in attrs else _ints(attrs["axes"], "axes"), None]
        starts, ends, axes, steps = ranges
        axes = [_axis(a, rank) for a in (range(len(starts)) if axes is None else axes)]

        def layer(shape: tuple[int, ...], batch: int) -> Slice:
            if batch and 0 in axes:
                raise ValueError("the batch axis is sliced")
            return Slice("slice", "?", shape, starts, ends, [a - batch for a in axes], steps)

        return self._moved(args[0], "slice", layer)

    def _pad(self, node: onnx.NodeProto, args: list, attrs: dict) -> Value:
        rank = len(_shape_of(args[0]))
        axes = list(range(rank))
        if len(args) > 1:  # opset >= 11: pads, constant_value, axes are inputs
            if any(isinstance(a, _AffineMap) for a in args[1:]):
                raise UnsupportedVariant("a Pad whose pads or value depend on the input is not supported")
            given = _ints(args[1], "pads")
            values = [] if len(args) < 3 or args[2] is None else _floats(args[2], "the pad value")
            value = values[0] if values else 0.0
            if len(args) > 3 and args[3] is not None:
                axes = [_axis(a, rank) for a in _ints(args[3], "axes")]
        else:  # opset < 11: attributes
            given, value = _ints(attrs.get("pads", []), "pads"), _floats(attrs.get("value", 0.0), "value")[0]
        if len(given) != 2 * len(axes):
            raise ValueError(f"pads {given} need two entries for each of the axes {axes}")
        pads = [0] * (2 * rank)
        for k, axis in enumerate(axes):
            pads[axis], pads[rank + axis] = given[k], given[len(axes) + k]
        mode = attrs.get("mode", b"constant")
        mode = mode.decode() if isinstance(mode, bytes) else str(mode)
        if mode not in PAD_MODES:
            raise UnsupportedVariant(f"Pad mode {mode!r} is not supported (only {', '.join(PAD_MODES)})")

        def layer(shape: tuple[int, ...], batch: int) -> Pad:
            if batch and (pads[0] or pads[rank]):
                raise ValueError("the batch axis is padded")
            kept = pads[batch:rank] + pads[rank + batch :]
            return Pad("pad", "?", shape, kept, value, mode)

        return self._moved(args[0], "pad", layer)

    def _new_name(self, kind: str) -> str:
        name = f"{kind}_{self.counts[kind]}"
        self.counts[kind] += 1
        return name

    def _append(self, layer: Layer) -> None:
        size = layer.output_size(*(self.sizes[source] for source in layer.inputs))
        if size > MAX_TENSOR_SIZE:
            raise UnsupportedVariant(
                f"its output would have {size} values per sample, more than pyomo-nn encodes "
                f"({MAX_TENSOR_SIZE})"
            )
        self.sizes[layer.name] = size
        self.layers.append(layer)


def _input_shape(info: onnx.ValueInfoProto) -> tuple[tuple[int, ...], bool]:
    dims = info.type.tensor_type.shape.dim
    shape = tuple(dim.dim_value if dim.HasField("dim_value") and dim.dim_value > 0 else 1 for dim in dims)
    if not shape:
        raise UnsupportedOperatorError(f"input {info.name!r} has no declared shape; export it with one")
    if any(dim.HasField("dim_value") and dim.dim_value == 0 for dim in dims):
        declared = [dim.dim_value if dim.HasField("dim_value") else dim.dim_param for dim in dims]
        raise UnsupportedOperatorError(
            f"input {info.name!r} has a dimension of size 0 (shape {declared}), so it holds no values; "
            "export with batch 1 or a dynamic batch"
        )
    if len(shape) >= 2 and shape[0] != 1:
        raise UnsupportedOperatorError(
            f"input {info.name!r} has a fixed batch size of {shape[0]}; "
            "export with batch 1 or a dynamic batch"
        )
    if math.prod(shape) > MAX_TENSOR_SIZE:
        raise UnsupportedOperatorError(
            f"input {info.name!r} of shape {shape} has {math.prod(shape)} values per sample, more than "
            f"pyomo-nn encodes ({MAX_TENSOR_SIZE}); check the shape declared in the file"
        )
    return shape, len(shape) >= 2


def _ancestors(target: str, producers: dict[str, onnx.NodeProto]) -> set[int]:
    seen: set[int] = set()
    stack = [target]
    while stack:
        node = producers.get(stack.pop())
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(name for name in node.input if name)
    return seen


def _check_affine_magnitude(label: str, value: _AffineMap) -> None:
    """Refuse a node whose output, as an affine map of an IR tensor, has coefficients beyond
    MAX_ABS_WEIGHT even where later ops would shrink them again: onnxruntime computes that
    output in float32 (``x - 3e38`` overflows to inf), so the folded map would not match it."""
    where = f"{label}: its output (an affine map of {value.base!r})"
    if value.matrix is not None:
        check_magnitude(where, "coefficient", value.matrix)
    check_magnitude(where, "constant", value.offset)


def _type_name(elem_type: int) -> str:
    """The ONNX name of a tensor element type (the number itself when it has none)."""
    try:
        return onnx.TensorProto.DataType.Name(elem_type)
    except ValueError:
        return f"unknown type {elem_type}"


def _tensor_array(tensor: onnx.TensorProto, owner: str) -> np.ndarray:
    """The numpy value of a stored tensor; a malformed one (data that does not fill its declared
    shape, an unknown element type) is an :class:`InvalidONNXError` naming ``owner``."""
    try:
        return numpy_helper.to_array(tensor)
    except Exception as error:  # onnx raises ValueError, KeyError, TypeError, ... on bad tensors
        raise InvalidONNXError(
            f"{owner} cannot be decoded as a {_type_name(tensor.data_type)} tensor of shape "
            f"{tuple(tensor.dims)} ({type(error).__name__}: {error}); the file is damaged or was "
            "written incorrectly: export the model again"
        ) from error


def _constant_value(node: onnx.NodeProto, label: str) -> np.ndarray:
    if len(node.attribute) != 1:
        raise InvalidONNXError(
            f"{label} has {len(node.attribute)} attributes; a Constant holds exactly one value attribute"
        )
    attr = node.attribute[0]
    if attr.name == "value":
        return _tensor_array(attr.t, f"the value of {label}")
    if attr.name in ("value_float", "value_int", "value_floats", "value_ints"):
        return np.asarray(onnx.helper.get_attribute_value(attr))
    raise UnsupportedOperatorError(
        f"Constant node {node.name!r} with attribute {attr.name!r} is not supported"
    )


def _check_finite(array: np.ndarray) -> np.ndarray:
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        raise InvalidWeightsError(
            "the ONNX graph holds NaN or infinite weights; retrain or repair the network"
        )
    return array


def _check_dense(rows: int, columns: int) -> None:
    """Refuse a dense matrix beyond :data:`MAX_DENSE_ENTRIES` before numpy allocates it."""
    if rows * columns > MAX_DENSE_ENTRIES:
        raise UnsupportedVariant(
            f"the affine map would be a dense {rows} x {columns} matrix, more than pyomo-nn builds "
            f"({MAX_DENSE_ENTRIES} entries); check the tensor shapes declared in the file"
        )


def _broadcast_flat(constant: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``constant`` broadcast to a tensor of ``shape``, flattened; it must not grow the tensor."""
    constant = _check_finite(np.asarray(constant, dtype=np.float64))
    if np.broadcast_shapes(constant.shape, shape) != shape:
        raise UnsupportedVariant(
            f"a constant of shape {constant.shape} would broadcast the input-dependent tensor "
            f"of shape {shape} to a larger one"
        )
    return np.broadcast_to(constant, shape).ravel()


def _op_add(args: list, attrs: dict, sign: float = 1.0) -> Value:
    """Add/Sub where at most one side depends on the input, or both on the same IR tensor."""
    a, b = args
    if not isinstance(a, _AffineMap) and not isinstance(b, _AffineMap):
        return a + sign * b
    if isinstance(a, _AffineMap) and isinstance(b, _AffineMap):
        if a.shape != b.shape:
            raise UnsupportedVariant(f"adding tensors of shapes {a.shape} and {b.shape} would broadcast")
        if a.is_diagonal and b.is_diagonal:
            matrix = a.diagonal() + sign * b.diagonal()
        else:
            matrix = a.dense_matrix() + sign * b.dense_matrix()
        return _AffineMap(a.base, a.base_size, matrix, a.offset + sign * b.offset, a.shape)
    if isinstance(a, _AffineMap):
        return a.shifted(sign * _broadcast_flat(b, a.shape))
    return b.scale(np.full(b.offset.size, sign)).shifted(_broadcast_flat(a, b.shape))


def _op_mul(args: list, attrs: dict) -> Value:
    a, b = args
    if isinstance(a, _AffineMap) and isinstance(b, _AffineMap):
        raise UnsupportedVariant("multiplying two input-dependent tensors is nonlinear")
    if not isinstance(a, _AffineMap) and not isinstance(b, _AffineMap):
        return a * b
    var, constant = (a, b) if isinstance(a, _AffineMap) else (b, a)
    return var.scale(_broadcast_flat(constant, var.shape))


def _op_div(args: list, attrs: dict) -> Value:
    a, b = args
    if isinstance(b, _AffineMap):
        raise UnsupportedVariant("dividing by an input-dependent tensor is nonlinear")
    if not isinstance(a, _AffineMap):
        return a / b
    divisor = _broadcast_flat(b, a.shape)
    if np.any(divisor == 0):
        raise InvalidWeightsError("the ONNX graph divides by a constant that has zero entries")
    return a.scale(1.0 / divisor)


def _op_matmul(args: list, attrs: dict) -> Value:
    a, b = args
    if isinstance(b, _AffineMap):
        if isinstance(a, _AffineMap):
            raise UnsupportedVariant("multiplying two input-dependent tensors is nonlinear")
        return _left_matmul(_check_finite(np.asarray(a, dtype=np.float64)), b)
    if not isinstance(a, _AffineMap):
        return np.matmul(a, b)
    weight = _check_finite(np.asarray(b, dtype=np.float64))
    if weight.ndim not in (1, 2) or weight.shape[0] != a.shape[-1]:
        raise ValueError(f"cannot multiply a tensor of shape {a.shape} by weights of shape {weight.shape}")
    rows = math.prod(a.shape[:-1])
    block = weight.T if weight.ndim == 2 else weight[None, :]
    _check_dense(rows * block.shape[0], rows * block.shape[1])
    linear = block if rows == 1 else np.kron(np.eye(rows), block)
    shape = a.shape[:-1] + ((weight.shape[1],) if weight.ndim == 2 else ())
    return a.map(linear, np.zeros(linear.shape[0]), shape)


def _left_matmul(weight: np.ndarray, x: _AffineMap) -> _AffineMap:
    """``weight @ x`` for a constant matrix and an input-dependent vector or matrix."""
    if weight.ndim != 2 or len(x.shape) not in (1, 2) or weight.shape[1] != x.shape[0]:
        raise ValueError(f"cannot multiply weights of shape {weight.shape} by a tensor of shape {x.shape}")
    columns = x.shape[1] if len(x.shape) == 2 else 1
    _check_dense(weight.shape[0] * columns, weight.shape[1] * columns)
    linear = weight if columns == 1 else np.kron(weight, np.eye(columns))
    return x.map(linear, np.zeros(linear.shape[0]), (weight.shape[0], *x.shape[1:]))


def _op_gemm(args: list, attrs: dict) -> Value:
    a, b = args[0], args[1]
    c = args[2] if len(args) > 2 else None
    alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
    for flag in ("transA", "transB"):
        if attrs.get(flag, 0) not in (0, 1):
            raise InvalidONNXError(f"Gemm attribute {flag} must be 0 or 1, got {attrs[flag]}")
    if not isinstance(a, _AffineMap):
        if isinstance(b, _AffineMap):
            raise UnsupportedVariant("Gemm with the input-dependent tensor as B is not supported")
        a_matrix = a.T if attrs.get("transA", 0) else a
        b_matrix = b.T if attrs.get("transB", 0) else b
        return alpha * a_matrix @ b_matrix + (beta * c if c is not None else 0.0)
    if isinstance(b, _AffineMap) or isinstance(c, _AffineMap):
        raise UnsupportedVariant("Gemm with input-dependent B or C is nonlinear")
    if attrs.get("transA", 0):
        raise UnsupportedVariant("Gemm with transA=1 on the input-dependent tensor is not supported")
    if len(a.shape) != 2:
        raise ValueError(f"Gemm needs a 2-D input, got shape {a.shape}")
    weight = _check_finite(np.asarray(b, dtype=np.float64))
    weight = weight.T if attrs.get("transB", 0) else weight
    if weight.ndim != 2 or weight.shape[0] != a.shape[1]:
        raise ValueError(f"input of shape {a.shape} does not fit weights of shape {weight.shape}")
    shape = (a.shape[0], weight.shape[1])
    offset = np.zeros(weight.shape[1]) if c is None else beta * _broadcast_flat(c, shape)
    return a.map(alpha * weight.T, offset, shape)


def _reshaped(x: Value, shape: tuple[int, ...]) -> Value:
    return x.with_shape(shape) if isinstance(x, _AffineMap) else np.reshape(x, shape)


def _shape_of(x: Value) -> tuple[int, ...]:
    return x.shape if isinstance(x, _AffineMap) else np.shape(x)


def _op_reshape(args: list, attrs: dict) -> Value:
    x, target = args[0], args[1]
    if isinstance(target, _AffineMap):
        raise UnsupportedVariant("a Reshape whose target shape depends on the input is not supported")
    dims = [int(d) for d in np.asarray(target).ravel()]
    return _reshaped(x, _reshape_target(_shape_of(x), dims, bool(attrs.get("allowzero", 0))))


def _reshape_target(current: tuple[int, ...], dims: list[int], allowzero: bool) -> tuple[int, ...]:
    """The shape ONNX Reshape gives a tensor of shape ``current`` for target ``dims`` (0 copies
    the current dimension unless ``allowzero``, -1 is inferred); ValueError if none fits."""
    if not allowzero:
        if any(d == 0 and i >= len(current) for i, d in enumerate(dims)):
            raise ValueError(f"Reshape target {dims} copies a dimension that {current} does not have")
        dims = [current[i] if d == 0 else d for i, d in enumerate(dims)]
    size = math.prod(current)
    unknown = [i for i, d in enumerate(dims) if d == -1]
    known = math.prod(d for d in dims if d != -1)
    if len(unknown) > 1 or any(d < -1 for d in dims) or (unknown and (known == 0 or size % known)):
        raise ValueError(f"cannot reshape a tensor of shape {current} to {dims}")
    if unknown:
        dims[unknown[0]] = size // known
    if math.prod(dims) != size:
        raise ValueError(f"cannot reshape a tensor of shape {current} to {dims}")
    return tuple(dims)


def _axis(axis: int, rank: int, end: bool = False) -> int:
    """``axis`` counted from 0; negative ones count from the end. ``end`` also allows ``rank``
    (Flatten's axis); ValueError outside that range."""
    if not -rank <= axis < rank + int(end):
        raise ValueError(f"axis {axis} is out of range for a tensor of rank {rank}")
    return axis + rank if axis < 0 else axis


def _op_flatten(args: list, attrs: dict) -> Value:
    (x,) = args
    shape = _shape_of(x)
    axis = _axis(int(attrs.get("axis", 1)), len(shape), end=True)
    return _reshaped(x, (math.prod(shape[:axis]), math.prod(shape[axis:])))


def _axes(args: list, attrs: dict) -> list[int]:
    if len(args) > 1 and args[1] is not None:
        if isinstance(args[1], _AffineMap):
            raise UnsupportedVariant("axes that depend on the input are not supported")
        return [int(a) for a in np.asarray(args[1]).ravel()]
    return [int(a) for a in attrs.get("axes", [])]


def _op_squeeze(args: list, attrs: dict) -> Value:
    shape = _shape_of(args[0])
    axes = _axes(args, attrs)
    new = np.squeeze(_placeholder(shape), axis=tuple(axes) if axes else None).shape
    return _reshaped(args[0], new)


def _op_unsqueeze(args: list, attrs: dict) -> Value:
    shape = _shape_of(args[0])
    return _reshaped(args[0], np.expand_dims(_placeholder(shape), tuple(_axes(args, attrs))).shape)


def _placeholder(shape: tuple[int, ...]) -> np.ndarray:
    """An array of ``shape`` that takes no memory (for numpy's shape rules)."""
    return np.broadcast_to(np.float64(0.0), shape)


def _ints(values: object, what: str) -> list[int]:
    """``values`` (a constant tensor or an attribute) as Python ints; ValueError otherwise."""
    array = np.asarray(values)
    if array.dtype.kind in "biu":
        return [int(v) for v in array.ravel()]
    floats = _floats(array, what)
    if any(v != round(v) for v in floats):
        raise ValueError(f"{what} must be whole numbers, got {floats}")
    return [int(v) for v in floats]


def _floats(values: object, what: str) -> list[float]:
    """``values`` as finite Python floats; ValueError otherwise."""
    try:
        array = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} must be numbers") from error
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what} must be finite numbers, got {array.tolist()}")
    return array.tolist()


def _op_constant_of_shape(args: list, attrs: dict) -> Value:
    """A constant tensor of the given (constant) shape, e.g. part of the pads torch computes."""
    if isinstance(args[0], _AffineMap):
        raise UnsupportedVariant("a ConstantOfShape whose shape depends on the input is not supported")
    dims = _ints(args[0], "the shape")
    if any(d < 0 for d in dims) or math.prod(dims) > MAX_TENSOR_SIZE:
        raise ValueError(f"ConstantOfShape of shape {dims}")
    value = attrs.get("value")
    fill = np.zeros(1, np.float32) if value is None else _tensor_array(value, "the value of ConstantOfShape")
    if fill.size != 1:
        raise ValueError(f"ConstantOfShape needs a one-value tensor, got shape {fill.shape}")
    return np.full(dims, fill.ravel()[0], dtype=fill.dtype)


def _op_pass_through(args: list, attrs: dict) -> Value:
    return args[0]


def _op_dropout(args: list, attrs: dict) -> Value:
    """Dropout at inference: the identity, unless its ``training_mode`` input is true."""
    training = args[2] if len(args) > 2 else None
    if isinstance(training, _AffineMap) or (training is not None and np.any(training)):
        raise UnsupportedVariant(
            "Dropout in training mode drops random values; export the model in eval mode (model.eval())"
        )
    return args[0]


def _op_cast(args: list, attrs: dict) -> Value:
    target = attrs.get("to")
    if isinstance(args[0], _AffineMap):
        if target not in _FLOAT_TYPES:
            raise UnsupportedVariant("casting an input-dependent tensor to a non-float type")
        return args[0]
    try:
        dtype = onnx.helper.tensor_dtype_to_np_dtype(target)
    except (KeyError, TypeError) as error:
        raise InvalidONNXError(f"Cast to {_type_name(target)}, which is not an ONNX type") from error
    return np.asarray(args[0]).astype(dtype)


def _op_batch_norm(args: list, attrs: dict) -> Value:
    """Inference-mode BatchNormalization: ``scale (x - mean) / sqrt(var + eps) + bias`` per channel."""
    x, scale, bias, mean, variance = args[:5]
    if any(isinstance(v, _AffineMap) for v in (scale, bias, mean, variance)):
        raise UnsupportedVariant("BatchNormalization with input-dependent parameters is nonlinear")
    if int(attrs.get("training_mode", 0)):
        raise UnsupportedVariant(
            "BatchNormalization in training mode; export the model in eval mode (model.eval())"
        )
    epsilon = float(attrs.get("epsilon", 1e-5))
    factor = _check_finite(
        np.asarray(scale, np.float64) / np.sqrt(np.asarray(variance, np.float64) + epsilon)
    )
    shift = _check_finite(np.asarray(bias, np.float64) - np.asarray(mean, np.float64) * factor)
    shape = _shape_of(x)
    if len(shape) < 2:
        raise ValueError(f"BatchNormalization needs an (N, C, ...) tensor, got shape {shape}")
    per_channel = (1, shape[1]) + (1,) * (len(shape) - 2)
    factor, shift = factor.reshape(per_channel), shift.reshape(per_channel)
    if not isinstance(x, _AffineMap):
        return np.asarray(x) * factor + shift
    return x.scale(_broadcast_flat(factor, shape)).shifted(_broadcast_flat(shift, shape))


def _op_scaler(args: list, attrs: dict) -> Value:
    """``Scaler`` (ai.onnx.ml, written by skl2onnx for a StandardScaler, RobustScaler, ...):
    ``(x - offset) * scale`` per feature; folds into the next affine layer like any scaling."""
    (x,) = args
    offset = np.asarray(attrs.get("offset", [0.0]), dtype=np.float64)
    scale = np.asarray(attrs.get("scale", [1.0]), dtype=np.float64)
    if not isinstance(x, _AffineMap):
        return (np.asarray(x, dtype=np.float64) - offset) * scale
    shape = x.shape
    return x.shifted(-_broadcast_flat(offset, shape)).scale(_broadcast_flat(scale, shape))


#: Ops outside the default ONNX domain, with their domain.
_OP_DOMAINS = {"Scaler": "ai.onnx.ml"}

_HANDLERS = {
    "BatchNormalization": _op_batch_norm,
    "Cast": _op_cast,
    "ConstantOfShape": _op_constant_of_shape,
    "Div": _op_div,
    "Dropout": _op_dropout,
    "Flatten": _op_flatten,
    "Gemm": _op_gemm,
    "Identity": _op_pass_through,
    "MatMul": _op_matmul,
    "Mul": _op_mul,
    "Reshape": _op_reshape,
    "Scaler": _op_scaler,
    "Squeeze": _op_squeeze,
    "Unsqueeze": _op_unsqueeze,
}

#: Ops handled by the reader itself: they may append IR layers.
_LAYER_OPS = {
    "Add": _GraphReader._add,
    "AveragePool": _GraphReader._pool,
    "Concat": _GraphReader._concat,
    "Conv": _GraphReader._conv,
    "GlobalAveragePool": _GraphReader._pool,
    "GlobalMaxPool": _GraphReader._pool,
    "MaxPool": _GraphReader._pool,
    "Pad": _GraphReader._pad,
    "ReduceMean": _GraphReader._reduce_mean,
    "LeakyRelu": _GraphReader._leaky_relu,
    "Sigmoid": _GraphReader._smooth,
    "Softplus": _GraphReader._smooth,
    "Tanh": _GraphReader._smooth,
    "Sign": _GraphReader._sign,
    "Slice": _GraphReader._slice,
    "Sub": _GraphReader._sub,
    "Transpose": _GraphReader._transpose,
}
