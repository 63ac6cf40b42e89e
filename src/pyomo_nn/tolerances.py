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

#: Feasibility tolerance (primal and MIP) pyomo-nn gives HiGHS by default, instead of its
#: 1e-7 / 1e-6. With the defaults, HiGHS' presolve (its Aggregator and Sparsify rules) cut
#: the optimum of Big-M network models by up to 7e-6 relative, so "optimal" dual bounds
#: were below inputs that a forward pass confirmed (digits 64-50-50-50-10, eps 0.05:
#: 2.04237528 reported, 2.04237941 reachable). At 1e-9 the optimum is found with equal solve
#: times on the benchmark problems. A user's options override it.
HIGHS_FEASIBILITY_TOLERANCE = 1e-9

#: HiGHS' presolve, off by default. With it on, HiGHS 1.16 proved wrong optima on Big-M network
#: models even at the tolerances above: a 64-100-100-10 digits net (L1-trained, weights down
#: to 6e-9), eps 0.05, random seeds 2 and 3 proved -0.736252 "optimal" where seeds 0 and 1
#: found an input reaching -0.736163 (a maximisation); OMLT's model of 64-50-50-50-10 at eps
#: 0.1, seed 1: 5.4928 instead of 5.6740. With presolve off every seed proves the true optimum
#: on those instances, at 0.9-1.3x the time (tests/test_solver_runtime.py keeps the case).
HIGHS_PRESOLVE = "off"

#: Symbolic bounds sum many products; float64 rounding of a sum of n terms is below
#: ``n * eps * sum |terms|``. The back-substitution adds this allowance (4 ulps per term,
#: times the magnitude of all terms) before the safety margin above.
SYMBOLIC_ROUNDING = 4 * 2.220446049250313e-16

#: A MILP's dual bound in bound tightening is widened by ``LP_BOUND_ABS + LP_BOUND_REL * |v|``
#: (LP bounds need no margin: they are certified, see LP_CERTIFICATE_ROUNDING).
#: HiGHS stops at primal/dual feasibility tolerances of 1e-7; on these problems (variables
#: of magnitude <= 1e3, a few hundred non-zeros per row) the optimal value can be off by
#: about 1e-7 * sum |coefficient * value|, which the margin covers with a factor of 10 to
#: 100. This is a safety margin, not a certificate (a directed-rounding dual would be).
LP_BOUND_ABS = 1e-6
LP_BOUND_REL = 1e-6

#: Objectives that need a network to *choose* a class (MinEps (4.17)-(4.19); MaxOut's default
#: tolerance in (4.12)-(4.13)) require the chosen logit to beat the others by this margin in
#: the MILP. Without it a solution could rest on an exact tie, which the float32 onnxruntime
#: re-evaluation may break either way; the bundled float32 networks agree with the float64
#: IR to about 1e-6, so 1e-4 keeps a claimed class reproducible at a negligible cost.
CLASS_MARGIN = 1e-4

#: MaxFlip's tie margin delta: a flip is counted only where one network's pre-activation is
#: >= delta and the other's <= -delta. At a pre-activation of exactly 0 the Big-M encoding
#: lets the binary take either value, so without a margin a solver can count "flips" of
#: neurons that did not change (equivalence checkers use the same device).
FLIP_MARGIN = 1e-4

#: An objective reported by the solver and the same quantity recomputed from onnxruntime's
#: outputs at the found input must agree within ``OBJECTIVE_MATCH_ATOL +
#: OBJECTIVE_MATCH_RTOL * |value|``. Objectives sum up to about 2K terms (K outputs per
#: network, two networks), each within the output tolerances above, and SCIP satisfies the
#: exp() equations of the softmax only to its feasibility tolerance (1e-6).
OBJECTIVE_MATCH_ATOL = 1e-2
OBJECTIVE_MATCH_RTOL = 1e-3

#: VNN-LIB verification (:mod:`pyomo_nn.vnnlib`): a disjunct is refuted by a *bound* only
#: when the bound shows that every input of its box violates one of its rows by at least
#: this much. Those bounds are certificates for the exact network: symbolic bounds are
#: rounded outward, and LP bounds are recomputed from the LP's dual values by weak duality
#: in float64 (valid for any dual vector, so the solver's tolerances do not enter) minus a
#: rounding allowance. The margin keeps an ``unsat`` consistent with the float32 onnxruntime
#: evaluation that judges counterexamples: the mnist_fc and ACAS Xu networks agree with the
#: float64 IR to about 1e-6 (1e-5 for logits near 100), so no input that onnxruntime
#: evaluates can satisfy a property proved with a 1e-4 margin.
VNNLIB_BOUND_MARGIN = 1e-4

#: A disjunct is refuted by a MILP only when HiGHS exhausts its tree under the objective
#: cutoff ``objective_bound`` set to this value (other solvers: when their dual bound reaches
#: it), i.e. no point of the model has a violation below it. Unlike the LP certificates this
#: trusts the solver: HiGHS runs with primal, MIP and dual feasibility tolerances of 1e-9
#: (HIGHS_FEASIBILITY_TOLERANCE), so a node's relaxation value is off by at most 1e-9 times
#: the summed ranges of the columns with inexact reduced costs; for these models (inputs in
#: [0, 1], Big-M ranges below 1e3, at most a few hundred such columns) that is below 1e-4,
#: and the margin is ten times larger. It also covers the float32 evaluation (see above).
VNNLIB_MILP_MARGIN = 1e-3

#: Branch and bound proves "below the threshold" only with this margin between its bound and
#: the threshold (the VNN-LIB bound margin, for the same reason: the float32 source model).
BAB_PROOF_MARGIN = VNNLIB_BOUND_MARGIN

#: Relative rounding allowance of weak-duality LP bounds (bound tightening and VNN-LIB):
#: float64 sums of n products err by less than ``n * eps * sum |products|``; this is that
#: factor per product (4 ulps).
LP_CERTIFICATE_ROUNDING = 4 * 2.220446049250313e-16

#: A classic solver's dual bound may pass its own incumbent by rounding: CBC reported
#: 1.15947613 as the bound of a maximisation whose incumbent was 1.1594762 at optimality
#: (its tolerances are 1e-7). Within ``DUAL_BOUND_CONSISTENCY_ABS + DUAL_BOUND_CONSISTENCY_REL
#: * |incumbent|`` the bound is taken as the incumbent's value; beyond it, as impossible.
DUAL_BOUND_CONSISTENCY_ABS = 1e-6
DUAL_BOUND_CONSISTENCY_REL = 1e-6

#: Largest |weight| or |bias| a layer may hold (checked when an IR layer is built, so imported
#: and hand-made networks alike). A MILP row of such weights over inputs of magnitude ~1 is
#: computed in float64 with a rounding error of about ``1e6 * 2.2e-16 * n`` = ``2e-10 * n``
#: for n terms: at 1e6 that already reaches HiGHS' 1e-9 feasibility tolerance
#: (HIGHS_FEASIBILITY_TOLERANCE) for n ~ 5, and beyond it the solver cannot tell a satisfied
#: Big-M row from a violated one (1e6 is also the top of the coefficient range MILP solvers'
#: numerical guidelines ask for). Trained networks stay far below: the bundled, test and
#: VNN-COMP mnist_fc networks all have |w| < 10. Weights of 1e17-1e38 come from corrupt
#: files (float32 onnxruntime overflows to inf on them).
MAX_ABS_WEIGHT = 1e6

#: Precomputed bounds hold only over their input box; a domain must lie inside it
#: (``Bounds.check_covers``). A domain may reach outside by at most this much, for float
#: rounding of a box computed twice (e.g. ``x0 - eps`` from float32 data); the block then
#: clips its inputs to the bounds' box, so every Big-M constant stays valid.
DOMAIN_COVER_ATOL = 1e-9

#: The objective cut-off (:mod:`pyomo_nn.bounds.cutoff`) bounds neurons over the inputs whose
#: objective is at least the incumbent's value v minus ``CUTOFF_MARGIN_ABS + CUTOFF_MARGIN_REL
#: * |v|``. v comes from a float64 forward pass (relative error ~1e-12 on these networks); the
#: margin keeps the incumbent itself, and any input the solver could take as tied with it at
#: its 1e-9 feasibility tolerance, inside the region by a factor of 100 or more.
CUTOFF_MARGIN_ABS = 1e-6
CUTOFF_MARGIN_REL = 1e-6

#: The cut-off's LPs skip asking whether a neuron is dead once some LP solution (or the
#: incumbent) has its pre-activation above this, and whether it is active once one has it
#: below its negative. It only saves LPs: a neuron is decided by a certified bound alone.
REFUTE_TOLERANCE = 1e-7
