"""``pyomo-nn info model.onnx``: what the importer made of a network."""

from __future__ import annotations

import argparse

from pyomo_nn.importers import load_onnx


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("info", help="print the layers of an ONNX network as imported")
    parser.add_argument("model", help="ONNX file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    net = load_onnx(args.model)
    print(f"{args.model}: input shape {net.input_shape}, {net.input_size} inputs, {net.output_size} outputs")
    print(net.summary())
    return 0
