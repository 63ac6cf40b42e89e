"""Transforms: a network in, a new network out (pruning), with its ONNX source rebuilt so
answers on the result are re-checked with onnxruntime like any imported network."""

from pyomo_nn.transforms.rounder import LayerSparsity, prune, pruning_threshold, sparsity

__all__ = ["LayerSparsity", "prune", "pruning_threshold", "sparsity"]
