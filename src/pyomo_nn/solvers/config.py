"""``SolverConfig``: which solver and how long, from arguments or a TOML file."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pyomo_nn.errors import SolverConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

#: Time limit applied when the caller gives none: every solve ends, with a partial result.
DEFAULT_TIME_LIMIT = 600.0


@dataclass(frozen=True)
class SolverConfig:
    """Solver name (any Pyomo solver), time limit in seconds, relative MIP gap, threads and
    free-form solver options passed through unchanged."""

    name: str = "highs"
    time_limit: float | None = DEFAULT_TIME_LIMIT
    mip_gap: float | None = None
    threads: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SolverConfigError(f"solver name must be a non-empty string, got {self.name!r}")
        if self.time_limit is not None and not self.time_limit > 0:
            raise SolverConfigError(f"time_limit must be positive seconds, got {self.time_limit!r}")
        if self.mip_gap is not None and not self.mip_gap >= 0:
            raise SolverConfigError(f"mip_gap must be >= 0, got {self.mip_gap!r}")
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise SolverConfigError(f"threads must be a positive integer, got {self.threads!r}")
        if not isinstance(self.options, Mapping):
            raise SolverConfigError(f"options must be a table of solver options, got {self.options!r}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SolverConfig:
        """Build from a dict such as a parsed TOML table; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SolverConfigError(f"unknown solver setting(s) {unknown}; known settings: {sorted(known)}")
        return cls(**dict(values))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> SolverConfig:
        """Read a TOML file: keys at top level or under ``[solver]``, options under ``[solver.options]``.

        Example::

            [solver]
            name = "cbc"
            time_limit = 120
            mip_gap = 1e-4
            [solver.options]
            presolve = "on"
        """
        file = Path(path)
        try:
            data = tomllib.loads(file.read_text())
        except FileNotFoundError:
            raise SolverConfigError(f"solver config file not found: {file}") from None
        except tomllib.TOMLDecodeError as error:
            raise SolverConfigError(f"{file} is not valid TOML: {error}") from error
        table = data.get("solver", data)
        if not isinstance(table, Mapping):
            raise SolverConfigError(f"{file}: [solver] must be a table")
        return cls.from_mapping(table)
