"""Decide a VNN-LIB property on a network: ``sat``, ``unsat``, ``timeout`` or ``unknown``.

(The public entry point keeps the name :func:`verify_property` it is documented under; in
the rest of the package "verify" means the thesis' verification problem (PV): the
:class:`~pyomo_nn.Verification` problem, the ``verify`` objective and ``pyomo-nn verify``.)

The procedure works disjunct by disjunct (a property holds when some disjunct has an input
in its box that satisfies all its rows) and stops as soon as the answer is known:

1. a cheap attack (:data:`~pyomo_nn.vnnlib.attack.CHEAP`) on every disjunct;
2. bounds from the best solver-free method of the bound engine (symbolic when available) on
   the network extended by one layer holding the property's rows: a disjunct is *refuted*
   when some row is bounded above the margin over its whole box;
3. the LP (triangle) relaxation over the remaining rows, with certified bounds (:mod:`.lp`);
4. the thorough attack on the disjuncts still open;
5. LP bound tightening of the hidden layers (the engine's ``lp`` method) and the LP again,
   where the alpha stage did not run (:data:`TIGHTEN_AFTER_ALPHA`);
6. branch and bound over ReLU phases (:mod:`pyomo_nn.bab`) on all open
   disjuncts at once, for half the time left, when the network is a Dense/ReLU chain, the
   rows read outputs only and many neurons stay split (:data:`BRANCH_AND_BOUND_MIN_SPLITS`);
7. a MILP per open disjunct (stable neurons need no binary), warm-started from
   the best attack point, in parallel processes, each stopping at the first counterexample
   or at the proof that none exists.

Soundness: ``sat`` is printed only for an input that onnxruntime, run on the original ONNX
file, confirms (rounded to float32 inside the box first); ``unsat`` only when every
disjunct is refuted by a certificate (bounds, or a MILP with the margins of
:mod:`pyomo_nn.tolerances`).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np

from pyomo_nn.bab.bounding import BatchBounder
from pyomo_nn.bab.chain import relu_chain
from pyomo_nn.bab.leaf import MilpLeaves
from pyomo_nn.bab.search import BranchAndBoundSearch
from pyomo_nn.bounds import METHODS, Bounds, compute_bounds
from pyomo_nn.bounds.alpha import supports_alpha
from pyomo_nn.domains import Box
from pyomo_nn.errors import InvalidArgumentError, SolverUnavailableError, UnsupportedNetworkError
from pyomo_nn.ir import INPUT, Concat, Dense, Network
from pyomo_nn.result.summary import ANSWERS, number, table
from pyomo_nn.solvers import available_solvers
from pyomo_nn.solvers.backends import HIGHS_NAMES
from pyomo_nn.tolerances import VNNLIB_BOUND_MARGIN
from pyomo_nn.vnnlib.attack import CHEAP, THOROUGH, AttackPlan, falsify
from pyomo_nn.vnnlib.lp import OutputRelaxation
from pyomo_nn.vnnlib.milp import MilpOutcome, MilpTask, run_disjuncts
from pyomo_nn.vnnlib.spec import Disjunct, Specification

#: Solver-free bound stages, cheapest first; ``alpha`` runs only on what ``symbolic`` leaves
#: open, and only where the extended network is a Dense/ReLU chain.
BOUND_STAGES = ("symbolic", "alpha")

#: The engine's method for tightening hidden layers before the MILPs.
TIGHTENING_METHOD = "lp"

#: Whether hidden layers are LP-tightened after alpha bounds. Alpha's optimised slopes reach
#: the LP's bound layer by layer (equal for one hidden layer), so the LPs add next to nothing:
#: on mnist_fc 256x2 (two properties) they leave every bound as it was; on 256x4 and 256x6
#: (five properties) they stabilise 0-3 neurons for 14-87 s of the 300 s timeout, time branch
#: and bound and the MILPs then lack, and narrow the split neurons' bounds by 0-1.2 % on
#: average (three of them measured).
TIGHTEN_AFTER_ALPHA = False

#: Before the hidden layers are tightened, the LP runs only on rows whose symbolic bound is
#: at least ``-LP_REACH``: the LP raises symbolic bounds by a fraction of their size (about
#: 0.1-0.3 on mnist_fc 256x2), so rows far below zero cannot be refuted by it yet, and on
#: the deeper nets those LPs take 5-15 s.
LP_REACH = 1.0

#: Shares of the time left that a stage may use (the MILPs get the rest).
LP_SHARE = 0.1
THOROUGH_ATTACK_SHARE = 0.05
TIGHTENING_SHARE = 0.3
BRANCH_AND_BOUND_SHARE = 0.5

#: Branch and bound runs only when at least this many neurons stay split after tightening:
#: below it one MILP per disjunct does better (mnist_fc 256x2 prop_1_0.03, 142 split: the
#: MILPs prove unsat in 86 s; branch and bound bounded 10,787 branches in 85 s and left a gap
#: of 0.16), above it the MILPs time out (256x4 and 256x6, 348 to 900 split).
BRANCH_AND_BOUND_MIN_SPLITS = 300

#: A short attack that starts from a MILP point which onnxruntime did not confirm.
POLISH = AttackPlan(leaks=(0.0, 0.01), first_steps=(0.01,), restarts=1, steps=30)

#: Seconds kept back from the time limit for writing the answer.
RESERVE_SECONDS = 0.5

#: Name of the layers added to a network to hold a property's rows.
ROWS_LAYER = "vnnlib_rows"
JOINED_LAYER = "vnnlib_outputs_and_inputs"


@dataclass(frozen=True)
class Counterexample:
    """An input (float32 values, inside the disjunct's box) and the outputs onnxruntime
    computes for it, which satisfy disjunct ``disjunct`` of the property."""

    x: np.ndarray
    y: np.ndarray
    disjunct: int


@dataclass(frozen=True)
class PropertyResult:
    """``answer`` is one of :data:`ANSWERS`; ``reason`` says how it was reached.

    ``open_disjuncts`` lists the disjuncts neither refuted nor satisfied (for ``timeout`` /
    ``unknown``); ``rejected_candidates`` counts counterexample candidates that did not
    reproduce on onnxruntime and were therefore not reported.
    """

    answer: str
    reason: str
    seconds: float
    counterexample: Counterexample | None = None
    open_disjuncts: tuple[int, ...] = ()
    rejected_candidates: int = 0
    refuted_by: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.answer not in ANSWERS:
            raise ValueError(f"answer {self.answer!r} is not one of {ANSWERS}")

    def __str__(self) -> str:
        rows = [("answer", self.answer), ("reason", self.reason), ("time", f"{self.seconds:.2f} s")]
        if self.refuted_by:
            rows.append(("refuted", ", ".join(f"{count} by {how}" for how, count in self.refuted_by.items())))
        if self.open_disjuncts:
            rows.append(("open", "disjuncts " + ", ".join(str(k) for k in self.open_disjuncts)))
        if self.rejected_candidates:
            rows.append(("rejected", f"{self.rejected_candidates} candidate(s) not confirmed by onnxruntime"))
        if self.counterexample is not None:
            disjunct = self.counterexample.disjunct
            rows.append(("found", f"counterexample for disjunct {disjunct} (confirmed by onnxruntime)"))
        return "\n".join(table(rows))


def verify_property(
    network: Network,
    spec: Specification,
    timeout: float,
    *,
    solver: str = "highs",
    workers: int | None = None,
    log: Callable[[str], None] | None = None,
    seed: int = 0,
) -> PropertyResult:
    """Decide ``spec`` on ``network`` within ``timeout`` seconds.

    ``workers`` is the number of parallel MILP processes (default: one per core); ``log``
    receives one progress line per step.
    """
    if not timeout > 0:
        raise InvalidArgumentError(f"timeout must be positive seconds, got {timeout!r}")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise InvalidArgumentError(
            f"workers must be a positive integer or None (one per core), got {workers!r}"
        )
    spec.check_fits(network)
    if solver not in HIGHS_NAMES and solver not in available_solvers():
        raise SolverUnavailableError(
            f"solver {solver!r} is not available here; available: {', '.join(available_solvers()) or 'none'}"
        )
    if spec.disjuncts:
        spec.domain()  # refuses unbounded inputs with a clear message
    return _PropertyDecider(network, spec, timeout, solver, workers or os.cpu_count() or 1, log, seed).run()


@dataclass
class _BoxGroup:
    """Disjuncts sharing one input box, with the network extended by their rows."""

    lower: np.ndarray
    upper: np.ndarray
    members: list[int]
    network: Network | None = None
    bounds: Bounds | None = None
    row_owners: list[int] = field(default_factory=list)
    alpha_ran: bool = False


class _Found(Exception):
    """Internal: a confirmed counterexample ends the procedure."""

    def __init__(self, counterexample: Counterexample, how: str) -> None:
        super().__init__(how)
        self.counterexample = counterexample
        self.how = how


class _PropertyDecider:
    def __init__(
        self,
        network: Network,
        spec: Specification,
        timeout: float,
        solver: str,
        workers: int,
        log: Callable[[str], None] | None,
        seed: int,
    ) -> None:
        self.network = network
        self.spec = spec
        self.started = time.perf_counter()
        self.deadline = self.started + timeout - RESERVE_SECONDS
        self.solver = solver
        self.workers = workers
        self.log = log
        self.seed = seed
        self.open = set(range(len(spec.disjuncts)))
        self.undecided: set[int] = set()
        self.best_points: dict[int, np.ndarray] = {}
        self.best_violations: dict[int, float] = {}
        self.refuted_by: Counter[str] = Counter()
        self.rejected = 0
        self.groups = self._box_groups()

    # -- driver ----------------------------------------------------------------------
    def run(self) -> PropertyResult:
        if not self.open:
            return self._result("unsat", "every disjunct of the property contradicts itself")
        try:
            self._attack(CHEAP, "attack (cheap)", self.deadline)
            for method in BOUND_STAGES:
                if self.open:
                    self._bound_stage(method)
            if self.open:
                self._lp_stage("LP relaxation", LP_REACH)
            if self.open:
                self._attack(THOROUGH, "attack (thorough)", self._share(THOROUGH_ATTACK_SHARE))
            if self.open and TIGHTENING_METHOD in METHODS and self._remaining() > 0:
                self._tightening_stage()
            if self.open and self._remaining() > 0:
                self._branch_and_bound_stage()
            if self.open and self._remaining() > 0:
                self._milp_stage()
        except _Found as found:
            return self._result("sat", found.how, found.counterexample)
        if not self.open:
            stages = ", ".join(f"{count} by {stage}" for stage, count in self.refuted_by.items())
            return self._result("unsat", f"all {len(self.spec.disjuncts)} disjuncts refuted ({stages})")
        if self.undecided >= self.open:
            return self._result("unknown", "some disjuncts were neither refuted nor satisfied")
        return self._result("timeout", f"time ran out with {len(self.open)} disjuncts open")

    def _result(
        self, answer: str, reason: str, counterexample: Counterexample | None = None
    ) -> PropertyResult:
        self._say("result", f"{answer}: {reason}")
        return PropertyResult(
            answer=answer,
            reason=reason,
            seconds=time.perf_counter() - self.started,
            counterexample=counterexample,
            open_disjuncts=tuple(sorted(self.open)) if answer != "sat" else (),
            rejected_candidates=self.rejected,
            refuted_by=dict(self.refuted_by),
        )

    def _say(self, stage: str, message: str) -> None:
        if self.log is not None:
            self.log(f"[{time.perf_counter() - self.started:7.2f}s] {stage}: {message}")

    def _remaining(self) -> float:
        return self.deadline - time.perf_counter()

    def _share(self, share: float) -> float:
        """A deadline ``share`` of the time left from now."""
        return time.perf_counter() + share * max(self._remaining(), 0.0)

    # -- attacks and counterexamples -------------------------------------------------------
    def _attack(self, plan: AttackPlan, stage: str, deadline: float) -> None:
        targets = {k: self.spec.disjuncts[k] for k in sorted(self.open)}
        result = falsify(
            self.network, targets, plan, deadline=deadline, starts=self.best_points, seed=self.seed
        )
        for k, value in result.best_violations.items():
            if value < self.best_violations.get(k, np.inf):
                self.best_violations[k] = value
                self.best_points[k] = result.best_points[k]
        best = min(result.best_violations.values(), default=np.inf)
        self._say(
            stage, f"{result.evaluations} evaluations in {result.seconds:.2f}s, best violation {best:.4g}"
        )
        if result.found is not None:
            self._confirm_or_polish(result.counterexample, result.found, stage)

    def _confirm_or_polish(self, x: np.ndarray, disjunct: int, stage: str) -> None:
        """Raise :class:`_Found` if ``x`` (or a point a short attack finds next to it) is a
        counterexample on onnxruntime."""
        confirmed = self._confirm(x, disjunct)
        if confirmed is None:
            polished = falsify(
                self.network,
                {disjunct: self.spec.disjuncts[disjunct]},
                POLISH,
                deadline=min(self.deadline, time.perf_counter() + 5.0),
                target=-VNNLIB_BOUND_MARGIN,
                starts={disjunct: x},
                seed=self.seed,
            )
            if polished.found is not None:
                confirmed = self._confirm(polished.counterexample, disjunct)
        if confirmed is not None:
            raise _Found(
                confirmed,
                f"counterexample from the {stage} (disjunct {confirmed.disjunct}), confirmed by onnxruntime",
            )

    def _confirm(self, x: np.ndarray, disjunct: int) -> Counterexample | None:
        """The counterexample at ``x`` if the reference evaluation confirms it, else None."""
        part = self.spec.disjuncts[disjunct]
        point = float32_inside(x, part.input_lower, part.input_upper)
        if point is not None:
            outputs = reference_outputs(self.network, point)
            satisfied = self.spec.satisfied_disjunct(point, outputs)
            if satisfied is not None:
                return Counterexample(point, outputs, satisfied)
        self.rejected += 1
        self._say(
            "check",
            f"candidate for disjunct {disjunct} does not reproduce on the reference network; rejected",
        )
        return None

    # -- bounds -----------------------------------------------------------------------------
    def _box_groups(self) -> list[_BoxGroup]:
        groups: dict[tuple[bytes, bytes], _BoxGroup] = {}
        for k, disjunct in enumerate(self.spec.disjuncts):
            key = (disjunct.input_lower.tobytes(), disjunct.input_upper.tobytes())
            if key not in groups:
                groups[key] = _BoxGroup(disjunct.input_lower, disjunct.input_upper, [])
            groups[key].members.append(k)
        return list(groups.values())

    def _bound_stage(self, method: str) -> None:
        for group in self.groups:
            members = [k for k in group.members if k in self.open]
            if not members:
                continue
            started = time.perf_counter()
            self._extend(group, members)
            if method == "alpha" and not supports_alpha(group.network):
                self._say(f"bounds ({method})", "skipped: the network is not a Dense/ReLU chain")
                continue
            bounds = compute_bounds(group.network, Box(group.lower, group.upper), method=method)
            group.alpha_ran = group.alpha_ran or method == "alpha"
            group.bounds = _intersect(group.bounds, bounds) if group.bounds is not None else bounds
            rows_lower = group.bounds.lower[-1]
            refuted = self._refute(group, rows_lower, f"{method} bounds")
            splits = [group.bounds.stability(k)[2] for k in range(len(group.bounds.lower) - 2)]
            self._say(
                f"bounds ({method})",
                f"{time.perf_counter() - started:.2f}s, unstable neurons per layer {splits}, "
                f"{refuted} of {len(members)} disjuncts refuted",
            )

    def _lp_stage(self, stage: str, reach: float) -> None:
        """Certified LP bounds of the open rows whose current bound is at least ``-reach``."""
        deadline = self._share(LP_SHARE)
        for group in self.groups:
            members = [k for k in group.members if k in self.open]
            if not members or group.bounds is None:
                continue
            started = time.perf_counter()
            current = group.bounds.lower[-1]
            rows = [
                r for r, owner in enumerate(group.row_owners) if owner in self.open and current[r] >= -reach
            ]
            if not rows:
                self._say(stage, f"skipped: no open row has a bound above {-reach:g}")
                continue
            relaxation = OutputRelaxation(group.network, group.bounds)
            rows_lower = np.full(len(group.row_owners), -np.inf)
            rows_lower[rows] = relaxation.certified_lower_bounds(rows, deadline)
            refuted = self._refute(group, rows_lower, "LP")
            self._say(
                stage,
                f"{len(rows)} rows in {time.perf_counter() - started:.2f}s, {refuted} of {len(members)} "
                "disjuncts refuted",
            )

    def _tightening_stage(self) -> None:
        any_tightened = False
        for group in self.groups:
            members = [k for k in group.members if k in self.open]
            if not members:
                continue
            if group.alpha_ran and not TIGHTEN_AFTER_ALPHA:
                self._say(f"bounds ({TIGHTENING_METHOD})", "skipped: it adds next to nothing to alpha bounds")
                continue
            started = time.perf_counter()
            limit = self._share(TIGHTENING_SHARE) - started
            if limit <= 0:
                return
            self._extend(group, members)
            lp_bounds = compute_bounds(
                group.network, Box(group.lower, group.upper), method=TIGHTENING_METHOD, time_limit=limit
            )
            group.bounds = _intersect(group.bounds, lp_bounds) if group.bounds is not None else lp_bounds
            any_tightened = True
            splits = [group.bounds.stability(k)[2] for k in range(len(group.bounds.lower) - 2)]
            self._say(
                f"bounds ({TIGHTENING_METHOD})",
                f"{time.perf_counter() - started:.2f}s, unstable neurons per layer {splits}",
            )
        if any_tightened:
            self._lp_stage("LP relaxation (tightened)", np.inf)

    def _extend(self, group: _BoxGroup, members: list[int]) -> None:
        """Give ``group`` the network extended by the rows of ``members``."""
        group.network = with_property_rows(self.network, [self.spec.disjuncts[k] for k in members])
        group.row_owners = [k for k in members for _ in range(self.spec.disjuncts[k].num_rows)]

    def _refute(self, group: _BoxGroup, rows_lower: np.ndarray, how: str) -> int:
        """Drop the disjuncts of ``group`` with a row bounded above the margin; returns how many."""
        refuted = 0
        for k in [k for k in group.members if k in self.open]:
            rows = [r for r, owner in enumerate(group.row_owners) if owner == k]
            if max((float(rows_lower[r]) for r in rows), default=-np.inf) >= VNNLIB_BOUND_MARGIN:
                self.open.discard(k)
                self.refuted_by[how] += 1
                refuted += 1
        return refuted

    # -- branch and bound ------------------------------------------------------------------
    def _branch_and_bound_stage(self) -> None:
        """Branch and bound on the open disjuncts of each box group, with
        :data:`BRANCH_AND_BOUND_SHARE` of the time left (the MILPs get the rest)."""
        deadline = self._share(BRANCH_AND_BOUND_SHARE)
        for group in self.groups:
            members = [k for k in group.members if k in self.open]
            if not members or group.bounds is None:
                continue
            disjuncts = [self.spec.disjuncts[k] for k in members]
            if any(d.has_input_terms for d in disjuncts):
                self._say("branch and bound", "skipped: a row reads inputs; MILP instead")
                continue
            try:
                search = property_search(
                    self.network,
                    group.bounds,
                    disjuncts,
                    self.solver,
                    log=partial(self._say, "branch and bound"),
                )
            except UnsupportedNetworkError as error:
                self._say("branch and bound", f"skipped ({error}); MILP instead")
                continue
            if search.bounder.split_count < BRANCH_AND_BOUND_MIN_SPLITS:
                self._say(
                    "branch and bound",
                    f"skipped: {search.bounder.split_count} split neurons, fewer than "
                    f"{BRANCH_AND_BOUND_MIN_SPLITS}; MILP instead",
                )
                continue
            search.run(deadline)
            for index, k in enumerate(members):
                if search.found(index):
                    self._confirm_or_polish(search.state.points[index], k, "branch and bound")
                    self.undecided.add(k)
                elif search.proved(index):
                    self.open.discard(k)
                    self.refuted_by["branch and bound"] += 1

    # -- MILP ------------------------------------------------------------------------------
    def _milp_stage(self) -> None:
        plain_network = replace(self.network, source=None)
        tasks = []
        for group in self.groups:
            if group.bounds is None:
                continue
            bounds = network_bounds(group.bounds, self.network)
            for k in group.members:
                if k in self.open:
                    tasks.append(
                        MilpTask(
                            k,
                            self.spec.disjuncts[k],
                            plain_network,
                            bounds,
                            0.0,
                            self.best_points.get(k),
                            self.solver,
                        )
                    )
        tasks.sort(key=lambda task: self.best_violations.get(task.disjunct_index, np.inf))
        workers = min(self.workers, len(tasks))
        self._say("MILP", f"{len(tasks)} disjuncts on {workers} worker(s), {self._remaining():.1f}s left")
        run_disjuncts(tasks, workers, self.deadline, self._on_milp_outcome)

    def _on_milp_outcome(self, outcome: MilpOutcome) -> bool:
        k = outcome.disjunct_index
        self._say(
            "MILP",
            f"disjunct {k}: {outcome.verdict} after {outcome.seconds:.2f}s, {outcome.message}, "
            f"incumbent {number(outcome.objective)}, dual bound {number(outcome.dual_bound)}",
        )
        if outcome.verdict == "candidate" and outcome.x is not None:
            self._confirm_or_polish(outcome.x, k, "MILP")
            self.undecided.add(k)
        elif outcome.verdict == "refuted":
            self.open.discard(k)
            self.refuted_by["MILP"] += 1
        elif not outcome.timed_out:
            self.undecided.add(k)
        return False


def with_property_rows(network: Network, disjuncts: list[Disjunct]) -> Network:
    """``network`` followed by one Dense layer whose outputs are the rows ``C y + D x - rhs``
    of ``disjuncts`` (the inputs are joined to the outputs first when some row uses them)."""
    output_coefs = np.vstack([d.output_coefs for d in disjuncts])
    input_coefs = np.vstack([d.input_coefs for d in disjuncts])
    rhs = np.concatenate([d.rhs for d in disjuncts])
    last = network.layers[-1].name
    if np.any(input_coefs):
        joined = Concat(JOINED_LAYER, (last, INPUT))
        rows = Dense(ROWS_LAYER, joined.name, np.hstack([output_coefs, input_coefs]), -rhs)
        layers = (*network.layers, joined, rows)
    else:
        layers = (*network.layers, Dense(ROWS_LAYER, last, output_coefs, -rhs))
    return Network(layers, network.input_shape)


def property_search(
    network: Network,
    extended: Bounds,
    disjuncts: list[Disjunct],
    solver: str,
    log: Callable[[str], None] | None,
) -> BranchAndBoundSearch:
    """A branch-and-bound search minimising each disjunct's worst row over its box (a
    problem per disjunct), from the bounds of the network extended by the rows."""
    widest = max(d.num_rows for d in disjuncts)
    rows = np.stack(
        [np.vstack([d.output_coefs] + [d.output_coefs[-1:]] * (widest - d.num_rows)) for d in disjuncts]
    )
    offsets = np.stack(
        [np.concatenate([-d.rhs, np.repeat(-d.rhs[-1:], widest - d.num_rows)]) for d in disjuncts]
    )
    chain = relu_chain(network, rows, offsets)
    bounder = BatchBounder.from_bounds(chain, disjuncts[0].input_lower, disjuncts[0].input_upper, extended)
    return BranchAndBoundSearch(
        bounder,
        np.full(len(disjuncts), VNNLIB_BOUND_MARGIN),
        np.zeros(len(disjuncts)),
        leaf_solver=MilpLeaves(bounder, solver),
        log=log,
    )


def network_bounds(extended: Bounds, network: Network) -> Bounds:
    """The bounds of ``network`` inside those of its extension by :func:`with_property_rows`."""
    return replace(
        extended,
        lower=extended.lower[:-1],
        upper=extended.upper[:-1],
        layer_names=extended.layer_names[:-1],
        fingerprint=network.fingerprint(),
        layer_seconds=None,
    )


def _intersect(old: Bounds, new: Bounds) -> Bounds:
    """Both bounds are valid, so their intersection is: every layer but the rows layer (which
    may hold other rows in ``old``) is intersected, the rows come from ``new``."""
    if old.layer_names != new.layer_names:
        return new
    return replace(
        new,
        lower=(
            *(np.maximum(a, b) for a, b in zip(old.lower[:-1], new.lower[:-1], strict=True)),
            new.lower[-1],
        ),
        upper=(
            *(np.minimum(a, b) for a, b in zip(old.upper[:-1], new.upper[:-1], strict=True)),
            new.upper[-1],
        ),
    )


def float32_inside(x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray | None:
    """``x`` rounded to float32 values that lie inside [lower, upper] (as float64), or None
    if some box is too narrow to hold a float32 value."""
    point = np.asarray(x, dtype=np.float64).astype(np.float32)
    high = point.astype(np.float64) > upper
    point[high] = np.nextafter(point[high], np.float32(-np.inf))
    low = point.astype(np.float64) < lower
    point[low] = np.nextafter(point[low], np.float32(np.inf))
    result = point.astype(np.float64)
    if np.any(result < lower) or np.any(result > upper):
        return None
    return result


def reference_outputs(network: Network, x: np.ndarray) -> np.ndarray:
    """Outputs at ``x`` by onnxruntime on the original file (numpy for a network built in code)."""
    if network.source is not None:
        return network.source.run(x)[0]
    return network.forward(x)
