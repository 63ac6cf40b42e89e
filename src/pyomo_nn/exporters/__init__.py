"""Exporters: network IR -> files other tools read."""

from pyomo_nn.exporters.onnx_exporter import save_onnx, to_onnx

__all__ = ["save_onnx", "to_onnx"]
