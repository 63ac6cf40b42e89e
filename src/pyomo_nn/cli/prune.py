"""``pyomo-nn prune model.onnx --percent 90 --out model_p90.onnx``: the Rounder (thesis Alg. 2)."""

from __future__ import annotations

import argparse

from pyomo_nn.cli.arg_types import non_negative, percentage
from pyomo_nn.cli.outputs import check_output_file
from pyomo_nn.exporters import save_onnx
from pyomo_nn.importers import load_onnx
from pyomo_nn.transforms.rounder import prune, pruning_threshold, sparsity


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("prune", help="zero small weights (thesis Rounder) and write ONNX")
    parser.add_argument("model", help="ONNX file")
    amount = parser.add_mutually_exclusive_group(required=True)
    amount.add_argument("--percent", type=percentage, help="percentage of weights to zero (0 to 100)")
    amount.add_argument("--eps", type=non_negative, help="zero every weight with |w| <= EPS (EPS >= 0)")
    parser.add_argument("--out", required=True, help="ONNX file to write")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_output_file(args.out, "--out")
    net = load_onnx(args.model)
    eps = pruning_threshold(net, args.percent) if args.percent is not None else args.eps
    pruned = prune(net, eps=eps)
    print(f"eps = {eps:.6g}")
    print(f"{'layer':<12}{'zeros before':>14}{'zeros after':>13}{'weights':>9}{'sparsity':>10}")
    for before, after in zip(sparsity(net), sparsity(pruned), strict=True):
        print(f"{after.name:<12}{before.zeros:>14}{after.zeros:>13}{after.total:>9}{after.fraction:>10.1%}")
    save_onnx(pruned, args.out)
    print(f"wrote {args.out}")
    return 0
