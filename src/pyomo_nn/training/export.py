"""ONNX export of trained binarised networks with standard operators only.

A hidden neuron ``u = hi if a >= 0 else lo`` is written ``Sign(Sign(a) + 0.5)`` (``+1`` for
``a >= 0``, ``-1`` below: ONNX's ``Sign`` gives 0 at 0, the ``+ 0.5`` sends it to ``+1``),
followed by ``Mul``/``Add`` to map ``{-1, 1}`` to ``{lo, hi}`` when they differ."""

from __future__ import annotations

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from pyomo_nn.errors import OutputFileError

#: An op sequence: ("affine", W, b) is ``x @ W.T + b``; ("binary", lo, hi) the step to {lo, hi}.
Step = tuple


def binary_steps(spec, layers: list[tuple[np.ndarray, np.ndarray]]) -> list[Step]:
    """The op sequence of one binarised MLP."""
    lo, hi = spec.activation_values
    steps: list[Step] = []
    for k, (W, b) in enumerate(layers):
        steps.append(("affine", W, b))
        if k < len(layers) - 1:
            steps.append(("binary", lo, hi))
    return steps


def run_steps(steps: list[Step], X: np.ndarray) -> np.ndarray:
    """The op sequence in numpy (what the ONNX graph computes)."""
    h = X
    for step in steps:
        if step[0] == "affine":
            h = h @ step[1].T + step[2]
        else:
            h = np.where(h >= 0, step[2], step[1]).astype(float)
    return h


def to_model(steps: list[Step]) -> onnx.ModelProto:
    """The ONNX model (opset 17) of an op sequence; input ``x`` (batch, n), output ``scores``."""
    nodes, inits = [], []
    n_in = steps[0][1].shape[1]
    current = "x"
    for k, step in enumerate(steps):
        out = f"t{k}"
        if step[0] == "affine":
            W, b = step[1], step[2]
            inits += [
                numpy_helper.from_array(np.ascontiguousarray(W, dtype=np.float32), f"W{k}"),
                numpy_helper.from_array(np.asarray(b, dtype=np.float32), f"b{k}"),
            ]
            nodes.append(helper.make_node("Gemm", [current, f"W{k}", f"b{k}"], [out], transB=1))
            n_out = W.shape[0]
        else:
            lo, hi = step[1], step[2]
            inits.append(numpy_helper.from_array(np.array(0.5, dtype=np.float32), f"half{k}"))
            nodes += [
                helper.make_node("Sign", [current], [f"{out}_s"]),
                helper.make_node("Add", [f"{out}_s", f"half{k}"], [f"{out}_h"]),
            ]
            if (lo, hi) == (-1, 1):
                nodes.append(helper.make_node("Sign", [f"{out}_h"], [out]))
            else:  # {-1, 1} -> {lo, hi}: * (hi - lo) / 2 + (hi + lo) / 2
                inits += [
                    numpy_helper.from_array(np.array((hi - lo) / 2, dtype=np.float32), f"scale{k}"),
                    numpy_helper.from_array(np.array((hi + lo) / 2, dtype=np.float32), f"shift{k}"),
                ]
                nodes += [
                    helper.make_node("Sign", [f"{out}_h"], [f"{out}_pm"]),
                    helper.make_node("Mul", [f"{out}_pm", f"scale{k}"], [f"{out}_m"]),
                    helper.make_node("Add", [f"{out}_m", f"shift{k}"], [out]),
                ]
        current = out
    nodes.append(helper.make_node("Identity", [current], ["scores"]))
    graph = helper.make_graph(
        nodes,
        "binarised_mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", n_in])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", n_out])],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="pyomo-nn training"
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def write_onnx(steps: list[Step], path: str | os.PathLike[str]) -> None:
    """Save the op sequence to ``path``."""
    model = to_model(steps)
    try:
        onnx.save(model, os.fspath(path))
    except OSError as exc:
        raise OutputFileError(f"cannot write {os.fspath(path)!r}: {exc}") from None


def side_by_side(step_lists: list[list[Step]]) -> list[Step]:
    """Networks of the same op pattern on the same input as one op sequence: the first affine
    layers stacked, the later ones block-diagonal (each network keeps its own units)."""
    from scipy.linalg import block_diag

    out: list[Step] = []
    for t, steps in enumerate(zip(*step_lists, strict=True)):
        if steps[0][0] == "affine":
            W = np.vstack([s[1] for s in steps]) if t == 0 else block_diag(*[s[1] for s in steps])
            out.append(("affine", W, np.concatenate([s[2] for s in steps])))
        else:
            out.append(steps[0])
    return out


def one_hot_argmax(steps: list[Step], n_classes: int, integer: bool) -> list[Step]:
    """``steps`` followed by a 0/1 indicator of the argmax of its last output (the first class
    on ties): class ``k`` wins when ``s_k - s_j >= 0`` for every later ``j`` and ``> 0`` for every
    earlier one (``>= 1`` on integer scores, else ``>= 1e-9``). The differences fold into the last
    affine layer; an AND (a sum of the ``C - 1`` indicators reaching ``C - 1``) follows."""
    strict = 0.5 if integer else 1e-9
    rows, offsets = [], []
    for k in range(n_classes):
        for j in range(n_classes):
            if j != k:
                row = np.zeros(n_classes)
                row[k], row[j] = 1.0, -1.0
                rows.append(row)
                offsets.append(strict if j < k else 0.0)
    D = np.array(rows)
    kind, W, b = steps[-1]
    assert kind == "affine"
    A = np.kron(np.eye(n_classes), np.ones((1, n_classes - 1)))
    return [
        *steps[:-1],
        ("affine", D @ W, D @ b - np.array(offsets)),
        ("binary", 0, 1),
        ("affine", A, np.full(n_classes, -(n_classes - 1) + 0.5)),
        ("binary", 0, 1),
    ]
