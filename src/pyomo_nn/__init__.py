"""pyomo-nn: trained feed-forward networks from ONNX as Pyomo blocks, with tight Big-M bounds.

Pipeline: :func:`load_onnx` -> :class:`Network` -> :func:`compute_bounds` -> :class:`Bounds`
-> :class:`NetworkBlock` -> your objective -> :func:`solve` -> :class:`Result`.

The top level holds what a script typically imports. The rest lives in its sub-package:
exceptions in :mod:`pyomo_nn.errors`, IR layers in :mod:`pyomo_nn.ir`, objectives in
:mod:`pyomo_nn.objectives`, VNN-LIB in :mod:`pyomo_nn.vnnlib`, solver plumbing in
:mod:`pyomo_nn.solvers`, result details in :mod:`pyomo_nn.result`.
"""

import importlib
import warnings

# units: every layer kind's unit registers its entries in the stages' tables (docs/extending.md)
from pyomo_nn import bab, errors, ir, objectives, units  # noqa: F401  (units: imported for its registrations)
from pyomo_nn.bab import branch_and_bound
from pyomo_nn.blocks import NetworkBlock
from pyomo_nn.blocks.encoding import formulations
from pyomo_nn.bounds import Bounds, compute_bounds
from pyomo_nn.comparison import Comparison
from pyomo_nn.domains import Box, InputDomain, LinfBall, Neighbourhood
from pyomo_nn.errors import PyomoNNError
from pyomo_nn.exporters import save_onnx
from pyomo_nn.importers import load_onnx, supported_ops
from pyomo_nn.ir import Network
from pyomo_nn.result import Result
from pyomo_nn.solvers import SolverConfig, available_solvers, solve
from pyomo_nn.transforms import prune, sparsity
from pyomo_nn.verification import Verification
from pyomo_nn.vnnlib import load_vnnlib, verify_property

__version__ = "0.1.0"

__all__ = [
    "Bounds",
    "Box",
    "Comparison",
    "InputDomain",
    "LinfBall",
    "Neighbourhood",
    "Network",
    "NetworkBlock",
    "PyomoNNError",
    "Result",
    "SolverConfig",
    "Verification",
    "available_solvers",
    "bab",
    "branch_and_bound",
    "compute_bounds",
    "errors",
    "formulations",
    "ir",
    "load_onnx",
    "load_vnnlib",
    "objectives",
    "prune",
    "save_onnx",
    "solve",
    "sparsity",
    "supported_ops",
    "verify_property",
]

#: Names that were importable from the top level before and that the docs, examples or
#: tests used there: still served, with a DeprecationWarning naming their home. Names that
#: no page used at the top level moved without a shim (e.g. ``pyomo_nn.ir.Add``).
_MOVED: dict[str, str] = {
    **dict.fromkeys(
        (
            "EmptyDomainError",
            "IncompatibleNetworksError",
            "InfeasibleModelError",
            "InputFileError",
            "InvalidArgumentError",
            "InvalidArgumentTypeError",
            "InvalidONNXError",
            "InvalidVnnlibError",
            "InvalidWeightsError",
            "ModelFileNotFoundError",
            "ObjectiveConfigError",
            "OutputFileError",
            "ShapeMismatchError",
            "SolverCapabilityError",
            "SolverConfigError",
            "SolverFailedError",
            "SolverUnavailableError",
            "StaleBoundsError",
            "UnboundedDomainError",
            "UnsupportedNetworkError",
            "UnsupportedOperatorError",
        ),
        "pyomo_nn.errors",
    ),
    "Conv2d": "pyomo_nn.ir",
    "Dense": "pyomo_nn.ir",
    "MaxPool2d": "pyomo_nn.ir",
    "ReLU": "pyomo_nn.ir",
    "ProblemResult": "pyomo_nn.problem_result",
    "load_onnx_bytes": "pyomo_nn.importers",
    "to_onnx": "pyomo_nn.exporters",
}


def __getattr__(name: str) -> object:
    """Deprecated top-level names (:data:`_MOVED`): warn and return the object from its home."""
    home = _MOVED.get(name)
    if home is None:
        raise AttributeError(f"module 'pyomo_nn' has no attribute {name!r}")
    warnings.warn(
        f"pyomo_nn.{name} is deprecated and will be removed; use {home}.{name}",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module(home), name)
