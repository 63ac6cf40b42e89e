"""Importers: source formats -> network IR."""

from pyomo_nn.importers.onnx_importer import load_onnx, load_onnx_bytes, supported_ops

__all__ = ["load_onnx", "load_onnx_bytes", "supported_ops"]
