"""One command for the thesis study (issue 17).

    python benchmarks/thesis/run.py train       # the 28 networks -> benchmarks/thesis/nets/
    python benchmarks/thesis/run.py chapter2    # rounding and bounds -> benchmarks/thesis/results/
    python benchmarks/thesis/run.py timelimit   # MILP budgets 60 s / 240 s on 200x5 at eps 0.04 (~30 min)
    python benchmarks/thesis/run.py summary     # the tables of docs/thesis.md from the CSVs
    python benchmarks/thesis/run.py chapter4    # maxdiff, mineps and their figures (hours; see chapter4.py)
    python benchmarks/thesis/run.py all         # train, chapter2, timelimit, chapter4, summary

``train`` keeps networks whose file matches ``nets/manifest.csv`` (so a second run is quick);
``--force`` retrains. Arguments after the step go to its script (``train.py --help``,
``chapter2.py --help``; ``chapter4 maxdiff --help``). Needs the ``train`` extra (torch):
``pip install -e ".[train]"``; the chapter-4 figures need the ``plots`` extra (matplotlib).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import chapter2
import chapter4
import summary
import train


def timelimit(argv: list[str]) -> None:
    """The thesis' time-limit experiment (2.3.4) at our scale: 200x5, lambda 2e-4, L1 and L2,
    eps 0.04, with MILP budgets of 60 s and 240 s split over the layers as 2^m."""
    for budget, minutes in ((60, 12), (240, 20)):
        chapter2.main(
            [
                "--skip-rounding",
                "--bounds-shapes",
                "200x5",
                "--bounds-configs",
                "l1-2e-04@0.04",
                "l2-2e-04@0.04",
                "--milp-budget",
                str(budget),
                "--budget-minutes",
                str(minutes),
                "--tag",
                f"_timelimit{budget}",
                *argv,
            ]
        )


def chapter4_step(argv: list[str]) -> None:
    """The thesis' chapter 4: ``chapter4.py all`` (every pair and class, 40 pruning levels x 10
    digits), or one of its parts: ``run.py chapter4 maxdiff --pairs 800x2:200x5 ...``."""
    chapter4.main(argv if argv and argv[0] in ("maxdiff", "mineps", "figures", "all") else ["all", *argv])


STEPS = {
    "train": train.main,
    "chapter2": chapter2.main,
    "timelimit": timelimit,
    "chapter4": chapter4_step,
    "summary": summary.main,
}


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in (*STEPS, "all"):
        raise SystemExit(__doc__)
    step, rest = argv[0], argv[1:]
    if step == "all":
        train.main([])
        chapter2.main([])
        timelimit([])
        chapter4_step([])
        summary.main([])
    else:
        STEPS[step](rest)


if __name__ == "__main__":
    main(sys.argv[1:])
