"""Branch and bound (BaB) over ReLU phases, for questions one MILP does not close:
``pnn.branch_and_bound(net, domain, objective)`` with ``y = pnn.bab.outputs(net)``.

Pipeline: :mod:`.chain` (the network as matrices) -> :mod:`.bounding` (alpha/beta bounds of
many branches at once) -> :mod:`.branching` (which neuron to split) -> :mod:`.search` (the
loop, :mod:`.pool` of open branches, :mod:`.parallel` batches on executors, :mod:`.leaf`
MILPs) -> :mod:`.api` (``branch_and_bound`` and its result).
"""

from pyomo_nn.bab.api import STATUSES, BranchAndBoundResult, branch_and_bound
from pyomo_nn.bab.objective import LinearOutputs, outputs
from pyomo_nn.bab.pair import side_by_side, side_by_side_bounds

__all__ = [
    "STATUSES",
    "BranchAndBoundResult",
    "LinearOutputs",
    "branch_and_bound",
    "outputs",
    "side_by_side",
    "side_by_side_bounds",
]
