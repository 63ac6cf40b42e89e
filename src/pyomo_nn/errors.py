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
    """A weight or bias is NaN, infinite, or too large for a sound MILP encoding (see
    :data:`~pyomo_nn.tolerances.MAX_ABS_WEIGHT`)."""


class ShapeMismatchError(PyomoNNError, ValueError):
    """Array shapes disagree: network layers, an input, or a domain against the network."""


class EmptyDomainError(PyomoNNError, ValueError):
    """An input domain has no point: some lower bound exceeds its upper bound."""


class StaleBoundsError(PyomoNNError, ValueError):
    """Bounds were computed for a different network (or domain) than the one given."""


class UnboundedDomainError(PyomoNNError, ValueError):
    """An input domain is unbounded where a Big-M encoding needs finite bounds."""


class UnsupportedNetworkError(PyomoNNError, ValueError):
    """A method asked for a network shape it does not handle (e.g. ``alpha`` on a CNN)."""


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


class InvalidVnnlibError(PyomoNNError, ValueError):
    """A VNN-LIB property file is malformed or leaves the supported subset; the message gives
    the file, the line and what to change. ``line`` is 1-based (None when not tied to a line)."""

    def __init__(self, message: str, source: str = "<vnnlib>", line: int | None = None) -> None:
        where = f"{source}:{line}: " if line is not None else f"{source}: "
        super().__init__(where + message)
        self.source = source
        self.line = line


class IncompatibleNetworksError(ShapeMismatchError):
    """Networks cannot be compared: different input sizes, output sizes or (for objectives that
    pair neurons, such as MaxFlip) different architectures."""


class ObjectiveConfigError(PyomoNNError, ValueError):
    """An objective's settings are invalid (unknown name, class out of range, wrong number of
    networks, a domain it cannot use)."""


class SolverCapabilityError(PyomoNNError, ValueError):
    """The chosen solver cannot take this model, e.g. a MINLP with ``exp`` given to a MILP solver."""


class InputFileError(PyomoNNError, ValueError):
    """A data file named on the command line (an input x0, a centre image) is missing or unreadable."""


class InvalidArgumentError(PyomoNNError, ValueError):
    """An argument or setting has a value outside what it accepts (an unknown bound method, a
    pruning percentage above 100, a time limit of 0 seconds)."""


class InvalidArgumentTypeError(InvalidArgumentError, TypeError):
    """An argument has the wrong type (e.g. a string where an input domain is expected)."""


class OutputFileError(PyomoNNError, OSError):
    """A file to be written cannot be: its folder is missing or not writable, or it is a folder."""


class BoundTighteningWarning(UserWarning):
    """LP/MILP bound tightening left some neurons at their previous bounds (time limit)."""


class TrainingDataError(PyomoNNError, ValueError):
    """Training or evaluation data are unusable: NaN, the wrong width, labels outside the classes."""


class TrainingInfeasibleError(InfeasibleModelError):
    """The solver proved that no network of the given shape and weight set fits every training
    sample (``result`` holds its report); ``objective="accuracy"`` trains one that fits as many
    as it can."""


class NoTrainedNetworkError(PyomoNNError, RuntimeError):
    """A training MIP stopped (time limit) before finding any network; ``result`` holds the
    solver's report. Nothing half-trained is returned."""

    def __init__(self, message: str, result: object) -> None:
        super().__init__(message)
        self.result = result
