"""VNN-LIB properties and the VNN-COMP workflow: read a property, answer it on a network
(``sat`` with a confirmed counterexample, ``unsat`` with a proof, ``timeout`` or
``unknown``), write competition result files, run instance lists."""

from pyomo_nn.vnnlib.bench import Instance, InstanceResult, read_expected, read_instances, run_benchmark
from pyomo_nn.vnnlib.decide import ANSWERS, Counterexample, PropertyResult, verify_property
from pyomo_nn.vnnlib.results import ResultFile, format_result, read_result_file, write_result_file
from pyomo_nn.vnnlib.spec import Disjunct, Specification, load_vnnlib, parse_vnnlib

__all__ = [
    "ANSWERS",
    "Counterexample",
    "Disjunct",
    "Instance",
    "InstanceResult",
    "PropertyResult",
    "ResultFile",
    "Specification",
    "format_result",
    "load_vnnlib",
    "parse_vnnlib",
    "read_expected",
    "read_instances",
    "read_result_file",
    "run_benchmark",
    "verify_property",
    "write_result_file",
]
