"""Importers: source formats -> network IR."""

from pyomo_nn.importers.onnx_importer import load_onnx, supported_ops

__all__ = ["load_onnx", "supported_ops"]
