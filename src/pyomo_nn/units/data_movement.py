"""The stage entries every data-movement kind shares (it only copies or rearranges values,
so its bounds, rows, encoding and gradient follow from its gather table): one call registers
a movement kind with its own ONNX export."""

from __future__ import annotations

from collections.abc import Callable

from pyomo_nn.blocks.network_block import MOVED
from pyomo_nn.bounds.naive import movement_magnitude
from pyomo_nn.bounds.relaxation import MOVEMENT_COLUMNS
from pyomo_nn.bounds.symbolic import movement_step
from pyomo_nn.bounds.tightening import MOVEMENT_INPUTS
from pyomo_nn.ir.gradients import MOVEMENT_GRADIENT
from pyomo_nn.units.stages import register


def register_movement(kind: type, export: Callable[..., None]) -> None:
    """Register ``kind`` with the generic data-movement entries and its ``export``."""
    register(
        kind,
        naive=movement_magnitude,
        symbolic=movement_step,
        lp=MOVEMENT_COLUMNS,
        tightening=MOVEMENT_INPUTS,
        milp=MOVED,
        export=export,
        gradient=MOVEMENT_GRADIENT,
    )
