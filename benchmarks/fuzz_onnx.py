"""Fuzz the ONNX importer with byte-mutated copies of small ONNX files.

Every mutant (bits flipped, bytes inserted, deleted or overwritten, float32 weights replaced
by huge values, NaN or infinity) is given to :func:`pyomo_nn.load_onnx_bytes`. Allowed
outcomes: a typed :class:`~pyomo_nn.errors.PyomoNNError`, or a load whose numpy forward pass
matches onnxruntime on random inputs in [0, 1]. Anything else (another exception type, a
mismatch, a hang past ``--timeout``) is a bug; its mutant is written to ``--save`` for replay::

    python benchmarks/fuzz_onnx.py --seconds 90              # counts per outcome
    python benchmarks/fuzz_onnx.py --replay /tmp/onnx_fuzz/bug_0.onnx

The mutation functions are shared with ``tests/test_onnx_fuzz.py`` (a fixed-seed run).
"""

from __future__ import annotations

import argparse
import signal
import struct
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

import pyomo_nn as pnn
from pyomo_nn.errors import PyomoNNError
from pyomo_nn.importers import load_onnx_bytes
from pyomo_nn.tolerances import IMPORT_MATCH_ATOL

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (
    ROOT / "src/pyomo_nn/data/digits_64-32-32-10.onnx",
    ROOT / "tests/data/torch_cnn_legacy.onnx",
    ROOT / "tests/data/vnnlib/test_nano.onnx",
    ROOT / "tests/data/torch_residual_dynamo.onnx",
    ROOT / "tests/data/torch_cnn_batchnorm.onnx",
    ROOT / "tests/data/torch_norm_mlp_dynamo.onnx",
    ROOT / "tests/data/vnncomp_test_small.onnx",
)

#: float32 values spliced over weights: huge (1e17..1e38), non-finite, tiny and ordinary ones.
HUGE_FLOATS = (1e17, -1e20, 1e25, 3e38, -3.4e38, 1e7, 1e9)
SPECIAL_FLOATS = (*HUGE_FLOATS, float("nan"), float("inf"), -float("inf"), 1e-40, 0.0, -1.0, 1.0)

#: An outcome starting with this prefix is a bug.
BUG = "BUG "


@dataclass(frozen=True)
class Seed:
    """A seed file: its bytes and the byte ranges holding float32 tensor data."""

    name: str
    data: bytes
    float_ranges: tuple[tuple[int, int], ...]


def read_seed(path: Path) -> Seed:
    """The file's bytes and where its float32 initializers and constants lie in them."""
    data = path.read_bytes()
    model = onnx.load_from_string(data)
    tensors = [*model.graph.initializer]
    tensors += [attr.t for node in model.graph.node for attr in node.attribute if attr.HasField("t")]
    ranges = []
    for tensor in tensors:
        raw = tensor.raw_data
        start = data.find(raw) if tensor.data_type == onnx.TensorProto.FLOAT and len(raw) >= 4 else -1
        if start >= 0:
            ranges.append((start, start + len(raw)))
    return Seed(path.name, data, tuple(ranges))


def mutate(seed: Seed, rng: np.random.Generator) -> bytes:
    """One to three random byte mutations of the seed, or (one time in four) a structured
    mutation of one integer field (see :func:`mutate_field`)."""
    if rng.random() < 0.25:
        return mutate_field(seed, rng)
    data = bytearray(seed.data)
    for _ in range(int(rng.integers(1, 4))):
        kind = MUTATIONS[int(rng.integers(len(MUTATIONS)))]
        kind(data, seed, rng)
    return bytes(data)


def _position(data: bytearray, seed: Seed, rng: np.random.Generator) -> int:
    """A random offset, half the time outside the weights (where the graph structure is)."""
    if rng.random() < 0.5 and seed.float_ranges:
        for _ in range(8):
            offset = int(rng.integers(len(data)))
            if not any(start <= offset < stop for start, stop in seed.float_ranges):
                return offset
    return int(rng.integers(max(len(data), 1)))


def _flip(data: bytearray, seed: Seed, rng: np.random.Generator) -> None:
    if data:
        data[_position(data, seed, rng) % len(data)] ^= 1 << int(rng.integers(8))


def _insert(data: bytearray, seed: Seed, rng: np.random.Generator) -> None:
    offset = _position(data, seed, rng)
    data[offset:offset] = rng.integers(0, 256, int(rng.integers(1, 9)), dtype=np.uint8).tobytes()


def _delete(data: bytearray, seed: Seed, rng: np.random.Generator) -> None:
    offset = _position(data, seed, rng)
    del data[offset : offset + int(rng.integers(1, 9))]


def _overwrite(data: bytearray, seed: Seed, rng: np.random.Generator) -> None:
    offset = _position(data, seed, rng)
    count = min(int(rng.integers(1, 5)), len(data) - offset)
    data[offset : offset + count] = rng.integers(0, 256, count, dtype=np.uint8).tobytes()


def _varint(data: bytearray, seed: Seed, rng: np.random.Generator) -> None:
    """Replace one byte by a small or boundary integer (dims, attribute values, type codes)."""
    if data:
        data[_position(data, seed, rng) % len(data)] = int(rng.choice([0, 1, 2, 3, 7, 8, 0x7F, 0x80, 0xFF]))


def _splice_float(data: bytearray, seed: Seed, rng: np.random.Generator) -> None:
    """Overwrite an aligned float32 weight with a special value."""
    if not seed.float_ranges:
        return
    start, stop = seed.float_ranges[int(rng.integers(len(seed.float_ranges)))]
    offset = start + 4 * int(rng.integers((stop - start) // 4))
    if offset + 4 <= len(data):
        value = SPECIAL_FLOATS[int(rng.integers(len(SPECIAL_FLOATS)))]
        data[offset : offset + 4] = struct.pack("<f", value)


MUTATIONS = (_flip, _insert, _delete, _overwrite, _varint, _splice_float)

#: Integers a structured mutation writes: boundaries, small values and overflow bait.
SPECIAL_INTS = (0, 1, 2, 3, 5, -1, -2, 100, 10**6, 10**9, 2**31 - 1, 2**31, 2**40, 2**62, -(2**63))


def mutate_field(seed: Seed, rng: np.random.Generator) -> bytes:
    """The seed with one integer changed where byte flips rarely reach with the file still
    valid: an input dimension, an int attribute, an int64 constant (Reshape targets, axes),
    the opset, or a node's op type swapped for another supported one."""
    model = onnx.load_from_string(seed.data)
    value = int(rng.choice(SPECIAL_INTS))
    kind = int(rng.integers(4))
    if kind == 0:
        _set_input_dim(model, rng, value)
    elif kind == 1:
        _set_attribute(model, rng, value)
    elif kind == 2:
        _set_int_constant(model, rng, value)
    else:
        _swap_op(model, rng)
    return model.SerializeToString()


def _pick(items: list, rng: np.random.Generator) -> object | None:
    return items[int(rng.integers(len(items)))] if items else None


def _set_input_dim(model: onnx.ModelProto, rng: np.random.Generator, value: int) -> None:
    dims = [dim for info in model.graph.input for dim in info.type.tensor_type.shape.dim]
    dim = _pick(dims, rng)
    if dim is not None:
        dim.dim_value = value


def _set_attribute(model: onnx.ModelProto, rng: np.random.Generator, value: int) -> None:
    attrs = [attr for node in model.graph.node for attr in node.attribute if attr.ints or attr.HasField("i")]
    attr = _pick(attrs, rng)
    if attr is None:
        return
    if attr.ints:
        attr.ints[int(rng.integers(len(attr.ints)))] = value
    else:
        attr.i = value


def _set_int_constant(model: onnx.ModelProto, rng: np.random.Generator, value: int) -> None:
    tensors = [*model.graph.initializer]
    tensors += [attr.t for node in model.graph.node for attr in node.attribute if attr.HasField("t")]
    tensors = [t for t in tensors if t.data_type == onnx.TensorProto.INT64]
    tensor = _pick(tensors, rng)
    if tensor is None:
        return
    array = onnx.numpy_helper.to_array(tensor).copy()
    if array.size:
        array.flat[int(rng.integers(array.size))] = value
        tensor.CopyFrom(onnx.numpy_helper.from_array(array, tensor.name))


def _swap_op(model: onnx.ModelProto, rng: np.random.Generator) -> None:
    node = _pick(list(model.graph.node), rng)
    if node is not None:
        node.op_type = str(_pick(list(pnn.supported_ops()), rng))


class Hang(Exception):
    """The mutant took longer than the time limit."""


def _on_alarm(signum: int, frame: object) -> None:
    raise Hang


def outcome(mutant: bytes, samples: int = 4, timeout: float | None = None) -> str:
    """What loading ``mutant`` gives: the typed error's class name, ``loaded`` (matching
    onnxruntime) or a string starting with :data:`BUG`."""
    if not timeout:
        return _outcome(mutant, samples)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            return _outcome(mutant, samples)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except Hang:
        return BUG + "hang"
    finally:
        signal.signal(signal.SIGALRM, previous)


def _outcome(mutant: bytes, samples: int) -> str:
    try:
        network = load_onnx_bytes(mutant, label="mutant")
    except PyomoNNError as error:
        return type(error).__name__
    except Hang:
        raise
    except Exception as error:
        return f"{BUG}{type(error).__name__}: {str(error).splitlines()[0][:100] if str(error) else ''}"
    return _compare_with_onnxruntime(network, samples)


def _compare_with_onnxruntime(network: pnn.Network, samples: int) -> str:
    x = np.random.default_rng(0).uniform(0.0, 1.0, size=(samples, network.input_size))
    try:
        reference = network.source.run(x)
    except Hang:
        raise
    except Exception as error:
        return f"{BUG}loaded, onnxruntime fails ({type(error).__name__})"
    with np.errstate(all="ignore"):
        ours = network.forward(x)
    if ours.shape != reference.shape:
        return f"{BUG}loaded, output shape {ours.shape} != onnxruntime's {reference.shape}"
    scale = max(1.0, float(np.max(np.abs(reference), initial=0.0)))
    difference = np.abs(ours - reference)
    if not np.all(np.isfinite(reference)) or np.max(difference, initial=0.0) > IMPORT_MATCH_ATOL * scale:
        return f"{BUG}loaded, differs from onnxruntime"
    return "loaded"


def mutants(seeds: list[Seed], seed: int) -> Iterator[tuple[Seed, bytes]]:
    """An endless stream of (seed file, mutant), round robin over the seeds."""
    rng = np.random.default_rng(seed)
    while True:
        for item in seeds:
            yield item, mutate(item, rng)


def run(seeds: list[Seed], seconds: float, seed: int, timeout: float, save: Path | None) -> Counter:
    """Fuzz for ``seconds``; returns counts per (outcome); saves each distinct bug's mutant."""
    counts: Counter = Counter()
    per_seed: Counter = Counter()
    saved: set[str] = set()
    slowest = 0.0
    deadline = time.perf_counter() + seconds
    for item, mutant in mutants(seeds, seed):
        start = time.perf_counter()
        if start > deadline:
            break
        result = outcome(mutant, timeout=timeout)
        slowest = max(slowest, time.perf_counter() - start)
        counts[result] += 1
        per_seed[item.name, result.startswith(BUG)] += 1
        if result.startswith(BUG) and save is not None and result not in saved:
            save.mkdir(parents=True, exist_ok=True)
            (save / f"bug_{len(saved)}.onnx").write_bytes(mutant)
            print(f"bug_{len(saved)}.onnx ({item.name}): {result}", file=sys.stderr)
            saved.add(result)
    for name in sorted({name for name, _ in per_seed}):
        print(f"{name}: {per_seed[name, False] + per_seed[name, True]} mutants, {per_seed[name, True]} bugs")
    print(f"slowest mutant: {slowest:.2f} s")
    return counts


def _limit_memory(gigabytes: float) -> None:
    """Turn runaway allocations into MemoryError instead of swapping the machine."""
    import resource

    limit = int(gigabytes * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to fuzz (default 60)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per mutant before a hang")
    parser.add_argument("--memory", type=float, default=4.0, help="address-space limit in GB")
    parser.add_argument("--save", type=Path, default=Path("/tmp/onnx_fuzz"), help="folder for bug mutants")
    parser.add_argument("--replay", type=Path, help="classify one saved mutant and show the traceback")
    parser.add_argument("files", nargs="*", type=Path, help="seed ONNX files (default: seven small ones)")
    args = parser.parse_args(argv)
    _limit_memory(args.memory)
    if args.replay:
        pnn.load_onnx(args.replay)
        print(outcome(args.replay.read_bytes()))
        return 0
    seeds = [read_seed(path) for path in args.files or SEEDS]
    start = time.perf_counter()
    counts = run(seeds, args.seconds, args.seed, args.timeout, args.save)
    total = sum(counts.values())
    print(f"{total} mutants in {time.perf_counter() - start:.1f} s")
    for name, count in counts.most_common():
        print(f"{count:>9}  {name}")
    bugs = sum(count for name, count in counts.items() if name.startswith(BUG))
    print(f"{bugs} bugs")
    return 1 if bugs else 0


if __name__ == "__main__":
    sys.exit(main())
