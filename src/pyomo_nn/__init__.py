"""pyomo-nn: trained feed-forward networks from ONNX as Pyomo blocks, with tight Big-M bounds.

Pipeline: :func:`load_onnx` -> :class:`Network` -> :func:`compute_bounds` -> :class:`Bounds`
-> :class:`NetworkBlock` -> your objective -> :func:`solve` -> :class:`Result`.
"""

from pyomo_nn import objectives
from pyomo_nn.blocks import LayerStats, NetworkBlock
from pyomo_nn.bounds import Bounds, compute_bounds
from pyomo_nn.comparison import Comparison
from pyomo_nn.domains import Box, InputDomain, LinfBall, Neighbourhood
from pyomo_nn.errors import (
    EmptyDomainError,
    IncompatibleNetworksError,
    InfeasibleModelError,
    InputFileError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    InvalidONNXError,
    InvalidVnnlibError,
    InvalidWeightsError,
    ModelFileNotFoundError,
    ObjectiveConfigError,
    OutputFileError,
    PyomoNNError,
    ShapeMismatchError,
    SolverCapabilityError,
    SolverConfigError,
    SolverFailedError,
    SolverUnavailableError,
    StaleBoundsError,
    UnboundedDomainError,
    UnsupportedNetworkError,
    UnsupportedOperatorError,
)
from pyomo_nn.exporters import save_onnx, to_onnx
from pyomo_nn.importers import load_onnx, load_onnx_bytes, supported_ops
from pyomo_nn.ir import Add, AvgPool2d, Concat, Conv2d, Dense, Elementwise, MaxPool2d, Network, ReLU
from pyomo_nn.problem import Problem
from pyomo_nn.problem_result import NetworkEvaluation, ProblemResult
from pyomo_nn.result import BlockCheck, Result
from pyomo_nn.solvers import SolverConfig, available_solvers, solve
from pyomo_nn.transforms.prune import LayerSparsity, prune, sparsity
from pyomo_nn.verification import Verification
from pyomo_nn.vnnlib import PropertyResult, Specification, load_vnnlib, verify_property

__version__ = "0.1.0"

__all__ = [
    "Add",
    "AvgPool2d",
    "BlockCheck",
    "Bounds",
    "Box",
    "Comparison",
    "Concat",
    "Conv2d",
    "Dense",
    "Elementwise",
    "EmptyDomainError",
    "IncompatibleNetworksError",
    "InfeasibleModelError",
    "InputDomain",
    "InputFileError",
    "InvalidArgumentError",
    "InvalidArgumentTypeError",
    "InvalidONNXError",
    "InvalidVnnlibError",
    "InvalidWeightsError",
    "LayerSparsity",
    "LayerStats",
    "LinfBall",
    "MaxPool2d",
    "ModelFileNotFoundError",
    "Neighbourhood",
    "Network",
    "NetworkBlock",
    "NetworkEvaluation",
    "ObjectiveConfigError",
    "OutputFileError",
    "Problem",
    "ProblemResult",
    "PropertyResult",
    "PyomoNNError",
    "ReLU",
    "Result",
    "ShapeMismatchError",
    "SolverCapabilityError",
    "SolverConfig",
    "SolverConfigError",
    "SolverFailedError",
    "SolverUnavailableError",
    "Specification",
    "StaleBoundsError",
    "UnboundedDomainError",
    "UnsupportedNetworkError",
    "UnsupportedOperatorError",
    "Verification",
    "available_solvers",
    "compute_bounds",
    "load_onnx",
    "load_onnx_bytes",
    "load_vnnlib",
    "objectives",
    "prune",
    "save_onnx",
    "solve",
    "sparsity",
    "supported_ops",
    "to_onnx",
    "verify_property",
]
