"""The stages a layer kind passes through, and :func:`register`, which a unit calls once.

Each stage keeps a :class:`~pyomo_nn.ir.StageTable` in its own module (where its entry's
signature is documented); this module only names them, so that a unit lists its entries side
by side and the contract test (``tests/test_layer_contract.py``) can walk them.
"""

from __future__ import annotations

from pyomo_nn.blocks.encoding import ENCODINGS
from pyomo_nn.blocks.network_block import BLOCK_STAGES
from pyomo_nn.bounds.alpha import ALPHA_STEPS
from pyomo_nn.bounds.naive import MAGNITUDE
from pyomo_nn.bounds.relaxation import LP_ROWS
from pyomo_nn.bounds.symbolic import BACK_SUBSTITUTION
from pyomo_nn.bounds.tightening import OPEN_INPUTS
from pyomo_nn.exporters.onnx_exporter import EXPORT
from pyomo_nn.ir import Role, StageTable
from pyomo_nn.ir.gradients import GRADIENTS
from pyomo_nn.transforms.rounder import PRUNED_WEIGHTS

#: Every stage by the keyword :func:`register` takes for it. Forward and interval are not
#: here: they are methods of the IR class itself (numpy, needed by every stage).
STAGES: dict[str, StageTable] = {
    "naive": MAGNITUDE,  # bounds/naive.py: max |value| of the output
    "symbolic": BACK_SUBSTITUTION,  # bounds/symbolic.py: one back-substitution step
    "alpha": ALPHA_STEPS,  # bounds/alpha.py: optional, Dense/ReLU chains
    "lp": LP_ROWS,  # bounds/relaxation.py: rows of the LP/MILP relaxation
    "tightening": OPEN_INPUTS,  # bounds/tightening.py: which input values need tightening
    "milp": BLOCK_STAGES,  # blocks/network_block.py: how the layer enters the block
    **ENCODINGS,  # blocks/encoding.py: "bigm", the Big-M rows of a piecewise kind (one per encoding)
    "export": EXPORT,  # exporters/onnx_exporter.py: ONNX nodes
    "gradient": GRADIENTS,  # ir/gradients.py: backward pass of the gradient searches
    "pruned_weights": PRUNED_WEIGHTS,  # transforms/rounder.py: optional, the weights to prune
}

#: The kinds registered so far, in order.
KINDS: list[type] = []


def register(kind: type, **entries: object) -> None:
    """Register ``kind``'s entry for each stage named in ``entries`` (the keys of
    :data:`STAGES`). Every required stage must be given, and a piecewise kind needs an entry
    for every encoding (``bigm``, ...); a missing one is a TypeError here, at import."""
    unknown = set(entries) - set(STAGES)
    missing = [name for name, table in STAGES.items() if table.required and name not in entries]
    if kind.role is Role.PIECEWISE:
        missing += [name for name in ENCODINGS if name not in entries]
    if unknown or missing:
        raise TypeError(f"unit of {kind.__name__}: unknown stages {sorted(unknown)}, missing {missing}")
    for name, entry in entries.items():
        STAGES[name].register(kind, entry)
    KINDS.append(kind)
