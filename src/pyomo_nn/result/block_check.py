"""Re-evaluate a solution outside the solver: onnxruntime on the original file
(docs/design.md, section 4, rule 2)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyomo_nn.ir import Network
from pyomo_nn.tolerances import OUTPUT_MATCH_ATOL, OUTPUT_MATCH_RTOL


@dataclass(frozen=True)
class BlockCheck:
    """One network block at the solution: the MILP's view and the reference evaluation.

    ``reference`` is ``"onnxruntime"`` when the network came from an ONNX file, else
    ``"numpy"`` (a network built in code has no file to re-run).
    """

    name: str
    x: np.ndarray
    milp_outputs: np.ndarray
    reference_outputs: np.ndarray
    reference: str
    max_abs_diff: float
    milp_class: int
    reference_class: int

    @property
    def matches(self) -> bool:
        """True when every output agrees within the tolerances of :mod:`pyomo_nn.tolerances`."""
        slack = OUTPUT_MATCH_ATOL + OUTPUT_MATCH_RTOL * np.abs(self.reference_outputs)
        return bool(np.all(np.abs(self.milp_outputs - self.reference_outputs) <= slack))


def recheck(name: str, network: Network, x: np.ndarray, milp_outputs: np.ndarray) -> BlockCheck:
    """Compare the solver's outputs at ``x`` with the network's reference evaluation."""
    if network.source is not None:
        reference_outputs = network.source.run(x)[0]
        reference = "onnxruntime"
    else:
        reference_outputs = network.forward(x)
        reference = "numpy"
    return BlockCheck(
        name=name,
        x=x,
        milp_outputs=milp_outputs,
        reference_outputs=reference_outputs,
        reference=reference,
        max_abs_diff=float(np.max(np.abs(milp_outputs - reference_outputs))),
        milp_class=int(np.argmax(milp_outputs)),
        reference_class=int(np.argmax(reference_outputs)),
    )
