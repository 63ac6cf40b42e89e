"""``pyomo-nn vnnlib NET.onnx PROP.vnnlib``: answer one VNN-LIB property, and
``pyomo-nn vnnlib-bench instances.csv``: run a VNN-COMP instance list."""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from pyomo_nn.cli.arg_types import positive_int, seconds
from pyomo_nn.cli.outputs import check_output_file, make_output_folder
from pyomo_nn.importers import load_onnx
from pyomo_nn.vnnlib.bench import (
    InstanceResult,
    read_expected,
    read_instances,
    run_benchmark,
    summary_table,
    write_results_csv,
)
from pyomo_nn.vnnlib.decide import verify_property
from pyomo_nn.vnnlib.results import write_result_file
from pyomo_nn.vnnlib.spec import load_vnnlib


def register(subparsers: argparse._SubParsersAction) -> None:
    single = subparsers.add_parser(
        "vnnlib",
        help="answer a VNN-LIB property on an ONNX network: sat, unsat, timeout or unknown",
        description="Prints progress, then as its last line exactly one of sat, unsat, timeout, "
        "unknown. 'sat' means a counterexample exists (confirmed by onnxruntime), 'unsat' that "
        "none exists (proved). Exit code 0 for any answer.",
    )
    single.add_argument("network", help="ONNX file")
    single.add_argument("property", help="VNN-LIB file")
    single.add_argument("--timeout", type=seconds, default=120.0, help="seconds, > 0 (default 120)")
    single.add_argument("--result-file", help="write the answer (and counterexample) in the VNN-COMP format")
    _add_common(single)
    single.add_argument("--quiet", action="store_true", help="print only the answer on stdout")
    single.set_defaults(func=run_single)

    bench = subparsers.add_parser(
        "vnnlib-bench",
        help="run a VNN-COMP instance list (network,property,timeout) and print a summary table",
    )
    bench.add_argument("instances", help="CSV file with rows network,property,timeout")
    bench.add_argument("--root", help="folder the CSV's paths are relative to (default: the CSV's folder)")
    bench.add_argument("--out", help="write one row per instance to this CSV file")
    bench.add_argument("--expected", help="CSV with network,property,result columns: count wrong answers")
    bench.add_argument("--result-dir", help="write one competition result file per instance here")
    _add_common(bench)
    bench.add_argument("--verbose", action="store_true", help="print every instance's progress lines")
    bench.set_defaults(func=run_bench)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers", type=positive_int, help="parallel MILP processes, >= 1 (default: one per core)"
    )
    parser.add_argument("--solver", default="highs", help="MILP solver (any Pyomo solver; default highs)")


def run_single(args: argparse.Namespace) -> int:
    check_output_file(args.result_file, "--result-file")
    log = None if args.quiet else _print
    network = load_onnx(args.network)
    spec = load_vnnlib(args.property)
    if log is not None:
        log(
            f"{Path(args.network).name}: {network.input_size} inputs, {network.output_size} outputs; {spec!r}"
        )
    result = verify_property(network, spec, args.timeout, solver=args.solver, workers=args.workers, log=log)
    if args.result_file:
        write_result_file(args.result_file, result)
    print(result.answer, flush=True)
    return 0


def run_bench(args: argparse.Namespace) -> int:
    check_output_file(args.out, "--out")
    instances = read_instances(args.instances, args.root)
    expected = read_expected(args.expected) if args.expected else None
    make_output_folder(args.result_dir, "--result-dir")

    def report(result: InstanceResult) -> None:
        network, prop = result.instance.key
        known = f" (expected {result.expected})" if result.expected else ""
        flag = "  WRONG" if result.wrong else ""
        _print(f"{network} {prop}: {result.answer}{known} in {result.seconds:.1f}s{flag}")

    results = run_benchmark(
        instances,
        expected=expected,
        result_dir=args.result_dir,
        solver=args.solver,
        workers=args.workers,
        log=_print if args.verbose else None,
        on_result=report,
    )
    if args.out:
        write_results_csv(args.out, results)
    groups: dict[str, list[InstanceResult]] = defaultdict(list)
    for result in results:
        groups[result.instance.key[0]].append(result)
    print(summary_table(dict(groups)), flush=True)
    return 0


def _print(line: str) -> None:
    print(line, flush=True)
