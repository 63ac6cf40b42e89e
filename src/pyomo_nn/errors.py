"""Exception types: one per kind of bad input, each message naming the problem and the fix."""

from __future__ import annotations


class PyomoNNError(Exception):
    """Base class of every error raised on purpose by pyomo-nn."""


class ModelFileNotFoundError(PyomoNNError, FileNotFoundError):
    """The ONNX file given to the importer does not exist."""


class InvalidONNXError(PyomoNNError, ValueError):
    """The file exists but is not a readable, well-formed ONNX model."""


class UnsupportedOperatorError(PyomoNNError, NotImplementedError):
    """The ONNX graph uses an operator (or an operator variant) that pyomo-nn cannot encode."""


class InvalidWeightsError(PyomoNNError, ValueError):
    """A weight or bias is NaN or infinite."""


class ShapeMismatchError(PyomoNNError, ValueError):
    """Array shapes disagree: network layers, an input, or a domain against the network."""


class EmptyDomainError(PyomoNNError, ValueError):
    """An input domain has no point: some lower bound exceeds its upper bound."""


class UnboundedDomainError(PyomoNNError, ValueError):
    """An input domain is unbounded where a Big-M encoding needs finite bounds."""


class SolverUnavailableError(PyomoNNError, RuntimeError):
    """The requested solver is unknown to Pyomo or not installed on this machine."""


class SolverConfigError(PyomoNNError, ValueError):
    """A solver configuration (file or arguments) is malformed."""


class InfeasibleModelError(PyomoNNError, RuntimeError):
    """The solver proved the model infeasible; ``result`` holds what the solver reported."""

    def __init__(self, message: str, result: object) -> None:
        super().__init__(message)
        self.result = result


class SolverFailedError(PyomoNNError, RuntimeError):
    """The solver stopped with an error and no usable solution; ``result`` holds its report."""

    def __init__(self, message: str, result: object) -> None:
        super().__init__(message)
        self.result = result
