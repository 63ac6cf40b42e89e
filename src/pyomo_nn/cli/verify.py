"""``pyomo-nn verify model.onnx --objective verify --linf x0.npy 0.05``: one network, asked a
verification objective (thesis (PV), adversarial search, feature visualisation)."""

from __future__ import annotations

import argparse

from pyomo_nn.cli.objective_args import add_objective_arguments, run_objective


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="ask one network a question over a domain (verify, adversarial, feature, ...)",
        description="Objectives: verify (max ||N(x) - N(x0)||_1; --set space=probabilities for "
        "softmax), adversarial (--set target=8 --set margin=0.2 --set norm=linf), feature "
        "(--set layer=2 --set neuron=17), or an installed plug-in.",
    )
    parser.add_argument("model", help="ONNX file")
    add_objective_arguments(parser, default_objective="verify")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_objective(args, [args.model])
