"""Softplus, ONNX Softplus in a hidden layer: the stages of the smooth activations (units/smooth.py):
exact interval bounds, two parallel lines in symbolic and LP bounds, an exact nonlinear
expression in the block (every encoding; refused on MILP solvers), ``f'`` in the attack."""

from pyomo_nn.ir import Softplus
from pyomo_nn.units.smooth import register_smooth

register_smooth(Softplus)
