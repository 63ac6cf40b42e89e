"""Results of a solve and their independent re-check."""

from pyomo_nn.result.block_check import BlockCheck, recheck
from pyomo_nn.result.result import Result

__all__ = ["BlockCheck", "Result", "recheck"]
