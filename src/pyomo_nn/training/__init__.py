"""MIP training of binarised networks (docs/training.md): the weights are the variables, the
training data fixed, a MILP solver trains the network.

:class:`BinarizedMLP` describes the network, :func:`fit_mip` trains one, :func:`fit_pairwise`
a one-vs-one ensemble with a majority vote (BeMi); both results predict, score and export to
ONNX with standard operators.
"""

from pyomo_nn.training.fit import Fit, fit_mip
from pyomo_nn.training.pairwise import PairwiseEnsemble, fit_pairwise
from pyomo_nn.training.spec import BinarizedMLP

__all__ = ["BinarizedMLP", "Fit", "PairwiseEnsemble", "fit_mip", "fit_pairwise"]
