"""MIP training of binarised networks (docs/training.md): the weights are the variables, the
training data fixed, a MILP solver trains the network.

:class:`BinarizedMLP` describes the network, :func:`fit_mip` trains one, :func:`fit_pairwise`
a one-vs-one ensemble with a majority vote (BeMi), :func:`fit_batches` one network per batch of
the data, combined (batch training); every result predicts, scores and exports to ONNX with
standard operators.
"""

from pyomo_nn.training.batches import BatchEnsemble, fit_batches
from pyomo_nn.training.fit import Fit, fit_mip
from pyomo_nn.training.pairwise import PairwiseEnsemble, fit_pairwise
from pyomo_nn.training.spec import BinarizedMLP

__all__ = [
    "BatchEnsemble",
    "BinarizedMLP",
    "Fit",
    "PairwiseEnsemble",
    "fit_batches",
    "fit_mip",
    "fit_pairwise",
]
