"""Build speed of a convolutional network block: pyomo-nn vs OMLT on a 28x28 CNN.

The network: input 1 x 28 x 28 -> Conv(16, 3x3) -> ReLU -> Conv(32, 3x3) -> ReLU ->
MaxPool(2x2) -> Flatten -> Dense(4608 -> 10). Weights are drawn like torch's default
initialisation (uniform in +-1/sqrt(fan_in)) from a fixed seed; the convolutions have no bias
because OMLT's ConvLayer2D has none, so both tools can be given the same weights. The ONNX
file is written with ``onnx.helper`` (no torch needed).

The domain is an L-infinity ball (``--eps``) around the first MNIST test image of
``../shared/bench`` (a fixed random image when that folder is missing), clipped to [0, 1].

pyomo-nn: ``load_onnx``, ``compute_bounds`` (interval and symbolic), ``NetworkBlock``. The
build time is the block's construction from the network and bounds (best of ``--repeats``);
the table gives variables, constraints, binaries and non-zeros of the block, and the check puts
every variable at its value in the numpy forward pass of the image (``warm_start``) and
measures the largest constraint violation.

OMLT (``pip install 'pyomo-nn[bench]'``): first its ONNX reader on the same file, then its
layer API (``ConvLayer2D``, ``PoolingLayer2D``, ``DenseLayer``) with ``ReluBigMFormulation``;
OMLT computes its own (interval) bounds while building. OMLT's ``PoolingLayer2D`` is also
evaluated against numpy, since its windows read input channels 0..kernel_depth-1 whatever the
output channel (see the printed check).

Usage::

    python benchmarks/cnn_build.py [--eps 0.02] [--repeats 3] [--no-check] [--no-omlt]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pyomo.environ as pyo
from onnx import TensorProto, helper, numpy_helper

import pyomo_nn as pnn

MNIST_IMAGES = (
    Path(__file__).resolve().parents[2] / "shared" / "bench" / "mnist_images" / "mnist_test_first100.csv"
)
IMAGE = (1, 28, 28)
CHANNELS = (16, 32)
KERNEL = 3
POOL = 2
CLASSES = 10
SEED = 0
#: Conv attributes written out in full, as torch.onnx.export writes them.
CONV_ATTRIBUTES = {
    "kernel_shape": [KERNEL] * 2,
    "strides": [1, 1],
    "pads": [0] * 4,
    "dilations": [1, 1],
    "group": 1,
}
#: A build slower than this is not repeated.
REPEAT_BELOW_SECONDS = 30.0
_HEADER = f"{'build s':>9}{'variables':>11}{'binaries':>10}{'constraints':>13}{'nonzeros':>10}"
#: The forward pass of the image must satisfy every constraint of the block within this.
CHECK_ATOL = 1e-9


def make_weights(seed: int) -> dict[str, np.ndarray]:
    """Conv kernels, dense weight and bias, drawn like torch's default initialisation."""
    rng = np.random.default_rng(seed)

    def uniform(shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, size=shape).astype(np.float32)

    side = IMAGE[1] - 2 * (KERNEL - 1)
    flat = CHANNELS[1] * (side // POOL) ** 2
    return {
        "conv1.weight": uniform((CHANNELS[0], IMAGE[0], KERNEL, KERNEL), IMAGE[0] * KERNEL**2),
        "conv2.weight": uniform((CHANNELS[1], CHANNELS[0], KERNEL, KERNEL), CHANNELS[0] * KERNEL**2),
        "fc.weight": uniform((CLASSES, flat), flat),
        "fc.bias": uniform((CLASSES,), flat),
    }


def write_onnx(weights: dict[str, np.ndarray], path: Path) -> None:
    """The CNN as an ONNX file (opset 17, dynamic batch)."""
    nodes = [
        helper.make_node("Conv", ["input", "conv1.weight"], ["c1"], name="conv1", **CONV_ATTRIBUTES),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "conv2.weight"], ["c2"], name="conv2", **CONV_ATTRIBUTES),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node(
            "MaxPool", ["r2"], ["p"], name="pool", kernel_shape=[POOL] * 2, strides=[POOL] * 2, pads=[0] * 4
        ),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "cnn_build_benchmark",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", *IMAGE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", CLASSES])],
        [numpy_helper.from_array(value, name) for name, value in weights.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def first_image() -> tuple[np.ndarray, str]:
    if MNIST_IMAGES.exists():
        return np.loadtxt(MNIST_IMAGES, delimiter=",", max_rows=1)[1:] / 255.0, "MNIST test image 0"
    return np.random.default_rng(12345).uniform(0.0, 1.0, 784), "random image (MNIST csv not found)"


def best_time(build: Callable[[], pyo.ConcreteModel], repeats: int) -> tuple[pyo.ConcreteModel, float]:
    """The model of the last build and the best wall time over ``repeats`` builds."""
    best, model = float("inf"), None
    for _ in range(repeats):
        model = None
        gc.collect()
        start = time.perf_counter()
        model = build()
        best = min(best, time.perf_counter() - start)
        if best > REPEAT_BELOW_SECONDS:
            break
    return model, best


def model_counts(model: pyo.ConcreteModel) -> dict[str, int]:
    """Unfixed variables, binaries, active constraints and their non-zero coefficients."""
    variables = [v for v in model.component_data_objects(pyo.Var, descend_into=True) if not v.fixed]
    nonzeros = 0
    constraints = 0
    for constraint in model.component_data_objects(pyo.Constraint, active=True, descend_into=True):
        constraints += 1
        nonzeros += sum(1 for v in pyo.expr.identify_variables(constraint.body) if not v.fixed)
    return {
        "variables": len(variables),
        "binaries": sum(1 for v in variables if v.is_binary()),
        "constraints": constraints,
        "nonzeros": nonzeros,
    }


def check_at_image(block: pnn.NetworkBlock, x0: np.ndarray) -> str:
    """Warm-start the block at ``x0`` (every variable at its value in the numpy forward pass,
    max-pool and ReLU binaries included) and measure the largest constraint violation."""
    block.warm_start(x0)
    violation = 0.0
    for constraint in block.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(constraint.body)
        if constraint.has_lb():
            violation = max(violation, pyo.value(constraint.lower) - body)
        if constraint.has_ub():
            violation = max(violation, body - pyo.value(constraint.upper))
    verdict = "feasible" if violation <= CHECK_ATOL else "INFEASIBLE"
    return f"largest constraint violation at the image's forward pass {violation:.2e} ({verdict})"


def run_pyomo_nn(path: Path, domain: pnn.LinfBall, x0: np.ndarray, repeats: int, check: bool) -> None:
    start = time.perf_counter()
    network = pnn.load_onnx(path)
    print(f"pyomo-nn {pnn.__version__}: load_onnx {time.perf_counter() - start:.2f} s")
    print(network.summary())
    print(f"\n{'bounds':<10}{'bounds s':>9}{_HEADER}")
    for method in ("interval", "symbolic"):
        start = time.perf_counter()
        bounds = pnn.compute_bounds(network, domain, method=method)
        bounds_seconds = time.perf_counter() - start

        def build(bounds: pnn.Bounds = bounds) -> pyo.ConcreteModel:
            model = pyo.ConcreteModel()
            model.nn = pnn.NetworkBlock(network, bounds)
            return model

        model, seconds = best_time(build, repeats)
        counts = model_counts(model)
        print(
            f"{method:<10}{bounds_seconds:>9.2f}{seconds:>9.2f}{counts['variables']:>11}{counts['binaries']:>10}"
            f"{counts['constraints']:>13}{counts['nonzeros']:>10}"
        )
        print("    " + model.nn.summary().replace("\n", "\n    "))
        if check:
            print(f"    check: {check_at_image(model.nn, x0)}")


def run_omlt(
    path: Path, weights: dict[str, np.ndarray], domain: pnn.LinfBall, x0: np.ndarray, repeats: int
) -> None:
    try:
        from omlt import OmltBlock
        from omlt.io.onnx import load_onnx_neural_network
        from omlt.neuralnet import NetworkDefinition, ReluBigMFormulation
        from omlt.neuralnet.layer import ConvLayer2D, DenseLayer, IndexMapper, InputLayer, PoolingLayer2D
    except ImportError:
        print("\nOMLT is not installed (pip install 'pyomo-nn[bench]'): no OMLT figures")
        return
    from importlib.metadata import version

    lower, upper = domain.box(int(np.prod(IMAGE)))
    box = {index: (float(lower[k]), float(upper[k])) for k, index in enumerate(np.ndindex(*IMAGE))}
    print(f"\nOMLT {version('omlt')}")
    try:
        load_onnx_neural_network(onnx.load(path), input_bounds=box)
        print("  ONNX reader: loads the file")
    except Exception as error:  # OMLT raises ValueError/KeyError/IndexError from deep inside
        print(f"  ONNX reader: cannot load the file ({type(error).__name__}: {error})")

    side1 = IMAGE[1] - KERNEL + 1
    side2 = side1 - KERNEL + 1
    pooled = side2 // POOL

    def definition() -> NetworkDefinition:
        net = NetworkDefinition(scaled_input_bounds=box)
        layers = [
            InputLayer(list(IMAGE)),
            ConvLayer2D(
                list(IMAGE), [CHANNELS[0], side1, side1], [1, 1], weights["conv1.weight"], activation="relu"
            ),
            ConvLayer2D(
                [CHANNELS[0], side1, side1],
                [CHANNELS[1], side2, side2],
                [1, 1],
                weights["conv2.weight"],
                activation="relu",
            ),
            PoolingLayer2D(
                [CHANNELS[1], side2, side2],
                [CHANNELS[1], pooled, pooled],
                [POOL, POOL],
                "max",
                (POOL, POOL),
                1,
            ),
            DenseLayer(
                [CHANNELS[1] * pooled * pooled],
                [CLASSES],
                weights["fc.weight"].T.astype(np.float64),
                weights["fc.bias"].astype(np.float64),
                input_index_mapper=IndexMapper(
                    [CHANNELS[1], pooled, pooled], [CHANNELS[1] * pooled * pooled]
                ),
            ),
        ]
        for layer in layers:
            net.add_layer(layer)
        for previous, layer in itertools.pairwise(layers):
            net.add_edge(previous, layer)
        return net

    pool = list(definition().layers)[3]
    image = x0.reshape(IMAGE)
    relu = lambda a: np.maximum(a, 0.0)  # noqa: E731
    conv_out = relu(_conv(relu(_conv(image, weights["conv1.weight"])), weights["conv2.weight"]))
    ours = conv_out.reshape(CHANNELS[1], pooled, POOL, pooled, POOL).max(axis=(2, 4))
    theirs = pool._eval(conv_out)
    print(
        f"  PoolingLayer2D vs per-channel max pooling at the image: max difference "
        f"{np.max(np.abs(ours - theirs)):.3g} (OMLT's windows read channel 0 for every output channel)"
    )

    def build() -> pyo.ConcreteModel:
        model = pyo.ConcreteModel()
        model.nn = OmltBlock()
        model.nn.build_formulation(ReluBigMFormulation(definition()))
        return model

    logging.getLogger("pyomo.core").setLevel(logging.ERROR)  # OMLT sets its inputs to 0 outside their bounds

    try:
        model, seconds = best_time(build, repeats)
    except Exception as error:
        print(f"  layer API: the formulation fails ({type(error).__name__}: {error})")
        return
    counts = model_counts(model)
    print(
        f"{'':<10}{'':>9}{'build s':>9}{'variables':>11}{'binaries':>10}{'constraints':>13}{'nonzeros':>10}"
    )
    print(
        f"{'layer API':<10}{'':>9}{seconds:>9.2f}{counts['variables']:>11}{counts['binaries']:>10}"
        f"{counts['constraints']:>13}{counts['nonzeros']:>10}"
    )


def _conv(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Valid cross-correlation of a (C, H, W) image (reference for the OMLT check)."""
    k = kernel.shape[2]
    side = x.shape[1] - k + 1
    patches = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))[:, :side, :side]
    return np.einsum("chwij,ocij->ohw", patches, kernel)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eps", type=float, default=0.02, help="L-infinity radius around the image")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help=f"builds per tool, best time kept (builds over {REPEAT_BELOW_SECONDS:g} s run once)",
    )
    parser.add_argument("--no-check", action="store_true", help="skip the feasibility check at the image")
    parser.add_argument("--no-omlt", action="store_true", help="skip OMLT")
    args = parser.parse_args()

    weights = make_weights(SEED)
    x0, label = first_image()
    domain = pnn.LinfBall(x0, eps=args.eps, lower=0.0, upper=1.0)
    print(f"CNN 1x28x28 -> conv 16 -> conv 32 -> maxpool 2 -> dense 10; {label}, eps {args.eps}\n")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cnn.onnx"
        write_onnx(weights, path)
        run_pyomo_nn(path, domain, x0, args.repeats, check=not args.no_check)
        if not args.no_omlt:
            run_omlt(path, weights, domain, x0, args.repeats)


if __name__ == "__main__":
    main()
