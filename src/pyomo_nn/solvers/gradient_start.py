"""A MIP start from a gradient search on the model's objective (issue 14).

When the active objective is a linear function of one network's outputs (and inputs), or of
several networks reading the same input variables, the best input of a short projected
sign-gradient ascent is a feasible point of the model as long as the user's own constraints on
those variables hold there (they are checked at the point). Started from it, the solver holds
a near-optimal incumbent from its first node instead of the box centre; on the adversarial MILPs of
``benchmarks/defaults_vs_omlt.py`` the search finds the proven optimum (to 1e-4) on all six
digits instances in about 0.01 s.

The search only proposes a start: the forward pass scores each point exactly, the solver
checks the start against the model, and the answer is the solver's. Models where the search
does not apply (a nonlinear objective, inputs that already hold values, a layer kind without
a gradient, a user constraint on the network variables that the point violates or that reads
other variables, a bound set on a network variable that the point violates) keep the box-centre
start; bounds set on the input variables themselves narrow the searched box.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.visitor import identify_variables
from pyomo.repn import generate_standard_repn
from threadpoolctl import ThreadpoolController

from pyomo_nn.blocks.network_block import NetworkBlock
from pyomo_nn.errors import UnsupportedOperatorError
from pyomo_nn.ir import Network
from pyomo_nn.ir.gradients import GradientNetwork
from pyomo_nn.solvers.backends import HIGHS_NAMES
from pyomo_nn.solvers.config import SolverConfig
from pyomo_nn.solvers.highs_adapter import HIGHS_OPTIONS_AFTER_SEARCH
from pyomo_nn.solvers.start_check import holds, within_bounds

#: Gradient the search lets through an inactive ReLU (a leaky surrogate: plain gradients die
#: where most ReLUs are off; the forward pass that scores points stays exact).
SEARCH_LEAK = 0.003
#: First step of each schedule as a fraction of the box width, decaying geometrically to 1/20.
SEARCH_FIRST_STEPS = (1.0, 0.2)
#: Starts per schedule: the box centre, then a random corner.
SEARCH_STARTS = 2
#: Sign-gradient steps per schedule.
SEARCH_STEPS = 40
#: The search stops at this share of the solve's time limit, and after SEARCH_MAX_SECONDS.
SEARCH_TIME_SHARE = 0.05
SEARCH_MAX_SECONDS = 2.0
#: Seed of the random starts: the same model gets the same start.
SEARCH_SEED = 0


@dataclass(frozen=True)
class StartSearch:
    """What the search gave: the objective at its best input and at the box centre (both by
    the exact forward pass, in the model's objective sense), forward passes and seconds."""

    objective: float
    centre_objective: float
    evaluations: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"gradient search: objective {self.objective:.6g} (box centre {self.centre_objective:.6g}), "
            f"{self.evaluations} forward passes in {self.seconds:.2f} s"
        )


#: ``evaluate(x)`` of a search: for a batch of inputs, the values to maximise and their
#: gradients with respect to the inputs (a ReLU may leak SEARCH_LEAK of it; see GradientNetwork).
Evaluate = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

#: ``score(x, outputs)``: a function of a batch of inputs and every network's outputs there, as
#: (values, gradients with respect to each network's outputs, gradient with respect to x or None).
OutputScore = Callable[[np.ndarray, list[np.ndarray]], tuple[np.ndarray, list[np.ndarray], np.ndarray | None]]


def through_networks(networks: list[Network], score: OutputScore, sense: float) -> Evaluate:
    """The search's ``evaluate`` of ``sense * score`` of the networks' outputs: forward passes,
    then each output gradient taken back to the inputs. Raises UnsupportedOperatorError for a
    layer kind without a gradient."""
    gradients = [GradientNetwork(network) for network in networks]

    def evaluate(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tensors = [network.activations(x) for network in networks]
        outputs = [values[network.layers[-1].name] for network, values in zip(networks, tensors, strict=True)]
        values, output_gradients, input_gradient = score(x, outputs)
        grad = np.zeros_like(x) if input_gradient is None else np.array(input_gradient, dtype=np.float64)
        for network, tensor, toward in zip(gradients, tensors, output_gradients, strict=True):
            grad += network.input_gradient(tensor, toward, SEARCH_LEAK)
        return sense * values, sense * grad

    return evaluate


@dataclass(frozen=True)
class FoundStart:
    """The best input of a search and its summary."""

    point: np.ndarray
    summary: StartSearch


def config_after_search(config: SolverConfig, found: StartSearch) -> SolverConfig:
    """The solve's settings once a search gave the start: its seconds come off the time limit
    (the limit covers the whole call), and HiGHS runs without RINS/RENS
    (``HIGHS_OPTIONS_AFTER_SEARCH``; options the caller set win)."""
    if config.time_limit is not None:
        config = replace(
            config, time_limit=config.time_limit - min(found.seconds, SEARCH_TIME_SHARE * config.time_limit)
        )
    if config.name in HIGHS_NAMES:
        config = replace(config, options={**HIGHS_OPTIONS_AFTER_SEARCH, **config.options})
    return config


def search_seconds(time_limit: float | None) -> float:
    """The search's share of a solve's time limit (SEARCH_TIME_SHARE, at most SEARCH_MAX_SECONDS)."""
    return (
        SEARCH_MAX_SECONDS if time_limit is None else min(SEARCH_MAX_SECONDS, SEARCH_TIME_SHARE * time_limit)
    )


def ascend(
    evaluate: Evaluate, lower: np.ndarray, upper: np.ndarray, seconds: float, sense: float = 1.0
) -> FoundStart:
    """Projected sign-gradient ascent of ``evaluate`` over the box from its centre and random
    corners, one batch per step schedule; the best point by value wins (the centre if nothing
    beats it). ``sense`` (-1 for a minimisation whose negation ``evaluate`` returns) only turns
    the reported objectives back into the model's terms."""
    begin = time.perf_counter()
    deadline = begin + seconds
    width = upper - lower
    centre = (lower + upper) / 2
    rng = np.random.default_rng(SEARCH_SEED)
    decay = 0.05 ** (1.0 / max(SEARCH_STEPS - 1, 1))
    with _blas_controller().limit(limits=1, user_api="blas"):
        centre_value = float(evaluate(centre[None])[0][0])
        best_point, best_value, evaluations = centre, centre_value, 1
        for first_step in SEARCH_FIRST_STEPS:
            x = np.where(rng.random((SEARCH_STARTS, lower.size)) < 0.5, lower, upper)
            x[0] = centre
            step = first_step
            for _ in range(SEARCH_STEPS + 1):
                values, grad = evaluate(x)
                evaluations += len(x)
                winner = int(np.argmax(values))
                if values[winner] > best_value:
                    best_point, best_value = x[winner].copy(), float(values[winner])
                if time.perf_counter() > deadline:
                    break
                x = np.clip(x + step * width * np.sign(grad), lower, upper)
                step *= decay
    summary = StartSearch(
        objective=sense * best_value,
        centre_objective=sense * centre_value,
        evaluations=evaluations,
        seconds=time.perf_counter() - begin,
    )
    return FoundStart(best_point, summary)


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """One controller per process: building one scans the loaded libraries (4 ms a solve).
    The search's batches are small; threaded BLAS on them is slower, far more on shared cores."""
    return ThreadpoolController()


@dataclass(frozen=True)
class LinearTarget:
    """``sense * (sum_b c_b @ y_b(x) + c_x @ x)`` over the box ``lower <= x <= upper``."""

    blocks: list[NetworkBlock]
    output_coefs: list[np.ndarray]
    input_coefs: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    sense: float  # +1 maximise, -1 minimise
    user_constraints: list[pyo.Constraint]  # outside the blocks, on their variables: checked at the point

    def evaluator(self) -> Evaluate:
        """The maximised objective (without its constant) and its input gradient, batched;
        raises UnsupportedOperatorError for a layer kind without a gradient."""

        def score(x: np.ndarray, outputs: list[np.ndarray]) -> tuple:
            values = x @ self.input_coefs + sum(
                y @ coefs for y, coefs in zip(outputs, self.output_coefs, strict=True)
            )
            toward = [
                np.broadcast_to(coefs, y.shape) for y, coefs in zip(outputs, self.output_coefs, strict=True)
            ]
            return values, toward, np.broadcast_to(self.input_coefs, x.shape)

        return through_networks([block.network for block in self.blocks], score, self.sense)


@dataclass(frozen=True)
class SearchedStart:
    """A start the search gave a model: its summary, the objective it is for and the point."""

    summary: StartSearch
    target: LinearTarget
    point: np.ndarray


def search_start(
    model: pyo.Block, blocks: list[NetworkBlock], time_limit: float | None
) -> SearchedStart | None:
    """Warm-start the blocks of ``model``'s objective at the best input of a gradient ascent on
    it; None (and nothing changed) where the search does not apply."""
    target = _linear_target(model, blocks)
    if target is None:
        return None
    try:
        evaluate = target.evaluator()
    except UnsupportedOperatorError:
        return None
    found = ascend(evaluate, target.lower, target.upper, search_seconds(time_limit), target.sense)
    for block in target.blocks:
        block.warm_start(found.point)
    held = all(holds(constraint) for constraint in target.user_constraints)
    if not (held and all(within_bounds(block.component_data_objects(pyo.Var)) for block in target.blocks)):
        for var in target.blocks[0].input_vars():
            if not var.fixed:
                var.set_value(None, skip_validation=True)
        return None
    return SearchedStart(found.summary, target, found.point)


def _linear_target(model: pyo.Block, blocks: list[NetworkBlock]) -> LinearTarget | None:
    """The objective as a linear function of network outputs over one shared input vector,
    or None when it is not one or when the inputs already hold values (the user's start or a
    previous solution); constraints outside the blocks on those variables come with it."""
    objectives = list(model.component_data_objects(pyo.Objective, active=True, descend_into=True))
    if len(objectives) != 1 or not blocks:
        return None
    repn = generate_standard_repn(objectives[0].expr, quadratic=False)
    if not repn.is_linear() or not repn.linear_vars:
        return None
    outputs = {id(var): (block, k) for block in blocks for k, var in enumerate(block.output_vars())}
    read = {id(outputs[id(var)][0]) for var in repn.linear_vars if id(var) in outputs}
    used = [block for block in blocks if id(block) in read]
    if not used:
        return None
    inputs = used[0].input_vars()
    input_ids = [id(var) for var in inputs]
    if any([id(var) for var in block.input_vars()] != input_ids for block in used[1:]):
        return None
    position = {var_id: i for i, var_id in enumerate(input_ids)}
    if set(position) & set(outputs):  # a chained block: its inputs are another network's outputs
        return None
    if any(var.value is not None and not var.fixed for var in inputs):
        return None
    if any(var.is_integer() and not var.fixed for var in inputs):  # the search moves continuously
        return None
    output_coefs = [np.zeros(block.network.output_size) for block in used]
    input_coefs = np.zeros(len(inputs))
    for var, coef in zip(repn.linear_vars, repn.linear_coefs, strict=True):
        if id(var) in outputs:
            block, k = outputs[id(var)]
            output_coefs[used.index(block)][k] += float(coef)
        elif id(var) in position:
            input_coefs[position[id(var)]] += float(coef)
        else:
            return None  # a variable of the user's own: its value would not follow from x
    watched = set(position) | {id(var) for block in used for var in block.output_vars()}
    lower, upper = (np.array(a, dtype=np.float64) for a in used[0].input_box())
    for block in used[1:]:
        other_lower, other_upper = block.input_box()
        lower, upper = np.maximum(lower, other_lower), np.minimum(upper, other_upper)
    # bounds set on the input variables themselves (e.g. ``setub``) narrow the box
    lower = np.maximum(lower, [-np.inf if var.lb is None else var.lb for var in inputs])
    upper = np.minimum(upper, [np.inf if var.ub is None else var.ub for var in inputs])
    fixed = np.array([var.fixed for var in inputs])
    values = np.array([var.value if var.fixed else 0.0 for var in inputs], dtype=np.float64)
    lower, upper = np.where(fixed, values, lower), np.where(fixed, values, upper)
    if np.any(lower > upper) or not np.all(np.isfinite(lower) & np.isfinite(upper)):
        return None
    sense = 1.0 if objectives[0].sense == pyo.maximize else -1.0
    user_constraints = _touched_outside_blocks(model, watched)
    return LinearTarget(used, output_coefs, input_coefs, lower, upper, sense, user_constraints)


def _touched_outside_blocks(block: pyo.Block, watched: set[int]) -> list[pyo.Constraint]:
    """The active constraints outside every NetworkBlock that read a variable in ``watched``."""
    found = [
        constraint
        for constraint in block.component_data_objects(pyo.Constraint, active=True, descend_into=False)
        if any(id(var) in watched for var in identify_variables(constraint.body, include_fixed=False))
    ]
    for sub in block.component_data_objects(pyo.Block, active=True, descend_into=False):
        if not isinstance(sub, NetworkBlock):
            found.extend(_touched_outside_blocks(sub, watched))
    return found
