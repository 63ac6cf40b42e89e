"""What a solver can take, checked before a solve: a model whose network blocks need
binaries, SOS1 constraints or nonlinear rows (:data:`~pyomo_nn.blocks.encoding.REQUIREMENTS`,
from the block's encoding and layer kinds) is refused with :class:`SolverCapabilityError`
naming the encoding, the solver and the solvers that take it, instead of failing inside the
solver or, worse, being read wrongly.

The tables list only solvers known *not* to take something; any other name is passed on.
"""

from __future__ import annotations

from pyomo_nn.blocks.encoding import ENCODING_INFO
from pyomo_nn.blocks.network_block import NetworkBlock
from pyomo_nn.errors import SolverCapabilityError

#: Continuous NLP solvers: no integer variables, no SOS constraints; local optima only.
LOCAL_NLP_SOLVERS = ("ipopt", "cyipopt", "conopt", "knitro", "snopt", "minos")

#: Solvers known not to take each requirement.
REFUSED_BY: dict[str, tuple[str, ...]] = {
    "binaries": LOCAL_NLP_SOLVERS,
    # gurobi_direct: pyomo.contrib.solver's Gurobi compiles to standard form, which has no SOS.
    "sos1": ("highs", "appsi_highs", "glpk", "gurobi_direct", *LOCAL_NLP_SOLVERS),
    # cplex/xpress: nonconvex quadratic rows refused ("not convex"); gurobi_direct: standard form.
    "nonlinear": ("highs", "appsi_highs", "glpk", "cbc", "gurobi_direct", "cplex", "cplex_direct", "xpress"),
}

#: Solvers for each requirement, named in the refusal.
TAKEN_BY: dict[str, tuple[str, ...]] = {
    "binaries": ("highs", "cbc", "glpk", "scip_direct", "gurobi", "cplex", "xpress"),
    "sos1": ("cbc", "scip_direct", "gurobi", "cplex_direct", "xpress"),
    "nonlinear": ("scip_direct", "ipopt", "cyipopt", "gurobi"),
}

WHAT = {
    "binaries": "binary variables",
    "sos1": "SOS1 constraints",
    "nonlinear": "nonlinear rows",
}


def check_solver_takes(blocks: list[NetworkBlock], solver: str) -> None:
    """Raise :class:`SolverCapabilityError` if ``solver`` cannot take some block's rows."""
    for block in blocks:
        for need in sorted(block.requirements()):
            if solver in REFUSED_BY[need]:
                takers = [name for name in TAKEN_BY[need] if name not in REFUSED_BY[need]]
                raise SolverCapabilityError(
                    f"block {block.name!r} ({_formulations(block)}{_kinds(block, need)}) has "
                    f"{WHAT[need]}, which solver {solver!r} does not take; solvers that take them: "
                    f"{', '.join(takers)}{_alternative(block, solver, need)}"
                )


def is_local(blocks: list[NetworkBlock], solver: str) -> bool:
    """True when ``solver`` may stop at a local optimum of some block's nonlinear rows."""
    return solver in LOCAL_NLP_SOLVERS and any("nonlinear" in block.requirements() for block in blocks)


def _formulations(block: NetworkBlock) -> str:
    overrides = "".join(f", {name}: {form!r}" for name, form in sorted(block.layer_formulations.items()))
    return f"formulation {block.formulation!r}{overrides}"


def _kinds(block: NetworkBlock, need: str) -> str:
    kinds = sorted({s.kind for s in block.stats if need in s.needs})
    return f"; layers of kind {', '.join(kinds)}" if kinds else ""


def _alternative(block: NetworkBlock, solver: str, need: str) -> str:
    """A formulation whose needs the solver takes, when the need comes from the formulation."""
    used = block.formulations_used()
    if not any(need in ENCODING_INFO[name].needs for name in used):
        return ""
    fitting = [
        info.name
        for info in ENCODING_INFO.values()
        if info.name not in used and not any(solver in REFUSED_BY[need] for need in info.needs)
    ]
    return f"; or build the block with formulation={fitting[0]!r}" if fitting else ""
