"""Numerical tolerances, documented once here and imported everywhere else.

Floating point decides whether a reported answer is honest. Every comparison of numbers
that come from different computations (MILP solver vs numpy vs onnxruntime) uses one of
these names so that a reader can audit the whole package's slack in one place.
"""

#: Importer check: the numpy forward pass of an imported network must match onnxruntime on
#: the original file within this absolute difference (float32 networks accumulate ~1e-6
#: relative error per layer; 1e-4 leaves room for deep nets without hiding a wrong weight).
IMPORT_MATCH_ATOL = 1e-4

#: Solution re-check: the outputs a MILP solver reports at its solution are compared with
#: onnxruntime's outputs at the same input. The solver satisfies constraints only up to its
#: feasibility tolerance (HiGHS default 1e-7 primal, 1e-6 integrality) and a binary at
#: 1e-6 leaves up to M * 1e-6 slack in a Big-M constraint, so outputs can drift by about
#: 1e-4 on networks with Big-M constants near 100. Agreement means
#: ``|milp - onnx| <= OUTPUT_MATCH_ATOL + OUTPUT_MATCH_RTOL * |onnx|`` for every output.
OUTPUT_MATCH_ATOL = 1e-3
OUTPUT_MATCH_RTOL = 1e-3

#: A neuron is stable (needs no binary) only if its bounds clear zero by at least this much
#: on the safe side: ``lower >= 0`` makes it always active and ``upper <= 0`` always dead.
#: Bounds are widened outward by this relative/absolute amount before use, so float rounding
#: in bound propagation (float64, ~1e-12 relative) can never mark a split neuron stable.
BOUND_SAFETY_ABS = 1e-9
BOUND_SAFETY_REL = 1e-9
