"""VNN-COMP 2021 ``mnist_fc``: 3 MNIST networks x 30 properties with the competition's timeouts.

Runs every instance of ``../shared/bench/mnist_fc/mnistfc_instances.csv`` (120 s for 256x2,
300 s for 256x4 and 256x6) through :func:`pyomo_nn.vnnlib.verify_property`, checks the answers
against the 2021 majority vote and prints, per network and eps, the sat / unsat / timeout /
unknown counts, wrong answers and times. This is a benchmark, not a test: all 90 instances
can take a few hours on 2 cores; run it in the background::

    nohup python benchmarks/mnist_fc.py --out /tmp/mnist_fc.csv > /tmp/mnist_fc.log 2>&1 &
    python benchmarks/mnist_fc.py --nets 256x2            # the 30 instances of the smallest net

The data (networks, properties, instance list and the 2021 answers by majority vote) is the
VNN-COMP 2021 ``mnistfc`` benchmark, from https://github.com/stanleybak/vnncomp2021, folder
``benchmarks/mnistfc`` (gunzip the files there); ``../shared/bench/README.md`` describes the
copy read by default. ``--data DIR`` reads it from another folder.

Options: ``--data``, ``--nets`` (any of 256x2 256x4 256x6), ``--out`` (one CSV row per instance),
``--result-dir`` (competition result files), ``--workers`` (parallel MILP processes),
``--verbose`` (every progress line of every instance), ``--properties`` (only these
properties, e.g. ``prop_9_0.03``, on the chosen nets: to re-run the hard instances),
``--skip-unknown`` (leave out the instances no 2021 tool answered, counting them as
unanswered: they would cost their full timeout each).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

from pyomo_nn.cli.outputs import check_output_file
from pyomo_nn.errors import PyomoNNError
from pyomo_nn.vnnlib.bench import (
    InstanceResult,
    read_expected,
    read_instances,
    run_benchmark,
    summary_table,
    write_results_csv,
)

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench" / "mnist_fc"
NETS = ("256x2", "256x4", "256x6")
INSTANCES = "mnistfc_instances.csv"
EXPECTED = "expected_2021_by_vote.csv"
SOURCE = "https://github.com/stanleybak/vnncomp2021 (folder benchmarks/mnistfc)"

#: Verified / falsified of the 89 instances with a known or open answer by the best 2021 tools.
TOOLS_2021 = (
    "a-b-CROWN 49/21, VeriNet 39/21, Debona 37/22, oval 37/21, Marabou 35/19, ERAN 34/22, nnenum 35/12"
)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, default=BENCH, help=f"folder with {INSTANCES} and {EXPECTED} (default {BENCH})"
    )
    parser.add_argument("--nets", nargs="+", default=list(NETS), choices=NETS)
    parser.add_argument(
        "--properties", nargs="+", metavar="PROP", help="only these properties (e.g. prop_9_0.03)"
    )
    parser.add_argument("--out", help="CSV file, one row per instance")
    parser.add_argument("--result-dir", help="folder for the competition result files")
    parser.add_argument("--workers", type=int, help="parallel MILP processes (default: one per core)")
    parser.add_argument("--verbose", action="store_true", help="print every progress line")
    parser.add_argument(
        "--skip-unknown",
        action="store_true",
        help="do not run the instances no 2021 tool answered (counted as unanswered)",
    )
    args = parser.parse_args()
    missing = missing_data(args.data)
    if missing:
        print(missing, file=sys.stderr)
        return 2
    try:
        return run(args)
    except PyomoNNError as error:
        print(f"mnist_fc: {error}", file=sys.stderr)
        return 2


def missing_data(folder: Path) -> str | None:
    """Why ``folder`` cannot be the benchmark's data, with where to get it; None when it can."""
    absent = [name for name in (INSTANCES, EXPECTED) if not (folder / name).is_file()]
    if not absent:
        return None
    return (
        f"mnist_fc: benchmark data not found: {', '.join(absent)} missing in {folder}.\n"
        f"The data is the VNN-COMP 2021 mnist_fc benchmark from {SOURCE}: the networks "
        f"mnist-net_256x{{2,4,6}}.onnx, the prop_*.vnnlib files and {INSTANCES}, with {EXPECTED} "
        "(the 2021 tools' answers by majority vote; ../shared/bench/README.md). Put it in "
        f"{BENCH} (the default) or pass --data DIR."
    )


def run(args: argparse.Namespace) -> int:
    """Run the selected instances and print the tables."""
    check_output_file(args.out, "--out")
    instances = [
        instance
        for instance in read_instances(args.data / INSTANCES)
        if any(f"_{net}." in instance.network.name for net in args.nets)
        and (args.properties is None or instance.key[1] in args.properties)
    ]
    if not instances:
        print(
            f"mnist_fc: no instance matches --nets {args.nets} and --properties {args.properties}",
            file=sys.stderr,
        )
        return 2
    expected = read_expected(args.data / EXPECTED)
    skipped = []
    if args.skip_unknown:
        skipped = [instance for instance in instances if expected.get(instance.key) == "unknown"]
        instances = [instance for instance in instances if instance not in skipped]
    if args.result_dir:
        Path(args.result_dir).mkdir(parents=True, exist_ok=True)
    print(f"{len(instances)} instances of mnist_fc ({', '.join(args.nets)})", flush=True)
    if skipped:
        names = ", ".join(" ".join(instance.key) for instance in skipped)
        print(f"not run (no 2021 tool answered them; counted as unanswered): {names}", flush=True)

    def report(result: InstanceResult) -> None:
        network, prop = result.instance.key
        flag = "  WRONG" if result.wrong else ""
        print(
            f"{network} {prop:<13} {result.answer:<8} expected {result.expected or '?':<8} "
            f"{result.seconds:7.1f}s  {result.reason}{flag}",
            flush=True,
        )

    results = run_benchmark(
        instances,
        expected=expected,
        result_dir=args.result_dir,
        workers=args.workers,
        log=(lambda line: print(line, flush=True)) if args.verbose else None,
        on_result=report,
    )
    if args.out:
        write_results_csv(args.out, results)
    by_group: dict[str, list[InstanceResult]] = defaultdict(list)
    by_net: dict[str, list[InstanceResult]] = defaultdict(list)
    for result in results:
        network, prop = result.instance.key
        eps = re.sub(r"^prop_\d+_", "", prop)
        by_group[f"{network} eps {eps}"].append(result)
        by_net[network].append(result)
    print()
    print(summary_table(dict(sorted(by_group.items()))))
    print()
    print(summary_table(dict(sorted(by_net.items()))))
    answered = sum(r.answer in ("sat", "unsat") for r in results if r.expected is not None)
    total = sum(r.expected is not None for r in results) + len(skipped)
    print(f"\nanswered {answered} of {total} instances with a vote ({len(skipped)} not run)")
    print(f"2021 tools (verified/falsified of 89): {TOOLS_2021}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
